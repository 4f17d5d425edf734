//! CommandService and BillingService, the daily billing run, and with Kinesis the relay
//! that publishes the outbox.

use atone_api::v1::billing_service_server::BillingServiceServer;
use atone_api::v1::command_service_server::CommandServiceServer;
use atone_api::v1::webhook_service_server::WebhookServiceServer;
use atone_command::billing::{BillingApi, BillingRuns, BillingScheduler};
use atone_command::{CommandApi, CommandHandler, KeyRetention, SharedClock};
use atone_delivery::Relay;
use atone_lease::LeaseHolder;
use atone_storage::change_feed::Handoff;
use atone_storage::projection::Readable;
use atone_storage::{DatabaseConnection, EventStore};
use std::sync::Arc;
use tokio::sync::Notify;

use super::{Wiring, instance_name};
use crate::outgoing::{Deliverer, WebhookApi};
use crate::settings::CommandSettings;
use crate::webhook;

/// Starts the command role; `inline`: its appends project their events themselves, as a
/// build that reads this, and hand the change-feed rows they commit to the handoff.
pub async fn start(
    wiring: &mut Wiring,
    settings: &CommandSettings,
    clock: SharedClock,
    inline: Option<(Readable, Option<Handoff>, Option<DatabaseConnection>)>,
) -> anyhow::Result<()> {
    let store = EventStore::new(wiring.db.clone(), settings.handler.snapshot_every)
        .waking(wiring.stored.clone())
        .waking(wiring.delivering.clone());
    // Inline, an append is a projected batch: it hands its rows to the change-feed reader
    // (or, with no reader in the process, wakes nobody), not the projector.
    let cached = settings.handler.member_cache;
    let (store, appended) = match inline {
        Some((readable, Some(handoff), writer)) => (
            store.projecting_inline(readable, Some(handoff), cached, writer),
            Arc::new(Notify::new()),
        ),
        Some((readable, None, writer)) => (
            store.projecting_inline(readable, None, cached, writer),
            wiring.projected.clone(),
        ),
        None => (store, wiring.appended.clone()),
    };
    let (handler, appends) = CommandHandler::new(store, settings.handler.clone(), appended, clock);
    // It ends when the last handler is dropped, after the server has stopped.
    wiring.tasks.spawn("appender", appends);
    wiring
        .serve(CommandServiceServer::new(CommandApi::new(handler.clone())))
        .await;
    let secrets = if !settings.webhook_secrets.is_empty() {
        settings.webhook_secrets.clone()
    } else if !wiring.auth.is_on() {
        tracing::warn!(
            "payment webhook: development secret {:?} (authentication is off; give --webhook-secret)",
            webhook::DEVELOPMENT_SECRET
        );
        vec![webhook::DEVELOPMENT_SECRET.to_owned()]
    } else {
        tracing::info!("payment webhook off: no --webhook-secret");
        Vec::new()
    };
    if !secrets.is_empty() {
        let routes = std::mem::take(&mut wiring.http);
        wiring.http = routes.merge(webhook::router(handler.clone(), &secrets));
    }
    // Every 5 minutes, or sooner for a short retention.
    let retention = settings.handler.idempotency_retention;
    let every = (retention / 2).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(300),
    );
    let retention = KeyRetention::new(handler.clone(), retention, every);
    let shutdown = wiring.shutdown.clone();
    wiring
        .tasks
        .spawn_restarting("key-retention", shutdown.clone(), move || {
            retention.clone().run(shutdown.clone())
        });
    let runs = BillingRuns::new(handler);
    wiring
        .serve(
            BillingServiceServer::new(BillingApi::new(runs.clone(), settings.bank_debit.clone()))
                // The body limits (`--max-request-bytes`, and `--max-file-bytes` for a
                // result file) hold every request to its size before it is decoded.
                .max_decoding_message_size(usize::MAX),
        )
        .await;
    if settings.billing.enabled {
        let lease = LeaseHolder::new(
            wiring.db.clone(),
            instance_name("billing"),
            settings.billing.lease_duration,
        );
        let scheduler = BillingScheduler::new(runs, lease, settings.billing.clone());
        let shutdown = wiring.shutdown.clone();
        wiring
            .tasks
            .spawn_restarting("daily-billing", shutdown.clone(), move || {
                scheduler.clone().run(shutdown.clone())
            });
    }
    wiring
        .serve(WebhookServiceServer::new(WebhookApi::new(
            wiring.db.clone(),
        )))
        .await;
    if settings.deliveries.enabled {
        let lease = LeaseHolder::new(
            wiring.db.clone(),
            instance_name("webhooks"),
            settings.deliveries.lease_duration,
        );
        let deliverer = Deliverer::new(
            wiring.db.clone(),
            lease,
            settings.deliveries.clone(),
            wiring.delivering.clone(),
        )?;
        let shutdown = wiring.shutdown.clone();
        wiring
            .tasks
            .spawn_restarting("webhooks", shutdown.clone(), move || {
                deliverer.clone().run(shutdown.clone())
            });
    }
    if let Some(kinesis) = &wiring.kinesis {
        let lease = LeaseHolder::new(
            wiring.db.clone(),
            instance_name("relay"),
            settings.relay.lease_duration,
        );
        let relay = Relay::new(
            kinesis.clone(),
            lease,
            settings.relay.clone(),
            wiring.appended.clone(),
        );
        wiring
            .tasks
            .spawn("relay", relay.run(wiring.shutdown.clone()));
    }
    Ok(())
}
