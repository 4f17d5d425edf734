//! AuthService: member tokens and "who am I".

use std::time::Duration;

use atone_api::convert::timestamp;
use atone_api::v1::auth_service_server::AuthService;
use atone_api::v1::{
    IssueMemberTokenRequest, IssueMemberTokenResponse, WhoAmIRequest, WhoAmIResponse,
};
use atone_auth::{Authenticator, Caller, Scope};
use atone_domain::validate;
use chrono::DateTime;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct AuthApi {
    auth: Authenticator,
}

impl AuthApi {
    pub fn new(auth: Authenticator) -> Self {
        Self { auth }
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn issue_member_token(
        &self,
        request: Request<IssueMemberTokenRequest>,
    ) -> Result<Response<IssueMemberTokenResponse>, Status> {
        Caller::of(&request)?.require(Scope::Purchases)?;
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(|e| Status::invalid_argument(e.to_string()))?;
        if r.ttl_seconds < 0 {
            return Err(Status::invalid_argument(format!(
                "ttl_seconds: {} is negative; 0 means the longest allowed",
                r.ttl_seconds
            )));
        }
        let tokens = self.auth.tokens().ok_or_else(|| {
            Status::failed_precondition(
                "member tokens are not configured: start atone with --token-secret",
            )
        })?;
        let ttl = match r.ttl_seconds {
            0 => tokens.max_ttl,
            seconds => Duration::from_secs(seconds.unsigned_abs()),
        };
        let (token, exp) = tokens.issue(&r.user_id, ttl).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a member token");
            Status::internal("internal error")
        })?;
        let expires_at =
            DateTime::from_timestamp(i64::try_from(exp).unwrap_or(i64::MAX), 0).map(timestamp);
        Ok(Response::new(IssueMemberTokenResponse {
            token,
            expires_at,
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (kind, id, scopes) = match caller {
            Caller::Unrestricted => (
                "unrestricted",
                String::new(),
                Scope::ALL.iter().map(|s| s.to_string()).collect(),
            ),
            Caller::Key { id, scopes } => (
                "api-key",
                id.clone(),
                scopes.iter().map(|s| s.to_string()).collect(),
            ),
            Caller::Member { user_id } => ("member", user_id.clone(), Vec::new()),
        };
        Ok(Response::new(WhoAmIResponse {
            kind: kind.to_owned(),
            id,
            scopes,
        }))
    }
}
