//! `atone webhooks add|list|disable|replay|deliveries`: a client of a running atone's
//! WebhookService.

use atone_api::v1::webhook_service_client::WebhookServiceClient;
use atone_api::v1::{
    AddWebhookEndpointRequest, DisableWebhookEndpointRequest, ListWebhookDeliveriesRequest,
    ListWebhookEndpointsRequest, ReplayWebhookEndpointRequest, WebhookEndpoint,
};

use crate::cli::{WebhookAction, WebhooksArgs};
use crate::remote::{connect, failed, request};

pub async fn webhooks(args: &WebhooksArgs) -> anyhow::Result<()> {
    let remote = args.action.remote();
    let mut client = WebhookServiceClient::new(connect(remote).await?);
    match &args.action {
        WebhookAction::Add {
            id,
            url,
            events,
            from_start,
            ..
        } => {
            let message = AddWebhookEndpointRequest {
                endpoint_id: id.clone(),
                url: url.clone(),
                event_types: events.clone(),
                from_start: *from_start,
            };
            let added = client
                .add_webhook_endpoint(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            if let Some(endpoint) = &added.endpoint {
                println!("{}", line(endpoint));
            }
            println!("secret: {}", added.secret);
            println!("(shown once: the receiver verifies each delivery's Atone-Signature with it)");
        }
        WebhookAction::List { .. } => {
            let listed = client
                .list_webhook_endpoints(request(remote, ListWebhookEndpointsRequest {})?)
                .await
                .map_err(failed)?
                .into_inner();
            for endpoint in &listed.endpoints {
                println!("{}", line(endpoint));
            }
        }
        WebhookAction::Disable { id, .. } => {
            let message = DisableWebhookEndpointRequest {
                endpoint_id: id.clone(),
            };
            let done = client
                .disable_webhook_endpoint(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            if let Some(endpoint) = &done.endpoint {
                println!("{}", line(endpoint));
            }
        }
        WebhookAction::Replay { id, after, .. } => {
            let after_position = match after {
                Some(after) => *after,
                None => {
                    let listed = client
                        .list_webhook_endpoints(request(remote, ListWebhookEndpointsRequest {})?)
                        .await
                        .map_err(failed)?
                        .into_inner();
                    listed
                        .endpoints
                        .iter()
                        .find(|e| &e.endpoint_id == id)
                        .map(|e| e.after_position)
                        .ok_or_else(|| anyhow::anyhow!("no webhook endpoint {id:?}"))?
                }
            };
            let message = ReplayWebhookEndpointRequest {
                endpoint_id: id.clone(),
                after_position,
            };
            let done = client
                .replay_webhook_endpoint(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            if let Some(endpoint) = &done.endpoint {
                println!("{}", line(endpoint));
            }
        }
        WebhookAction::Deliveries { id, limit, .. } => {
            let message = ListWebhookDeliveriesRequest {
                endpoint_id: id.clone(),
                page_size: *limit,
                before: 0,
            };
            let log = client
                .list_webhook_deliveries(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            for d in &log.deliveries {
                let at = d
                    .attempted_at
                    .and_then(atone_api::convert::datetime)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                let answer = if d.status_code > 0 {
                    format!("HTTP {}", d.status_code)
                } else {
                    d.error.clone()
                };
                println!(
                    "{at} position {} {} {} attempt {}: {} in {} ms{}",
                    d.position,
                    d.event_type,
                    d.event_id,
                    d.attempt,
                    answer,
                    d.latency_ms,
                    if d.delivered { ", delivered" } else { "" }
                );
            }
        }
    }
    Ok(())
}

fn line(e: &WebhookEndpoint) -> String {
    let types = if e.event_types.is_empty() {
        "all events".to_owned()
    } else {
        e.event_types.join(",")
    };
    let state = if e.enabled {
        "enabled".to_owned()
    } else {
        format!("disabled ({})", e.disabled_reason)
    };
    format!(
        "{} {} [{types}] {state}, after position {}, {} behind",
        e.endpoint_id, e.url, e.after_position, e.lag
    )
}
