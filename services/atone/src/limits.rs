//! What one caller may hold of the process, decided from a request's headers before its
//! body is read or decoded.
//!
//! - **Credentials first.** A call to a known method is authenticated and checked for its
//!   scope from its headers: a caller without the right credential is answered at once
//!   (UNAUTHENTICATED, PERMISSION_DENIED) and holds nothing while its body arrives.
//! - **In flight.** `--max-in-flight` calls at once; past it, UNAVAILABLE at once. Health
//!   checks, reflection and `admin` callers have a reserved lane beyond it (a sixteenth
//!   more, at least 4), so an operator can still look at a saturated process.
//! - **Shares.** One connection, one credential (an API key, a member), and all callers
//!   without one together (the page, the webhook) may each hold at most
//!   `--max-in-flight-per-caller` calls (256 of the 1,024 by default); past it,
//!   RESOURCE_EXHAUSTED (HTTP 429).
//! - **Bodies.** Each body is held to `--max-request-bytes` and must arrive whole within
//!   `--body-timeout` (`body_limit`).
//! - **Cancellation.** Each call runs on a task of its own holding its slot: a client that
//!   goes away drops only the wait for the answer, never a database query half done.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use atone_auth::{Authenticator, Caller, Need, Scope};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::codegen::http::header::{CONTENT_TYPE, RETRY_AFTER};
use tonic::codegen::http::{HeaderValue, Request, Response, StatusCode};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::{Layer, Service};

use crate::methods::{self, Method};

#[derive(Clone)]
pub struct Limits {
    inner: Arc<Inner>,
}

struct Inner {
    auth: Authenticator,
    permits: Arc<Semaphore>,
    /// The reserved lane: health, reflection and `admin` callers, once `permits` is used up.
    reserved: Arc<Semaphore>,
    shares: Arc<Shares>,
    max_request_bytes: usize,
    max_file_bytes: usize,
    body_timeout: Duration,
}

impl Limits {
    pub fn new(settings: &crate::server::ServerSettings, auth: Authenticator) -> Self {
        let max = settings.max_in_flight.max(1);
        Self {
            inner: Arc::new(Inner {
                auth,
                permits: Arc::new(Semaphore::new(max)),
                reserved: Arc::new(Semaphore::new((max / 16).max(4))),
                shares: Arc::new(Shares {
                    cap: settings.max_in_flight_per_caller.clamp(1, max),
                    held: Mutex::default(),
                }),
                max_request_bytes: settings.max_request_bytes,
                max_file_bytes: settings.max_file_bytes.max(settings.max_request_bytes),
                body_timeout: settings.body_timeout,
            }),
        }
    }
}

impl<S> Layer<S> for Limits {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited {
            inner,
            limits: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Limits,
}

/// The method a request calls, put in its extensions for the layers inside (metrics).
#[derive(Clone, Copy)]
pub struct Called(pub &'static Method);

impl<S> Service<Request<Body>> for Limited<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let limits = &self.limits.inner;
        let method = methods::lookup(request.uri().path());
        let caller = match admit(&limits.auth, method, &request) {
            Ok(caller) => caller,
            Err(refusal) => return ready(refusal.answer(&request)),
        };
        let holders = holders(&request, caller.as_ref());
        let Some(share) = limits.shares.take(holders) else {
            return ready(Refusal::Share.answer(&request));
        };
        let lane =
            method.is_some_and(|m| m.need == Need::Open) || caller.as_ref().is_some_and(is_admin);
        let permit = limits.permits.clone().try_acquire_owned().or_else(|e| {
            if lane {
                limits.reserved.clone().try_acquire_owned()
            } else {
                Err(e)
            }
        });
        let Ok(permit) = permit else {
            tracing::debug!(path = %request.uri().path(), "request shed: atone is saturated");
            return ready(Refusal::Saturated.answer(&request));
        };
        if let Some(method) = method {
            request.extensions_mut().insert(Called(method));
        }
        if let Some(caller) = caller {
            request.extensions_mut().insert(caller);
        }
        let grpc = is_binary_grpc(&request);
        let within = (!method.is_some_and(|m| m.client_streaming)).then_some(limits.body_timeout);
        let limit = if method.is_some_and(|m| m.carries_file) {
            limits.max_file_bytes
        } else {
            limits.max_request_bytes
        };
        let request = request
            .map(|body| Body::new(crate::body_limit::Limited::new(body, limit, grpc, within)));
        let future = self.inner.call(request);
        // The call runs on a task of its own, holding its slot until it is done. A client
        // that goes away (its deadline, a reset stream, the request timeout) drops only
        // the wait for the answer: a database query or transaction is never dropped half
        // done, which would strand its pooled connection (sqlx tests a returned connection
        // with a ping that never answers after a cancelled write).
        let call = tokio::spawn(async move {
            let response = future.await;
            drop((permit, share));
            response
        });
        Box::pin(async move {
            match call.await {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(error = %e, "a call's task failed");
                    Ok(tonic::Status::internal("internal error").into_http())
                }
            }
        })
    }
}

