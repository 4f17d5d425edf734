//! `WebhookService`: registering, listing, disabling and replaying endpoints, and their
//! delivery log (the admin scope).

use atone_api::convert::timestamp;
use atone_api::v1::webhook_service_server::WebhookService;
use atone_api::v1::*;
use atone_auth::{Caller, Scope};
use atone_storage::webhooks::{self, Endpoint};
use atone_storage::{DatabaseConnection, StorageError, event_log};
use chrono::Utc;
use tonic::{Request, Response, Status};

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;
const MAX_URL_BYTES: usize = 2048;
/// Endpoints in all, enabled or not: each enabled one is a task reading the event store.
pub const MAX_ENDPOINTS: usize = 100;

#[derive(Clone)]
pub struct WebhookApi {
    db: DatabaseConnection,
}

impl WebhookApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn shown(&self, endpoint: &Endpoint) -> Result<WebhookEndpoint, Status> {
        let last = event_log::last_position(&self.db).await.map_err(storage)?;
        Ok(shown(endpoint, last))
    }

    async fn existing(&self, endpoint_id: &str) -> Result<Endpoint, Status> {
        webhooks::get(&self.db, endpoint_id)
            .await
            .map_err(storage)?
            .ok_or_else(|| Status::not_found(format!("no webhook endpoint {endpoint_id:?}")))
    }
}

fn storage(e: StorageError) -> Status {
    tracing::error!(error = %e, "webhook endpoints");
    Status::unavailable(format!("the database did not answer: {e}"))
}

fn invalid(field: &str, reason: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {reason}"))
}

fn shown(e: &Endpoint, last: i64) -> WebhookEndpoint {
    WebhookEndpoint {
        endpoint_id: e.endpoint_id.clone(),
        url: e.url.clone(),
        event_types: e.event_types.clone(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
        after_position: e.after_position,
        lag: (last - e.after_position).max(0),
        failing_since: e.failing_since.map(timestamp),
        created_at: Some(timestamp(e.created_at)),
    }
}

fn check_id(endpoint_id: &str) -> Result<(), Status> {
    let fine = (1..=64).contains(&endpoint_id.len())
        && endpoint_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(invalid(
            "endpoint_id",
            format!("{endpoint_id:?} is not 1 to 64 of A-Z a-z 0-9 . _ -"),
        ))
    }
}

