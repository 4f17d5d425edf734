//! W3C trace context across atone's processes. A command's `traceparent` travels with its
//! events (in the event store, the outbox, on Kinesis) and the change-feed rows projected
//! from them, so the projector's and the watches' spans join the trace the command began,
//! or the caller's.
//!
//! With tracing off (no OpenTelemetry layer in the subscriber) every span's context is
//! empty: [`of`] is `""` and [`follow`] does nothing.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";

/// `span`'s W3C `traceparent`, or `""` when it has no trace.
pub fn of(span: &tracing::Span) -> String {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return String::new();
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT).unwrap_or_default()
}

/// Makes `span` a child of the span `traceparent` names (another process's, or the
/// caller's). An empty or malformed `traceparent` leaves `span` as it is.
pub fn follow(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        // Fails only for a span already started or disabled: it then stays as it is.
        let _ = span.set_parent(context);
    }
}
