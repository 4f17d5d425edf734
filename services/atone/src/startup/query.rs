//! QueryService, the change-feed reader that feeds its watches, and the reader of all
//! events that feeds its event subscriptions.

use atone_api::v1::query_service_server::QueryServiceServer;
use atone_query::{EventTail, Feed, QueryApi};

use super::Wiring;
use crate::settings::QuerySettings;

pub async fn start(wiring: &mut Wiring, settings: &QuerySettings) {
    let feed = Feed::new(
        wiring.db.clone(),
        settings.feed.clone(),
        wiring.projected.clone(),
        wiring.handed.take(),
    );
    wiring
        .tasks
        .spawn("change-feed", feed.clone().run(wiring.shutdown.clone()));
    let events = EventTail::new(
        wiring.db.clone(),
        settings.events.clone(),
        wiring.stored.clone(),
        wiring.shutdown.clone(),
    );
    wiring.tasks.spawn("event-tail", events.clone().run());
    let api = QueryApi::new(
        feed,
        events,
        settings.api.clone(),
        wiring.shutdown.clone(),
        wiring.watchers.clone(),
    );
    wiring.serve(QueryServiceServer::new(api)).await;
}
