//! Member tokens: a JWT (HS256) with `sub` = the user id, `exp` a few minutes ahead, and
//! `iss` = "atone". A member token reads its member and nothing else.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "atone";
/// The shortest secret accepted: HS256 wants at least as many bytes as its hash.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    #[error("{0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// Issues and verifies member tokens with one secret.
#[derive(Clone)]
pub struct MemberTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The longest a token may live.
    pub max_ttl: Duration,
}

impl std::fmt::Debug for MemberTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberTokens")
            .field("max_ttl", &self.max_ttl)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl MemberTokens {
    pub fn new(secret: &[u8], max_ttl: Duration) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::SecretTooShort);
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            max_ttl,
        })
    }

    /// A token for `user_id`, valid for `ttl` (at most `max_ttl`); with its expiry (Unix
    /// seconds).
    pub fn issue(&self, user_id: &str, ttl: Duration) -> Result<(String, u64), TokenError> {
        let iat = now_secs();
        let exp = iat + ttl.min(self.max_ttl).as_secs().max(1);
        let claims = Claims {
            sub: user_id.to_owned(),
            iss: ISSUER.to_owned(),
            iat,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, exp))
    }

    /// `None` if `bearer` does not look like a JWT at all (it may be an API key); else the
    /// member it is for, or why it is refused (expired, tampered, another issuer).
    pub fn verify(&self, bearer: &str) -> Option<Result<String, TokenError>> {
        if bearer.split('.').count() != 3 {
            return None;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 0;
        Some(
            jsonwebtoken::decode::<Claims>(bearer, &self.decoding, &validation)
                .map(|data| data.claims.sub)
                .map_err(TokenError::from),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> MemberTokens {
        MemberTokens::new(&[7u8; 32], Duration::from_secs(3600)).unwrap()
    }

    #[test]
    fn a_token_names_its_member_until_it_expires() {
        let (token, exp) = tokens().issue("alice", Duration::from_secs(60)).unwrap();
        assert!(exp > now_secs());
        assert_eq!(tokens().verify(&token).unwrap().unwrap(), "alice");
        let other = MemberTokens::new(&[8u8; 32], Duration::from_secs(60)).unwrap();
        assert!(
            other.verify(&token).unwrap().is_err(),
            "another secret's token"
        );
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'x');
        assert!(tokens().verify(&tampered).unwrap().is_err());
        assert!(tokens().verify("shop.0123").is_none(), "not a JWT");
        assert!(MemberTokens::new(b"short", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let claims = Claims {
            sub: "alice".into(),
            iss: ISSUER.into(),
            iat: now_secs() - 120,
            exp: now_secs() - 60,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]).unwrap(),
        )
        .unwrap();
        assert!(tokens().verify(&token).unwrap().is_err());
    }
}
