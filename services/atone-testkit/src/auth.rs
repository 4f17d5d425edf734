//! Authentication for tests: a keys file with one key per scope, a token secret, and
//! clients that present a credential.

use std::collections::BTreeMap;
use std::path::PathBuf;

use atone::Settings;
use atone_api::tonic::metadata::{Ascii, MetadataValue};
use atone_api::tonic::service::Interceptor;
use atone_api::tonic::{Request, Status};
use atone_auth::Scope;

/// The token secret tests sign member tokens with.
pub const TEST_TOKEN_SECRET: &str = "atone-test-token-secret-0123456789abcdef";

/// A keys file (in a temporary directory) with a key per scope, named after it.
pub struct TestKeys {
    pub path: PathBuf,
    /// The credential of each scope's key.
    pub credentials: BTreeMap<Scope, String>,
    _dir: tempfile::TempDir,
}

impl TestKeys {
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut entries = Vec::new();
        let mut credentials = BTreeMap::new();
        for scope in Scope::ALL {
            let (entry, credential) =
                atone_auth::new_api_key(&format!("{scope}-key"), vec![scope]).expect("a key");
            entries.push(entry);
            credentials.insert(scope, credential);
        }
        let path = dir.path().join("api-keys.json");
        Self::write(&path, &entries);
        Self {
            path,
            credentials,
            _dir: dir,
        }
    }

    fn write(path: &std::path::Path, entries: &[atone_auth::ApiKey]) {
        let text = serde_json::json!({ "keys": entries }).to_string();
        std::fs::write(path, text).expect("write the keys file");
    }

    /// Rewrites the file without the key of `scope` (the others stay valid).
    pub fn revoke(&self, scope: Scope) {
        let text = std::fs::read_to_string(&self.path).expect("read the keys file");
        let mut file: serde_json::Value = serde_json::from_str(&text).expect("keys file");
        let id = format!("{scope}-key");
        if let Some(keys) = file["keys"].as_array_mut() {
            keys.retain(|k| k["id"] != id.as_str());
        }
        std::fs::write(&self.path, file.to_string()).expect("write the keys file");
    }

    pub fn credential(&self, scope: Scope) -> &str {
        &self.credentials[&scope]
    }

    /// Configures atone to authenticate with these keys and the test token secret.
    pub fn configure(&self) -> impl FnOnce(&mut Settings) + use<> {
        let path = self.path.clone();
        move |settings| {
            settings.auth.api_keys = Some(path);
            settings.auth.token_secret = Some(TEST_TOKEN_SECRET.to_owned());
        }
    }
}

/// An interceptor that presents `Bearer <credential>` (or nothing).
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn new(credential: &str) -> Self {
        Self(Some(
            format!("Bearer {credential}")
                .parse()
                .expect("a credential is ASCII"),
        ))
    }

    pub fn none() -> Self {
        Self(None)
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}
