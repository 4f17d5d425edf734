//! QueryService and the change-feed reader that feeds its watches.

use atone_api::v1::query_service_server::QueryServiceServer;
use atone_query::{Feed, QueryApi};

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
        .spawn(feed.clone().run(wiring.shutdown.clone()));
    let api = QueryApi::new(
        feed,
        settings.api.clone(),
        wiring.shutdown.clone(),
        wiring.watchers.clone(),
    );
    wiring.serve(QueryServiceServer::new(api)).await;
}
