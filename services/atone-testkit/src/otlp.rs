//! A small OTLP/HTTP (protobuf) trace receiver on a free port: what a collector would get
//! from atone's processes, each span with the service that sent it.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
pub use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// A span as received, with the `service.name` of the process that sent it.
#[derive(Debug, Clone)]
pub struct Received {
    pub service: String,
    pub span: Span,
}

type Store = Arc<Mutex<Vec<Received>>>;

pub struct OtlpReceiver {
    /// For `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    received: Store,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        let received: Store = Arc::default();
        let app = axum::Router::new()
            .route("/v1/traces", post(export))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the OTLP receiver");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            endpoint: format!("http://{addr}"),
            received,
        }
    }

    /// The spans of the trace `trace_id` (hex) received so far.
    pub fn trace(&self, trace_id: &str) -> Vec<Received> {
        self.received
            .lock()
            .expect("spans")
            .iter()
            .filter(|r| hex(&r.span.trace_id) == trace_id)
            .cloned()
            .collect()
    }
}

async fn export(State(received): State<Store>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
    let mut store = received.lock().expect("spans");
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .and_then(|a| a.value.as_ref()?.value.as_ref())
            .map(|v| match v {
                Value::StringValue(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default();
        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
            store.push(Received {
                service: service.clone(),
                span,
            });
        }
    }
    ExportTraceServiceResponse::default().encode_to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A purchase's trace as the spans of its steps, each checked to be the child of the step
/// before: the caller's span → the request → the command → the append → a projection per
/// event → a watch push per event.
pub struct PurchaseTrace {
    pub request: Received,
    pub command: Received,
    pub append: Received,
    pub projections: Vec<Received>,
    pub pushes: Vec<Received>,
    pub all: Vec<Received>,
}

impl PurchaseTrace {
    /// Checks the links of `trace` (the spans of one trace) for a purchase of `events` events
    /// made from the caller span `caller` (hex).
    pub fn check(trace: Vec<Received>, caller: &str, events: usize) -> Self {
        let names: Vec<String> = trace.iter().map(|r| r.span.name.clone()).collect();
        let all_named = |name: &str| -> Vec<Received> {
            trace
                .iter()
                .filter(|r| r.span.name == name)
                .cloned()
                .collect()
        };
        let one = |name: &str| -> Received {
            let found = all_named(name);
            assert_eq!(found.len(), 1, "one {name} span in {names:?}");
            found[0].clone()
        };
        let request = one("/atone.v1.CommandService/Purchase");
        assert_eq!(
            hex(&request.span.parent_span_id),
            caller,
            "the request continues the caller's span"
        );
        let command = one("command");
        assert_eq!(
            command.span.parent_span_id, request.span.span_id,
            "the command runs in the request"
        );
        let append = one("append");
        assert_eq!(
            append.span.parent_span_id, command.span.span_id,
            "the append is the command's"
        );
        let projections = all_named("project");
        assert_eq!(
            projections.len(),
            events,
            "one projection per event: {names:?}"
        );
        for projection in &projections {
            assert_eq!(
                projection.span.parent_span_id, append.span.span_id,
                "projected from the append"
            );
        }
        let pushes = all_named("watch_push");
        assert_eq!(pushes.len(), events, "one push per event: {names:?}");
        let mut pushed_from: Vec<&[u8]> = pushes
            .iter()
            .map(|p| p.span.parent_span_id.as_slice())
            .collect();
        pushed_from.sort();
        let mut projected: Vec<&[u8]> = projections
            .iter()
            .map(|p| p.span.span_id.as_slice())
            .collect();
        projected.sort();
        assert_eq!(
            pushed_from, projected,
            "each push is the child of its event's projection"
        );
        Self {
            request,
            command,
            append,
            projections,
            pushes,
            all: trace,
        }
    }
}

/// The trace a test's caller is in, and its span: what `traced` puts on a request.
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// `message` as a request carrying the caller's W3C `traceparent`.
pub fn traced<T>(message: T) -> atone_api::tonic::Request<T> {
    let mut request = atone_api::tonic::Request::new(message);
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    if let Ok(value) = traceparent.parse() {
        request.metadata_mut().insert("traceparent", value);
    }
    request
}

/// A purchase made with the caller's `traceparent` at `command`, while `query` watches the
/// member: returns once both changes (the purchase and its promise) are on the watch.
pub async fn purchase_traced_and_watched(
    command: atone_api::tonic::transport::Channel,
    query: atone_api::tonic::transport::Channel,
) {
    use atone_api::v1::command_service_client::CommandServiceClient;
    use atone_api::v1::query_service_client::QueryServiceClient;

    let user = crate::unique_user("traced");
    let mut watch = QueryServiceClient::new(query)
        .watch_member(atone_api::v1::WatchMemberRequest {
            user_id: user.clone(),
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    watch.message().await.expect("the snapshot");
    CommandServiceClient::new(command)
        .purchase(traced(crate::purchase(&user, 5000, "traced-1")))
        .await
        .expect("purchase");
    for _ in 0..2 {
        watch.message().await.expect("a change");
    }
}

/// Polls `receiver` until the trace holds `pushes` watch pushes; returns its spans.
pub async fn wait_for_pushes(receiver: &OtlpReceiver, pushes: usize) -> Vec<Received> {
    crate::eventually(
        std::time::Duration::from_secs(30),
        "the purchase's spans at the receiver",
        || {
            let trace = receiver.trace(TRACE_ID);
            let seen = trace.iter().filter(|r| r.span.name == "watch_push").count();
            async move { (seen == pushes).then_some(trace) }
        },
    )
    .await
}
