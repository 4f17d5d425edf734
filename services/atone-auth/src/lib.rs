//! Who is calling, and what they may do.
//!
//! Callers present a bearer credential in the `authorization` metadata (gRPC and gRPC-Web
//! alike): an **API key** (`<id>.<secret>`) of a service, whose entry in the keys file holds
//! the SHA-256 of the secret (never the secret) and its [`Scope`]s, or a **member token**, a
//! short-lived JWT (HS256) whose `sub` is the one member it may read. The [`Authenticator`]
//! turns metadata into a [`Caller`]; each service asks the caller for what a call needs.
//! With no keys file, authentication is off and every caller is [`Caller::Unrestricted`].

mod keys;
mod need;
mod scope;
mod token;

use std::sync::Arc;

use tonic::Status;
use tonic::metadata::MetadataMap;

pub use keys::{ApiKey, KeyFile, KeySet, new_api_key, new_secret};
pub use need::Need;
pub use scope::Scope;
pub use token::{MemberTokens, TokenError};

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Authentication is off: any call is allowed (atone then serves on loopback only).
    Unrestricted,
    /// A service, by its API key.
    Key { id: String, scopes: Vec<Scope> },
    /// A member, by a member token: may read that member only.
    Member { user_id: String },
}

impl Caller {
    /// Allows the call if the caller has `scope` (or `admin`, which has every scope).
    pub fn require(&self, scope: Scope) -> Result<(), Status> {
        match self {
            Self::Unrestricted => Ok(()),
            Self::Key { scopes, .. }
                if scopes.contains(&scope) || scopes.contains(&Scope::Admin) =>
            {
                Ok(())
            }
            Self::Key { id, .. } => Err(Status::permission_denied(format!(
                "API key {id} lacks the {scope} scope this call needs"
            ))),
            Self::Member { .. } => Err(Status::permission_denied(format!(
                "a member token only reads its member; this call needs the {scope} scope"
            ))),
        }
    }

    /// Allows reading `user_id`: the `read` scope, or a member token for that member.
    pub fn require_read(&self, user_id: &str) -> Result<(), Status> {
        match self {
            Self::Member { user_id: own } if own == user_id => Ok(()),
            Self::Member { .. } => Err(Status::permission_denied(
                "this member token is for another member",
            )),
            other => other.require(Scope::Read),
        }
    }

    /// The caller of `request`, as the authentication interceptor left it. A request that
    /// never went through the interceptor is refused (fail closed).
    pub fn of<T>(request: &tonic::Request<T>) -> Result<&Caller, Status> {
        request.extensions().get::<Caller>().ok_or_else(|| {
            tracing::error!("a request reached a service without the authentication interceptor");
            Status::internal("internal error")
        })
    }
}

/// Authentication: the API keys (reloadable) and the member tokens.
#[derive(Clone)]
pub struct Authenticator {
    keys: Option<Arc<KeyFile>>,
    tokens: Option<MemberTokens>,
}

impl Authenticator {
    /// Authentication off: every caller is unrestricted.
    pub fn off() -> Self {
        Self {
            keys: None,
            tokens: None,
        }
    }

    /// Authentication on, with the keys of `keys` and (if configured) member tokens.
    pub fn new(keys: Arc<KeyFile>, tokens: Option<MemberTokens>) -> Self {
        Self {
            keys: Some(keys),
            tokens,
        }
    }

    pub fn is_on(&self) -> bool {
        self.keys.is_some()
    }

    /// The keys file, when authentication is on.
    pub fn keys(&self) -> Option<&Arc<KeyFile>> {
        self.keys.as_ref()
    }

    pub fn tokens(&self) -> Option<&MemberTokens> {
        self.tokens.as_ref()
    }

    /// The caller a request's metadata names. No credential, or one that does not verify
    /// (unknown or revoked key, wrong secret, expired or tampered token) →
    /// `UNAUTHENTICATED`.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        self.authenticate_headers(metadata.as_ref())
    }

    /// The same from HTTP headers: what the server checks before it reads a body.
    pub fn authenticate_headers(
        &self,
        headers: &tonic::codegen::http::HeaderMap,
    ) -> Result<Caller, Status> {
        let Some(keys) = &self.keys else {
            return Ok(Caller::Unrestricted);
        };
        let bearer = bearer(headers)?;
        if let Some(caller) = keys.current().verify(bearer) {
            return Ok(caller);
        }
        if let Some(tokens) = &self.tokens
            && let Some(result) = tokens.verify(bearer)
        {
            return result
                .map(|user_id| Caller::Member { user_id })
                .map_err(|e| Status::unauthenticated(format!("member token refused: {e}")));
        }
        Err(Status::unauthenticated(
            "the credential is not a valid API key or member token",
        ))
    }

    /// A tonic interceptor that puts the caller into each request's extensions.
    pub fn interceptor(
        &self,
    ) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, Status> + Clone + use<> {
        let auth = self.clone();
        move |mut request: tonic::Request<()>| {
            // The server authenticated the call from its headers already; a request that
            // did not pass there is authenticated here (fail closed).
            if request.extensions().get::<Caller>().is_some() {
                return Ok(request);
            }
            let caller = auth
                .authenticate(request.metadata())
                .inspect_err(|status| {
                    tracing::debug!(
                        message = status.message(),
                        "request refused: not authenticated"
                    );
                })?;
            request.extensions_mut().insert(caller);
            Ok(request)
        }
    }
}

/// The bearer credential of `authorization`.
fn bearer(headers: &tonic::codegen::http::HeaderMap) -> Result<&str, Status> {
    let value = headers
        .get("authorization")
        .ok_or_else(|| {
            Status::unauthenticated(
                "no credential: send `authorization: Bearer <API key or member token>`",
            )
        })?
        .to_str()
        .map_err(|_| Status::unauthenticated("the authorization metadata is not text"))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            Status::unauthenticated("the authorization metadata is not `Bearer <credential>`")
        })
}
