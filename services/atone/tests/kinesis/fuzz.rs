//! Ids and payloads fuzzed over gRPC, JSON and the webhook, through `atone serve` over
//! Kinesis (the relay, the emulator, the shard projector) on each database.

use atone_testkit::fuzz::fuzz_ids_and_payloads;
use atone_testkit::*;

async fn fuzzed_ids_and_payloads_over_kinesis(backend: Backend) {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::migrated(backend).await;
    let db = database.connect().await;
    let mut atone = Proc::start(
        "serve",
        &role_args("serve", &database.url, Some(&stream), &[]),
    )
    .await;
    assert!(
        atone.log_contains(r#""delivery":"kinesis""#),
        "events go over Kinesis: {}",
        atone.log_tail(5)
    );
    fuzz_ids_and_payloads(&atone.endpoint(), atone.channel().await, &db, 80).await;
    atone.terminate().await;
    stream.delete().await;
}

on_each_backend!(over_kinesis: fuzzed_ids_and_payloads_over_kinesis);
