//! API keys: a JSON file of `{"keys": [{"id", "secret_sha256", "scopes"}]}`, read at start and
//! again on SIGHUP. A caller presents `Bearer <id>.<secret>`; the file holds only the
//! secret's SHA-256, so the file is not itself a credential.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Caller, Scope};

/// One entry of the keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Names the key in logs and errors; the part of the credential before the dot.
    pub id: String,
    /// The SHA-256 of the secret, in hex.
    pub secret_sha256: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    keys: Vec<ApiKey>,
}

/// The keys as one read of the file found them.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, ([u8; 32], Vec<Scope>)>,
}

impl KeySet {
    /// Parses a keys file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = serde_json::from_str(text).map_err(|e| format!("not a keys file: {e}"))?;
        let mut keys = HashMap::new();
        for key in file.keys {
            if key.id.is_empty() || key.id.contains('.') {
                return Err(format!(
                    "key id {:?}: must be non-empty and without a dot",
                    key.id
                ));
            }
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&key.secret_sha256, &mut hash)
                .map_err(|_| format!("key {}: secret_sha256 is not 64 hex digits", key.id))?;
            if keys.insert(key.id.clone(), (hash, key.scopes)).is_some() {
                return Err(format!("key id {} appears twice", key.id));
            }
        }
        Ok(Self { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The caller `bearer` (`<id>.<secret>`) is, if it is one of these keys.
    pub fn verify(&self, bearer: &str) -> Option<Caller> {
        let (id, secret) = bearer.split_once('.')?;
        let (hash, scopes) = self.keys.get(id)?;
        let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        bool::from(presented.ct_eq(hash)).then(|| Caller::Key {
            id: id.to_owned(),
            scopes: scopes.clone(),
        })
    }
}

/// The keys file, and the keys it held when last read.
#[derive(Debug)]
pub struct KeyFile {
    path: PathBuf,
    set: ArcSwap<KeySet>,
}

impl KeyFile {
    /// Reads `path`; fails if it cannot be read or parsed.
    pub fn load(path: impl Into<PathBuf>) -> Result<Arc<Self>, String> {
        let path = path.into();
        let set = read(&path)?;
        Ok(Arc::new(Self {
            path,
            set: ArcSwap::from_pointee(set),
        }))
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.set.load_full()
    }

    /// Reads the file again. A file that no longer parses keeps the keys read before (and
    /// says so), rather than locking every caller out.
    pub fn reload(&self) -> Result<usize, String> {
        let set = read(&self.path)?;
        let n = set.len();
        self.set.store(Arc::new(set));
        Ok(n)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read(path: &Path) -> Result<KeySet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the API keys file {}: {e}", path.display()))?;
    KeySet::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// 32 random bytes, hex: a key's secret, or a secret to sign member tokens with.
pub fn new_secret() -> Result<String, String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex::encode(secret))
}

/// A new key: its file entry, and the credential to give to the service (shown once).
pub fn new_api_key(id: &str, scopes: Vec<Scope>) -> Result<(ApiKey, String), String> {
    let secret = new_secret()?;
    let entry = ApiKey {
        id: id.to_owned(),
        secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        scopes,
    };
    Ok((entry, format!("{id}.{secret}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(entries: &[ApiKey]) -> String {
        serde_json::json!({ "keys": entries }).to_string()
    }

    #[test]
    fn a_key_verifies_only_with_its_secret() {
        let (entry, credential) = new_api_key("shop", vec![Scope::Purchases]).unwrap();
        let set = KeySet::parse(&file_with(&[entry])).unwrap();
        assert_eq!(
            set.verify(&credential),
            Some(Caller::Key {
                id: "shop".into(),
                scopes: vec![Scope::Purchases]
            })
        );
        let (id, secret) = credential.split_once('.').unwrap();
        assert_eq!(set.verify(&format!("{id}.{secret}x")), None);
        assert_eq!(set.verify(&format!("other.{secret}")), None);
        assert_eq!(set.verify(secret), None);
    }

    #[test]
    fn a_bad_file_is_refused_with_what_is_wrong() {
        assert!(KeySet::parse("not json").is_err());
        let bad_hash = r#"{"keys": [{"id": "a", "secret_sha256": "xyz", "scopes": []}]}"#;
        assert!(
            KeySet::parse(bad_hash)
                .unwrap_err()
                .contains("64 hex digits")
        );
        let bad_scope = r#"{"keys": [{"id": "a", "secret_sha256": "00", "scopes": ["root"]}]}"#;
        assert!(KeySet::parse(bad_scope).is_err());
    }
}
