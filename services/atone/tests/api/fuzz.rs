//! Ids and payloads fuzzed over gRPC, JSON and the webhook, on each database with the
//! embedded projector (`atone_testkit::fuzz`).

use atone_testkit::fuzz::fuzz_ids_and_payloads;
use atone_testkit::*;

async fn fuzzed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fuzz_ids_and_payloads(&app.endpoint(), app.channel().await, &app.db, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_ids_and_payloads_on_sqlite() {
    fuzzed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_ids_and_payloads_on_mariadb() {
    fuzzed(Backend::MariaDb).await;
}
