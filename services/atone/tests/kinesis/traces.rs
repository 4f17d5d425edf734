//! One trace across three processes and Kinesis: a purchase made with a caller's
//! `traceparent` at `atone command`, relayed to the stream, projected by `atone projector`
//! and pushed by `atone query`. Each process sends its spans over OTLP under its own
//! service name, and each span is the child of the step before, the trace context having
//! travelled in the event's envelope and its change-feed row.

use atone_testkit::otlp::{
    CALLER_SPAN, PurchaseTrace, purchase_traced_and_watched, wait_for_pushes,
};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_purchase_is_one_trace_across_command_kinesis_projector_and_query() {
    let receiver = OtlpReceiver::start().await;
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let url = &database.url;
    let start = async |role: &str, args: Vec<String>| {
        let env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", role),
        ];
        Proc::start_with_env(role, &args, &env).await
    };
    let command = start(
        "atone-command",
        role_args("command", url, Some(&stream), &["--migrate"]),
    )
    .await;
    let projector = start(
        "atone-projector",
        role_args("projector", url, Some(&stream), &[]),
    )
    .await;
    let query = start("atone-query", role_args("query", url, None, &[])).await;

    purchase_traced_and_watched(command.channel().await, query.channel().await).await;

    let trace = PurchaseTrace::check(wait_for_pushes(&receiver, 2).await, CALLER_SPAN, 2);
    for (step, service) in [
        (&trace.request, "atone-command"),
        (&trace.command, "atone-command"),
        (&trace.append, "atone-command"),
    ] {
        assert_eq!(step.service, service, "{}", step.span.name);
    }
    assert!(
        trace
            .projections
            .iter()
            .all(|p| p.service == "atone-projector")
    );
    assert!(trace.pushes.iter().all(|p| p.service == "atone-query"));
    let relayed = eventually(
        std::time::Duration::from_secs(10),
        "the relay's spans",
        || {
            let relays: Vec<_> = receiver
                .trace(atone_testkit::otlp::TRACE_ID)
                .into_iter()
                .filter(|r| r.span.name == "relay")
                .collect();
            async move { (relays.len() == 2).then_some(relays) }
        },
    )
    .await;
    for relay in &relayed {
        assert_eq!(relay.service, "atone-command");
        assert_eq!(
            relay.span.parent_span_id, trace.append.span.span_id,
            "relayed from the append"
        );
    }
    drop((command, projector, query));
}