fn check_url(url: &str) -> Result<(), Status> {
    if url.len() > MAX_URL_BYTES {
        return Err(invalid("url", format!("longer than {MAX_URL_BYTES} bytes")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid("url", format!("{url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            "url",
            format!("{url:?} is not an http:// or https:// address"),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "url",
            "carries credentials: the deliveries are signed instead",
        ));
    }
    Ok(())
}

fn check_types(types: &[String]) -> Result<(), Status> {
    for t in types {
        if !atone_domain::Event::TYPES.contains(&t.as_str()) {
            return Err(invalid(
                "event_types",
                format!(
                    "{t:?} is not an event type ({})",
                    atone_domain::Event::TYPES.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[tonic::async_trait]
impl WebhookService for WebhookApi {
    async fn add_webhook_endpoint(
        &self,
        request: Request<AddWebhookEndpointRequest>,
    ) -> Result<Response<AddWebhookEndpointResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let r = request.into_inner();
        check_id(&r.endpoint_id)?;
        check_url(&r.url)?;
        check_types(&r.event_types)?;
        let mut types = r.event_types.clone();
        types.sort();
        types.dedup();
        let after_position = if r.from_start {
            0
        } else {
            event_log::last_position(&self.db).await.map_err(storage)?
        };
        let secret = format!(
            "whsec_{}",
            atone_auth::new_secret().map_err(Status::internal)?
        );
        let endpoint = Endpoint {
            endpoint_id: r.endpoint_id.clone(),
            url: r.url,
            event_types: types,
            secret: secret.clone(),
            enabled: true,
            disabled_reason: None,
            after_position,
            generation: 0,
            failing_since: None,
            created_at: Utc::now(),
        };
        let existing = webhooks::all(&self.db).await.map_err(storage)?;
        if existing.len() >= MAX_ENDPOINTS {
            return Err(Status::resource_exhausted(format!(
                "atone already has {MAX_ENDPOINTS} webhook endpoints: disable and reuse one"
            )));
        }
        if !webhooks::add(&self.db, &endpoint).await.map_err(storage)? {
            return Err(Status::already_exists(format!(
                "webhook endpoint {:?} exists: disable or replay it, or choose another id",
                r.endpoint_id
            )));
        }
        // The host only: a URL's path or query may carry a token of the receiver's.
        let host = reqwest::Url::parse(&endpoint.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        tracing::info!(endpoint = %endpoint.endpoint_id, %host, "webhook endpoint added");
        Ok(Response::new(AddWebhookEndpointResponse {
            endpoint: Some(self.shown(&endpoint).await?),
            secret,
        }))
    }

    async fn list_webhook_endpoints(
        &self,
        request: Request<ListWebhookEndpointsRequest>,
    ) -> Result<Response<ListWebhookEndpointsResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let all = webhooks::all(&self.db).await.map_err(storage)?;
        let last = event_log::last_position(&self.db).await.map_err(storage)?;
        Ok(Response::new(ListWebhookEndpointsResponse {
            endpoints: all.iter().map(|e| shown(e, last)).collect(),
        }))
    }

    async fn disable_webhook_endpoint(
        &self,
        request: Request<DisableWebhookEndpointRequest>,
    ) -> Result<Response<DisableWebhookEndpointResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let r = request.into_inner();
        check_id(&r.endpoint_id)?;
        self.existing(&r.endpoint_id).await?;
        webhooks::disable(&self.db, &r.endpoint_id, "disabled by an admin", None)
            .await
            .map_err(storage)?;
        let endpoint = self.existing(&r.endpoint_id).await?;
        Ok(Response::new(DisableWebhookEndpointResponse {
            endpoint: Some(self.shown(&endpoint).await?),
        }))
    }

    async fn replay_webhook_endpoint(
        &self,
        request: Request<ReplayWebhookEndpointRequest>,
    ) -> Result<Response<ReplayWebhookEndpointResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let r = request.into_inner();
        check_id(&r.endpoint_id)?;
        if r.after_position < 0 {
            return Err(invalid(
                "after_position",
                format!("{} is negative", r.after_position),
            ));
        }
        let last = event_log::last_position(&self.db).await.map_err(storage)?;
        if r.after_position > last {
            return Err(invalid(
                "after_position",
                format!("{} is past the last event ({last})", r.after_position),
            ));
        }
        self.existing(&r.endpoint_id).await?;
        webhooks::replay(&self.db, &r.endpoint_id, r.after_position)
            .await
            .map_err(storage)?;
        let endpoint = self.existing(&r.endpoint_id).await?;
        tracing::info!(endpoint = %endpoint.endpoint_id, after = r.after_position, "webhook endpoint replayed");
        Ok(Response::new(ReplayWebhookEndpointResponse {
            endpoint: Some(shown(&endpoint, last)),
        }))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<ListWebhookDeliveriesRequest>,
    ) -> Result<Response<ListWebhookDeliveriesResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let r = request.into_inner();
        check_id(&r.endpoint_id)?;
        let size = match r.page_size {
            0 => DEFAULT_PAGE,
            n if (1..=MAX_PAGE).contains(&n) => n,
            n => {
                return Err(invalid(
                    "page_size",
                    format!("{n} is not between 1 and {MAX_PAGE}"),
                ));
            }
        };
        if r.before < 0 {
            return Err(invalid("before", format!("{} is negative", r.before)));
        }
        self.existing(&r.endpoint_id).await?;
        let mut rows = webhooks::deliveries(&self.db, &r.endpoint_id, r.before, size as u64 + 1)
            .await
            .map_err(storage)?;
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        let next_before = match rows.last() {
            Some(last) if more => last.delivery_id,
            _ => 0,
        };
        let deliveries = rows
            .into_iter()
            .map(|d| WebhookDelivery {
                delivery_id: d.delivery_id,
                position: d.position,
                event_id: d.event_id,
                event_type: d.event_type,
                attempt: d.attempt,
                status_code: d.status_code.unwrap_or(0),
                error: d.error.unwrap_or_default(),
                latency_ms: d.latency_ms,
                delivered: d.delivered,
                attempted_at: Some(timestamp(d.attempted_at)),
            })
            .collect();
        Ok(Response::new(ListWebhookDeliveriesResponse {
            deliveries,
            next_before,
        }))
    }
}
