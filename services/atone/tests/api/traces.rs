//! Traces over OTLP: `atone serve` sending to a small OTLP/HTTP receiver, and one purchase
//! made with a caller's `traceparent`. The request, the command's append, the projection of
//! each event and each watch's push are spans of the caller's trace, each a child of the
//! one before.

use atone_testkit::otlp::{
    CALLER_SPAN, PurchaseTrace, purchase_traced_and_watched, wait_for_pushes,
};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_is_one_trace_from_the_caller_to_the_watch() {
    let receiver = OtlpReceiver::start().await;
    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let args = role_args("serve", &database.url, None, &[]);
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let atone = Proc::start_with_env("atone serve with traces", &args, &env).await;
    let channel = atone.channel().await;
    purchase_traced_and_watched(channel.clone(), channel).await;

    let trace = PurchaseTrace::check(wait_for_pushes(&receiver, 2).await, CALLER_SPAN, 2);
    assert!(
        trace.all.iter().all(|r| r.service == "atone"),
        "service.name is atone"
    );
}
