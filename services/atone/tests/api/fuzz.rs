//! Ids and payloads fuzzed over gRPC, JSON and the webhook, on each database with the
//! embedded projector (`atone_testkit::fuzz`).

use atone_testkit::fuzz::fuzz_ids_and_payloads;
use atone_testkit::*;

async fn fuzzed_ids_and_payloads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fuzz_ids_and_payloads(&app.endpoint(), app.channel().await, &app.db, 200).await;
    app.stop().await;
}

on_each_backend!(fuzzed_ids_and_payloads);
