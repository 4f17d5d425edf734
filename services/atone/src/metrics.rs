//! Prometheus metrics at `/metrics` on `--metrics-listen` (off by default), through the
//! `metrics` facade and `metrics-exporter-prometheus`.
//!
//! Counted where the work happens: each gRPC call (`atone_rpc_requests_total` by service,
//! method and status code, `atone_rpc_duration_seconds`), commands appended, idempotent
//! replays and version conflicts (in `atone-command`), and the delay from an event to its
//! push to watchers (in `atone-query`). Read from the database at each scrape: the outbox
//! depth and the age of its oldest row (the relay's lag), each source's lag and events
//! applied, dead letters; and from the process: live watchers and the database pool.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use atone_storage::{DatabaseConnection, dead_letters, leases, outbox};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed once (the `metrics` facade is global). Two callers
/// at once (two servers in one test process) get the same one.
fn handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| install().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn install() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
        .context("metric buckets")?
        .set_buckets_for_metric(
            Matcher::Full("atone_append_batch_commands".into()),
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
        )
        .context("batch-size buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).context("another metrics recorder is installed")?;
    Ok(handle)
}

/// What a scrape reads besides the recorder.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    db: DatabaseConnection,
    watchers: Arc<AtomicUsize>,
}

/// Serves `/metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    db: DatabaseConnection,
    watchers: Arc<AtomicUsize>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let scrape = Scrape {
        handle: handle()?,
        db,
        watchers,
    };
    let app = axum::Router::new()
        .route("/metrics", get(metrics_page))
        .with_state(scrape);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("the metrics listener failed")
}

/// Installs the recorder (before the process serves a call, so that every call counts)
/// and binds `--metrics-listen`.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    handle()?;
    describe();
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))
}

async fn metrics_page(State(scrape): State<Scrape>) -> Response {
    if let Err(e) = refresh(&scrape).await {
        tracing::warn!(error = %e, "metrics: the database part of the scrape failed");
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.handle.render(),
    )
        .into_response()
}

/// Sets the gauges read from the database and the process.
async fn refresh(scrape: &Scrape) -> Result<(), atone_storage::StorageError> {
    gauge!("atone_watchers").set(scrape.watchers.load(Ordering::Relaxed) as f64);
    let (size, idle) = atone_storage::db::pool_usage(&scrape.db);
    gauge!("atone_db_pool_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
    gauge!("atone_db_pool_connections", "state" => "idle").set(idle as f64);
    let (depth, oldest) = outbox::backlog(&scrape.db).await?;
    gauge!("atone_outbox_depth").set(depth as f64);
    let age = oldest.map_or(0.0, |at| {
        (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    gauge!("atone_outbox_oldest_age_seconds").set(age);
    // Sources of events only: the lease table also holds jobs' leases.
    let sources = leases::all(&scrape.db).await?.into_iter().filter(|l| {
        [leases::KIND_OUTBOX, leases::KIND_RELAY, leases::KIND_SHARD].contains(&l.kind.as_str())
    });
    for lease in sources {
        let labels = [
            ("source", lease.source_id.clone()),
            ("kind", lease.kind.clone()),
        ];
        gauge!("atone_source_lag_milliseconds", &labels).set(lease.lag_millis as f64);
        gauge!("atone_source_events_applied", &labels).set(lease.events_applied as f64);
    }
    let inline = leases::KIND_INLINE;
    if let Some(applied) = atone_storage::change_feed::numbered_so_far(&scrape.db, inline).await? {
        let labels = [("source", inline), ("kind", inline)];
        gauge!("atone_source_lag_milliseconds", &labels).set(0.0);
        gauge!("atone_source_events_applied", &labels).set(applied as f64);
    }
    let (events, members) = dead_letters::counts(&scrape.db).await?;
    gauge!("atone_dead_letters").set(events as f64);
    gauge!("atone_parked_members").set(members as f64);
    Ok(())
}

/// Counts each gRPC call by service, method and status code, and times it (to its response
/// headers: for a stream, its start). The method is the one the limits found for the path.
pub async fn record_rpc(request: Request, next: Next) -> Response {
    let grpc = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    // Labels from the methods the process serves only: a made-up path is `unknown`, so
    // callers cannot add series.
    let called = request
        .extensions()
        .get::<crate::limits::Called>()
        .map(|called| called.0);
    let (service, method) = called.map_or(("unknown", "unknown"), |m| {
        (m.service.as_str(), m.name.as_str())
    });
    let started = Instant::now();
    let response = next.run(request).await;
    if !grpc {
        return response;
    }
    // An error is a trailers-only response: its code is in the headers. Otherwise the
    // call's outcome is in the trailers; a started stream or a unary reply counts as OK.
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0")
        .to_owned();
    let (service, method) = (service.to_owned(), method.to_owned());
    histogram!("atone_rpc_duration_seconds", "service" => service.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    let status = if response.status() == StatusCode::OK {
        code
    } else {
        response.status().as_str().to_owned()
    };
    counter!("atone_rpc_requests_total", "service" => service, "method" => method, "code" => status)
        .increment(1);
    response
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "atone_rpc_requests_total",
        "gRPC calls by service, method and status code (0 = OK)"
    );
    describe_histogram!(
        "atone_rpc_duration_seconds",
        metrics::Unit::Seconds,
        "gRPC call latency to the response headers"
    );
    describe_counter!(
        "atone_commands_appended_total",
        "commands that appended events"
    );
    describe_counter!(
        "atone_events_appended_total",
        "events appended to the event store"
    );
    describe_counter!(
        "atone_idempotent_replays_total",
        "commands answered from an earlier one with the same idempotency key"
    );
    describe_counter!(
        "atone_relay_records_total",
        "Kinesis records the relay had acknowledged (each packs one or more events)"
    );
    describe_counter!(
        "atone_relay_events_total",
        "events the relay had acknowledged on Kinesis"
    );
    describe_counter!(
        "atone_command_conflicts_total",
        "appends that met a concurrent one and were decided again"
    );
    describe_histogram!(
        "atone_append_batch_commands",
        "commands written per append transaction (group commit)"
    );
    describe_histogram!(
        "atone_append_batch_seconds",
        "time to write one append batch, from its first statement to its commit; one batch is written at a time"
    );
    describe_gauge!("atone_outbox_depth", "events waiting in the outbox");
    describe_gauge!(
        "atone_outbox_oldest_age_seconds",
        "age of the oldest outbox row: the relay's (or embedded delivery's) lag"
    );
    describe_gauge!(
        "atone_source_lag_milliseconds",
        "how far each source (outbox, Kinesis shard) is behind"
    );
    describe_gauge!(
        "atone_source_events_applied",
        "events each source has applied to the read models"
    );
    describe_histogram!(
        "atone_watch_push_delay_seconds",
        metrics::Unit::Seconds,
        "from an event to its push to the member's watchers"
    );
    describe_gauge!("atone_watchers", "open WatchMember streams of this process");
    describe_counter!(
        "atone_webhook_macs_total",
        "webhook signature MACs computed (one per secret per signed request)"
    );
    describe_gauge!("atone_dead_letters", "parked events");
    describe_gauge!("atone_parked_members", "members with parked events");
    describe_gauge!(
        "atone_db_pool_connections",
        "database pool connections by state"
    );
    // Shown from the start, at 0, rather than only once something happened.
    for name in [
        "atone_commands_appended_total",
        "atone_events_appended_total",
        "atone_idempotent_replays_total",
        "atone_command_conflicts_total",
    ] {
        counter!(name).increment(0);
    }
}
