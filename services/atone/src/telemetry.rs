//! Logs and traces. Logs go to stderr, filtered by `RUST_LOG`. Traces go over OTLP
//! (HTTP/protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! is set; the exporter and the SDK read the other standard variables (`OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_SCHEDULE_DELAY`, …).
//!
//! A request's span continues the caller's W3C `traceparent`; the command's trace context
//! travels with its events, so the append, the relay, the projection and each watch's push
//! are spans of one trace, across processes (see `atone_trace`).

use anyhow::Context;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::LogFormat;

/// What must be flushed before the process exits.
#[must_use = "call shutdown() before exiting, or the last spans are lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered.
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(e) = provider.shutdown()
        {
            eprintln!("atone: the last traces could not be sent: {e}");
        }
    }
}

/// Default filter: info for atone's crates, warnings for the rest.
const DEFAULT_FILTER: &str = "warn,atone=info,atone_command=info,atone_delivery=info,atone_projector=info,atone_query=info,atone_storage=info";

/// Logs to stderr, and traces over OTLP when an endpoint is configured.
pub fn init(format: LogFormat) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    let traces = otlp_provider()?;
    let otel = traces
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("atone")));
    // A second init (in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otel)
        .try_init();
    if traces.is_some() {
        tracing::info!("sending traces over OTLP");
    }
    Ok(Telemetry { traces })
}

/// The OTLP tracer provider, when an endpoint is configured.
fn otlp_provider() -> anyhow::Result<Option<SdkTracerProvider>> {
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .build()
        .context("the OTLP trace exporter (atone sends OTLP over HTTP/protobuf)")?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name("atone");
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

/// Middleware: each HTTP request (a gRPC call, gRPC-Web, JSON, the webhook, the page) in a
/// server span that continues the caller's `traceparent`.
pub async fn trace_request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        otel.name = %request.uri().path(),
        otel.kind = "server",
    );
    if let Some(parent) = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
    {
        atone_trace::follow(&span, parent);
    }
    next.run(request).instrument(span).await
}
