//! CommandService, and with Kinesis the relay that publishes the outbox.

use atone_api::v1::command_service_server::CommandServiceServer;
use atone_command::{CommandApi, CommandHandler};
use atone_delivery::Relay;
use atone_delivery::lease::LeaseHolder;
use atone_storage::EventStore;

use super::{Wiring, instance_name};
use crate::settings::CommandSettings;

pub async fn start(wiring: &mut Wiring, settings: &CommandSettings) -> anyhow::Result<()> {
    let store = EventStore::new(wiring.db.clone(), settings.handler.snapshot_every);
    let handler = CommandHandler::new(store, settings.handler.clone(), wiring.appended.clone());
    wiring
        .serve(CommandServiceServer::new(CommandApi::new(handler)))
        .await;
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
        wiring.tasks.spawn(relay.run(wiring.shutdown.clone()));
    }
    Ok(())
}