fn ready<E: Send + 'static>(
    response: Response<Body>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, E>> + Send>> {
    Box::pin(async move { Ok(response) })
}

/// Who calls, from the headers: `None` for a caller without a credential on a route that
/// needs none (the page, the webhook, health). A call to a known method that its
/// credential does not allow is refused here, before its body is read.
fn admit(
    auth: &Authenticator,
    method: Option<&Method>,
    request: &Request<Body>,
) -> Result<Option<Caller>, Refusal> {
    let headers = request.headers();
    match method.map(|m| m.need) {
        Some(Need::Open) | None => Ok(auth.authenticate_headers(headers).ok()),
        Some(need) => {
            let caller = auth
                .authenticate_headers(headers)
                .map_err(Refusal::Status)?;
            need.allows(&caller).map_err(Refusal::Status)?;
            Ok(Some(caller))
        }
    }
}

fn is_admin(caller: &Caller) -> bool {
    matches!(caller, Caller::Key { scopes, .. } if scopes.contains(&Scope::Admin))
}

/// Whom a call counts against: its connection, and its credential (or, without one, the
/// callers without one).
fn holders(request: &Request<Body>, caller: Option<&Caller>) -> Vec<Holder> {
    let mut holders = Vec::with_capacity(2);
    let extensions = request.extensions();
    let peer = extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|tls| tls.get_ref().remote_addr())
        });
    if let Some(peer) = peer {
        holders.push(Holder::Connection(peer));
    }
    match caller {
        Some(Caller::Key { id, .. }) => holders.push(Holder::Key(id.clone())),
        Some(Caller::Member { user_id }) => holders.push(Holder::Member(user_id.clone())),
        Some(Caller::Unrestricted) => {}
        None => holders.push(Holder::Anonymous),
    }
    holders
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    Connection(SocketAddr),
    Key(String),
    Member(String),
    Anonymous,
}

/// Calls in flight per holder, each at most `cap`.
struct Shares {
    cap: usize,
    held: Mutex<HashMap<Holder, usize>>,
}

impl Shares {
    /// A share for each of `holders`, or none if one of them has its whole share.
    fn take(self: &Arc<Self>, holders: Vec<Holder>) -> Option<Share> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if holders
            .iter()
            .any(|h| held.get(h).is_some_and(|&n| n >= self.cap))
        {
            return None;
        }
        for holder in &holders {
            *held.entry(holder.clone()).or_default() += 1;
        }
        Some(Share {
            shares: self.clone(),
            holders,
        })
    }
}

/// Held while a call runs; gives its shares back when dropped.
struct Share {
    shares: Arc<Shares>,
    holders: Vec<Holder>,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = self.shares.held.lock().unwrap_or_else(|e| e.into_inner());
        for holder in &self.holders {
            if let Some(n) = held.get_mut(holder) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.remove(holder);
                }
            }
        }
    }
}

/// Why a call was answered before it was handled.
enum Refusal {
    Status(tonic::Status),
    Saturated,
    Share,
}

impl Refusal {
    const SATURATED: &str = "atone is saturated; retry in a moment";
    const SHARE: &str = "this caller or connection has its whole share of atone's calls in flight; retry in a moment";

    /// The answer in the caller's protocol: gRPC (and gRPC-Web) a status, JSON an error
    /// object, anything else (the page, the webhook) an HTTP status; a provider retries
    /// its webhook on 429 and 503 (a 200 would tell it the payment arrived).
    fn answer(self, request: &Request<Body>) -> Response<Body> {
        let status = match self {
            Refusal::Status(status) => status,
            Refusal::Saturated => tonic::Status::unavailable(Self::SATURATED),
            Refusal::Share => tonic::Status::resource_exhausted(Self::SHARE),
        };
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/grpc") {
            return status.into_http();
        }
        if content_type.starts_with("application/json")
            && request.uri().path() != crate::webhook::PATH
        {
            return crate::json::json_error(status.code(), status.message()).map(Body::new);
        }
        let code = match status.code() {
            tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
            tonic::Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        let mut response = Response::new(Body::new(format!("{}\n", status.message())));
        *response.status_mut() = code;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}

/// Whether the body is length-prefixed gRPC messages (gRPC, binary gRPC-Web; not the
/// base64 of gRPC-Web text).
fn is_binary_grpc(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/grpc") && !ct.starts_with("application/grpc-web-text")
        })
}
