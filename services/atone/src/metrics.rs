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

// The metrics this crate records; atone-command, atone-delivery and atone-query name
// theirs in their `metric` modules.
pub const RPC_REQUESTS: &str = "atone_rpc_requests_total";
pub const RPC_DURATION_SECONDS: &str = "atone_rpc_duration_seconds";
pub const OUTBOX_DEPTH: &str = "atone_outbox_depth";
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "atone_outbox_oldest_age_seconds";
pub const SOURCE_LAG_SECONDS: &str = "atone_source_lag_seconds";
pub const SOURCE_EVENTS_APPLIED: &str = "atone_source_events_applied";
pub const WATCHERS: &str = "atone_watchers";
pub const DEAD_LETTERS: &str = "atone_dead_letters";
pub const PARKED_MEMBERS: &str = "atone_parked_members";
pub const DB_POOL_CONNECTIONS: &str = "atone_db_pool_connections";
pub const WEBHOOK_MACS: &str = "atone_webhook_macs_total";
pub const WEBHOOK_DELIVERIES: &str = "atone_webhook_deliveries_total";
pub const WEBHOOK_LAG_EVENTS: &str = "atone_webhook_lag_events";

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
            Matcher::Full(atone_command::metric::APPEND_BATCH_COMMANDS.into()),
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
    gauge!(WATCHERS).set(scrape.watchers.load(Ordering::Relaxed) as f64);
    let (size, idle) = atone_storage::db::pool_usage(&scrape.db);
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(size.saturating_sub(idle) as f64);
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
    let (depth, oldest) = outbox::backlog(&scrape.db).await?;
    gauge!(OUTBOX_DEPTH).set(depth as f64);
    let age = oldest.map_or(0.0, |at| {
        (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    gauge!(OUTBOX_OLDEST_AGE_SECONDS).set(age);
    // Sources of events only: the lease table also holds jobs' leases.
    let sources = leases::all(&scrape.db).await?.into_iter().filter(|l| {
        [leases::KIND_OUTBOX, leases::KIND_RELAY, leases::KIND_SHARD].contains(&l.kind.as_str())
    });
    for lease in sources {
        let labels = [
            ("source", lease.source_id.clone()),
            ("kind", lease.kind.clone()),
        ];
        gauge!(SOURCE_LAG_SECONDS, &labels).set(lease.lag_millis as f64 / 1000.0);
        gauge!(SOURCE_EVENTS_APPLIED, &labels).set(lease.events_applied as f64);
    }
    let inline = leases::KIND_INLINE;
    if let Some(applied) = atone_storage::change_feed::numbered_so_far(&scrape.db, inline).await? {
        let labels = [("source", inline), ("kind", inline)];
        gauge!(SOURCE_LAG_SECONDS, &labels).set(0.0);
        gauge!(SOURCE_EVENTS_APPLIED, &labels).set(applied as f64);
    }
    let (events, members) = dead_letters::counts(&scrape.db).await?;
    gauge!(DEAD_LETTERS).set(events as f64);
    gauge!(PARKED_MEMBERS).set(members as f64);
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
    histogram!(RPC_DURATION_SECONDS, "service" => service.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    let status = if response.status() == StatusCode::OK {
        code
    } else {
        response.status().as_str().to_owned()
    };
    counter!(RPC_REQUESTS, "service" => service, "method" => method, "code" => status).increment(1);
    response
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        RPC_REQUESTS,
        "gRPC calls by service, method and status code (0 = OK)"
    );
    describe_histogram!(
        RPC_DURATION_SECONDS,
        Unit::Seconds,
        "gRPC call latency to the response headers"
    );
    describe_gauge!(OUTBOX_DEPTH, "events waiting in the outbox");
    describe_gauge!(
        OUTBOX_OLDEST_AGE_SECONDS,
        Unit::Seconds,
        "age of the oldest outbox row: the relay's (or embedded delivery's) lag"
    );
    describe_gauge!(
        SOURCE_LAG_SECONDS,
        Unit::Seconds,
        "how far each source (outbox, Kinesis shard) is behind"
    );
    describe_gauge!(
        SOURCE_EVENTS_APPLIED,
        "events each source has applied to the read models"
    );
    describe_gauge!(WATCHERS, "open WatchMember streams of this process");
    describe_counter!(
        WEBHOOK_MACS,
        "webhook signature MACs computed (one per secret per signed request)"
    );
    describe_gauge!(DEAD_LETTERS, "parked events");
    describe_gauge!(PARKED_MEMBERS, "members with parked events");
    describe_gauge!(DB_POOL_CONNECTIONS, "database pool connections by state");
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "outgoing webhook delivery attempts by endpoint and outcome"
    );
    describe_gauge!(
        WEBHOOK_LAG_EVENTS,
        "events stored after an endpoint's cursor, by endpoint"
    );
    atone_command::metric::describe();
    atone_delivery::metric::describe();
    atone_query::metric::describe();
}
