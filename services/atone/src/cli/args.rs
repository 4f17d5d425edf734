//! The flags, grouped as the roles share them.

use std::net::SocketAddr;

use atone_command::CommandConfig;
use atone_command::billing::BillingSchedule;
use atone_delivery::{KinesisProjectorConfig, ReconcileConfig, RelayConfig};
use atone_query::{EventTailConfig, FeedConfig, QueryConfig};
use atone_storage::DbConfig;
use clap::Args;
use humantime::Duration;

use crate::outgoing::DeliveryConfig;
use crate::server::ServerSettings;
use crate::settings::{AuthSettings, KinesisSettings, ProjectionMode, ProjectorSettings, Settings};

/// A duration flag's default, shown in `--help` as humantime writes it (`5s`, `7days`).
/// The days of a `--bank-closures` file.
#[derive(Debug, Clone)]
pub struct BankClosures(pub Vec<chrono::NaiveDate>);

fn bank_closures(path: &str) -> Result<BankClosures, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    atone_domain::Calendar::parse_closures(&text)
        .map(BankClosures)
        .map_err(|e| format!("{path}: {e}"))
}

/// A `--bank-debit-config` file, read and checked.
#[derive(Debug, Clone)]
pub struct BankDebitConfig(pub atone_command::billing::Consignor);

fn bank_debit_config(path: &str) -> Result<BankDebitConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    atone_command::billing::Consignor::from_json(&text)
        .map(BankDebitConfig)
        .map_err(|e| format!("{path}: {e}"))
}

fn shown(d: std::time::Duration) -> Duration {
    d.into()
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://atone.db?mode=rwc (a file, created if missing) or
    /// mysql://user:password@host:3306/database. Without it: $DATABASE_URL, else
    /// sqlite://atone.db?mode=rwc in the working directory.
    #[arg(long = "database-url", env = "ATONE_DATABASE_URL")]
    pub url: Option<String>,
    /// Connections in the database pool.
    #[arg(
        long = "database-max-connections",
        env = "ATONE_DATABASE_MAX_CONNECTIONS",
        default_value_t = DbConfig::default().max_connections
    )]
    pub max_connections: u32,
}

/// What every serving process takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Address for gRPC, gRPC-Web, reflection and health (and, with QueryService, the page).
    #[arg(long, env = "ATONE_LISTEN", default_value_t = Settings::default().listen)]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Apply pending migrations on start. Always done for SQLite; for MySQL run
    /// `atone migrate` or pass this.
    #[arg(long, env = "ATONE_MIGRATE")]
    pub migrate: bool,
    /// Run atone's clock this far ahead of the machine's: for demos and tests of what
    /// happens later in the month (overdue bills); never in production.
    #[arg(long, env = "ATONE_CLOCK_OFFSET", default_value = "0s")]
    pub clock_offset: Duration,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Serve Prometheus metrics at /metrics on this address (plain HTTP, no
    /// authentication: counts and latencies only); off by default.
    #[arg(long, env = "ATONE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// TLS certificate chain (PEM) for the one port: gRPC, gRPC-Web, the page and the
    /// webhook. Plaintext clients are then refused.
    #[arg(long, env = "ATONE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "ATONE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// A CA (PEM): clients must present a certificate it signed (mutual TLS).
    #[arg(long, env = "ATONE_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<std::path::PathBuf>,
    /// HTTP/2 streams one connection may have open at once.
    #[arg(long, env = "ATONE_MAX_CONCURRENT_STREAMS", default_value_t = ServerSettings::default().max_concurrent_streams)]
    pub max_concurrent_streams: u32,
    /// How often an idle connection is pinged.
    #[arg(long, env = "ATONE_KEEPALIVE_INTERVAL", default_value_t = shown(ServerSettings::default().keepalive_interval))]
    pub keepalive_interval: Duration,
    /// A client that does not answer a ping within this is dropped (and its watches end).
    #[arg(long, env = "ATONE_KEEPALIVE_TIMEOUT", default_value_t = shown(ServerSettings::default().keepalive_timeout))]
    pub keepalive_timeout: Duration,
    /// The longest a call may take to answer when its client sets no deadline.
    #[arg(long, env = "ATONE_REQUEST_TIMEOUT", default_value_t = shown(ServerSettings::default().request_timeout))]
    pub request_timeout: Duration,
    /// Calls handled at once by the process; past it, UNAVAILABLE.
    #[arg(long, env = "ATONE_MAX_IN_FLIGHT", default_value_t = ServerSettings::default().max_in_flight)]
    pub max_in_flight: usize,
    /// Calls one connection, one credential, or all callers without one may have in
    /// flight; past it, RESOURCE_EXHAUSTED.
    #[arg(long, env = "ATONE_MAX_IN_FLIGHT_PER_CALLER", default_value_t = ServerSettings::default().max_in_flight_per_caller)]
    pub max_in_flight_per_caller: usize,
    /// The largest request, in bytes; past it, RESOURCE_EXHAUSTED.
    #[arg(long, env = "ATONE_MAX_REQUEST_BYTES", default_value_t = ServerSettings::default().max_request_bytes)]
    pub max_request_bytes: usize,
    /// The largest request that carries a file (a bank's result file for
    /// BillingService/ImportBankDebitResults), in bytes: about 120 bytes a debit.
    #[arg(long, env = "ATONE_MAX_FILE_BYTES", default_value_t = ServerSettings::default().max_file_bytes)]
    pub max_file_bytes: usize,
    /// How long a request's body may take to arrive, whole; past it, DEADLINE_EXCEEDED
    /// (HTTP 408 for the webhook).
    #[arg(long, env = "ATONE_BODY_TIMEOUT", default_value_t = shown(ServerSettings::default().body_timeout))]
    pub body_timeout: Duration,
    /// On shutdown, how long calls in flight may take to finish before their connections
    /// are closed.
    #[arg(long, env = "ATONE_SHUTDOWN_GRACE", default_value_t = shown(ServerSettings::default().shutdown_grace))]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// The API keys file (JSON; `atone api-key` makes entries): authentication is on when
    /// given. Read again on SIGHUP.
    #[arg(long, env = "ATONE_API_KEYS")]
    pub api_keys: Option<std::path::PathBuf>,
    /// The secret that signs member tokens (at least 32 bytes); without it, no member
    /// tokens.
    #[arg(long, env = "ATONE_TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: Option<String>,
    /// A file holding the token secret (a container secret; `atone init-auth` makes one).
    #[arg(long, env = "ATONE_TOKEN_SECRET_FILE", conflicts_with = "token_secret")]
    pub token_secret_file: Option<std::path::PathBuf>,
    /// The longest a member token lives.
    #[arg(long, env = "ATONE_MEMBER_TOKEN_MAX_TTL", default_value_t = shown(AuthSettings::default().member_token_max_ttl))]
    pub member_token_max_ttl: Duration,
    /// Serve a non-loopback address with authentication off (without it, atone refuses).
    #[arg(long, env = "ATONE_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreditArgs {
    /// ご利用上限額: the most a member may owe at once, in yen.
    #[arg(long, env = "ATONE_CREDIT_LIMIT", default_value_t = CommandConfig::default().credit_limit)]
    pub credit_limit: i64,
}

#[derive(Debug, Clone, Args)]
pub struct CommandArgs {
    /// Write a member snapshot every this many events.
    #[arg(long, env = "ATONE_SNAPSHOT_EVERY", default_value_t = CommandConfig::default().snapshot_every)]
    pub snapshot_every: i64,
    /// How long the relay's lease lasts without renewal: after a command process dies,
    /// another one's relay takes over publishing within this time (with Kinesis only).
    #[arg(long, env = "ATONE_RELAY_LEASE_DURATION", default_value_t = shown(RelayConfig::default().lease_duration))]
    pub relay_lease_duration: Duration,
    /// How long the outgoing-webhook lease lasts without renewal: after the delivering
    /// process dies, another command process takes over within this time.
    #[arg(long, env = "ATONE_WEBHOOK_LEASE_DURATION", default_value_t = shown(DeliveryConfig::default().lease_duration))]
    pub webhook_lease_duration: Duration,
    /// The longest pause between two attempts at one outgoing webhook delivery (the pause
    /// doubles from 1 s up to it).
    #[arg(long, env = "ATONE_WEBHOOK_MAX_BACKOFF", default_value_t = shown(DeliveryConfig::default().max_backoff))]
    pub webhook_max_backoff: Duration,
    /// How long an endpoint's deliveries may fail before it is disabled (its cursor kept,
    /// to replay).
    #[arg(long, env = "ATONE_WEBHOOK_GIVE_UP_AFTER", default_value_t = shown(DeliveryConfig::default().give_up_after))]
    pub webhook_give_up_after: Duration,
    /// How long one outgoing webhook delivery waits for its answer.
    #[arg(long, env = "ATONE_WEBHOOK_TIMEOUT", default_value_t = shown(DeliveryConfig::default().timeout))]
    pub webhook_timeout: Duration,
    /// How long an idempotency key is kept: a retry within it gets the first reply, after
    /// it the key is forgotten and may be used afresh.
    #[arg(long, env = "ATONE_IDEMPOTENCY_RETENTION", default_value_t = shown(CommandConfig::default().idempotency_retention))]
    pub idempotency_retention: Duration,
    /// How many members' states are kept in memory between their commands, so a command
    /// reads only what was appended since (0: load every member from the event store);
    /// projecting inline, as many members' read-model rows too.
    #[arg(long, env = "ATONE_MEMBER_CACHE", default_value_t = CommandConfig::default().member_cache)]
    pub member_cache: usize,
    /// The bill-issuing fee of a monthly bill paid at a convenience store, in yen.
    #[arg(long, env = "ATONE_BILL_FEE", default_value_t = CommandConfig::default().bill_fee)]
    pub bill_fee: i64,
    /// Added once to a bill when it becomes overdue, in yen (0: none).
    #[arg(long, env = "ATONE_REISSUE_FEE", default_value_t = CommandConfig::default().reissue_fee)]
    pub reissue_fee: i64,
    /// The days overdue on which a reminder is recorded, comma-separated.
    #[arg(long, env = "ATONE_REMINDER_DAYS", value_delimiter = ',', default_values_t = CommandConfig::default().reminder_days)]
    pub reminder_days: Vec<i64>,
    /// A file of days banks are closed besides weekends, national holidays and 12/31–1/3:
    /// one YYYY-MM-DD per line, `#` starts a comment. A bank debit due on one is drawn on
    /// the next business day.
    #[arg(long, env = "ATONE_BANK_CLOSURES", value_name = "FILE", value_parser = bank_closures)]
    pub bank_closures: Option<BankClosures>,
    /// Business days the bank needs between a bank-debit bill's issue and its debit (0 to
    /// 20); a bill issued later than that is drawn on the next month's debit day.
    #[arg(long, env = "ATONE_DEBIT_NOTICE_DAYS", default_value_t = CommandConfig::default().debit_notice_days, value_parser = clap::value_parser!(i64).range(0..=20))]
    pub debit_notice_days: i64,
    /// The consignor (委託者) of bank-debit request files, a JSON file: {"consignor_code":
    /// the 10 digits the bank gave, "consignor_name", "bank_code", "bank_name",
    /// "branch_code", "branch_name", "account_kind": "ORDINARY" or "CHECKING",
    /// "account_number"}. Without it BillingService/ExportBankDebits is refused.
    #[arg(long, env = "ATONE_BANK_DEBIT_CONFIG", value_name = "FILE", value_parser = bank_debit_config)]
    pub bank_debit_config: Option<BankDebitConfig>,
    /// When the daily billing (the monthly close on the first run of a month, then the
    /// overdue check) runs: this long after midnight, Japan time.
    #[arg(long, env = "ATONE_BILLING_RUN_AT", default_value_t = shown(BillingSchedule::default().run_at))]
    pub billing_run_at: Duration,
    /// Do not run the daily billing in this process (BillingService still runs it on
    /// demand).
    #[arg(long, env = "ATONE_NO_DAILY_BILLING")]
    pub no_daily_billing: bool,
    /// A secret payment providers sign `POST /webhooks/payments` with; give two (or a
    /// comma-separated list) while rotating. Without one the webhook is off, unless
    /// authentication is off too (then it takes the development secret).
    #[arg(
        long = "webhook-secret",
        env = "ATONE_WEBHOOK_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub webhook_secrets: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// The longest a query waits for its min_version before answering UNAVAILABLE.
    #[arg(long, env = "ATONE_READ_WAIT", default_value_t = shown(QueryConfig::default().max_wait))]
    pub read_wait: Duration,
    /// How long the change feed keeps a change; a watcher resuming from an older cursor
    /// gets a fresh snapshot.
    #[arg(long, env = "ATONE_CHANGE_FEED_RETENTION", default_value_t = shown(FeedConfig::default().retention))]
    pub change_feed_retention: Duration,
    /// How often the change feed is read for changes projected by another process, and the
    /// event store for events appended by another process (SubscribeEvents).
    #[arg(long, env = "ATONE_FEED_POLL_INTERVAL", default_value_t = shown(FeedConfig::default().poll_interval))]
    pub feed_poll_interval: Duration,
    /// WatchMember streams one member may have open at once; past it, RESOURCE_EXHAUSTED.
    #[arg(long, env = "ATONE_MAX_WATCHERS_PER_MEMBER", default_value_t = QueryConfig::default().max_watchers_per_member)]
    pub max_watchers_per_member: usize,
    /// WatchMember streams the process may have open at once; past it, RESOURCE_EXHAUSTED.
    #[arg(long, env = "ATONE_MAX_WATCHERS", default_value_t = QueryConfig::default().max_watchers)]
    pub max_watchers: usize,
    /// SubscribeEvents streams the process may have open at once; past it,
    /// RESOURCE_EXHAUSTED.
    #[arg(long, env = "ATONE_MAX_EVENT_SUBSCRIBERS", default_value_t = EventTailConfig::default().max_subscribers)]
    pub max_event_subscribers: usize,
}

#[derive(Debug, Clone, Args)]
pub struct KinesisArgs {
    /// The Kinesis stream events travel on. Without it, `atone serve` hands events from
    /// the outbox to the projector inside the process.
    #[arg(long, env = "ATONE_STREAM_NAME")]
    pub stream_name: Option<String>,
    /// A Kinesis endpoint other than AWS's, e.g. http://127.0.0.1:4568 for kinesis-mock.
    #[arg(long, env = "ATONE_KINESIS_ENDPOINT")]
    pub kinesis_endpoint: Option<String>,
    /// Create the stream on start if it does not exist (local emulators; never done
    /// against AWS unless asked).
    #[arg(long, env = "ATONE_CREATE_STREAM")]
    pub create_stream: bool,
    /// Shards of a stream created by --create-stream.
    #[arg(long, env = "ATONE_STREAM_SHARDS", default_value_t = KinesisSettings::default().stream_shards)]
    pub stream_shards: u32,
    /// Read shards with enhanced fan-out (SubscribeToShard) instead of GetRecords polling.
    #[arg(long, env = "ATONE_ENHANCED_FAN_OUT")]
    pub enhanced_fan_out: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LeaseArgs {
    /// How long a shard's lease lasts without renewal: after a projector dies, the others
    /// take its shards within this time.
    #[arg(long, env = "ATONE_LEASE_DURATION", default_value_t = shown(KinesisProjectorConfig::default().lease_duration))]
    pub lease_duration: Duration,
    /// This projector's name in the lease table; by default host, process id and a random
    /// suffix.
    #[arg(long, env = "ATONE_PROJECTOR_ID")]
    pub projector_id: Option<String>,
    /// The longest pause between GetRecords calls on a shard that had nothing new (the
    /// pause doubles from 200 ms up to this, and drops back as soon as records come):
    /// shorter means changes after a quiet spell arrive sooner, at more calls per shard
    /// (Kinesis allows 5 a second per shard, shared by every polling consumer).
    #[arg(long, env = "ATONE_MAX_IDLE_POLL", default_value_t = shown(KinesisProjectorConfig::default().max_idle_poll))]
    pub max_idle_poll: Duration,
    /// Behave as a build that does not know this event type (repeatable): its events are
    /// parked as dead letters. For rehearsing a rolling upgrade; never in production.
    #[arg(long = "unknown-event-type", hide = true)]
    pub unknown_event_types: Vec<String>,
    /// How the read models follow the commands in `atone serve`: `inline` writes a
    /// command's read-model and change-feed rows in the transaction of its events;
    /// `async` leaves them to the embedded projector through the outbox (as over Kinesis,
    /// where the projection is always async).
    #[arg(long, env = "ATONE_PROJECTION", value_enum, default_value_t = ProjectionMode::default())]
    pub projection: ProjectionMode,
    /// How often the read models are checked against the event store (a member behind is
    /// repaired from it); 0s turns the check off.
    #[arg(long, env = "ATONE_RECONCILE_INTERVAL", default_value_t = shown(ReconcileConfig::default().interval))]
    pub reconcile_interval: Duration,
    /// Events younger than this are left to the projectors by the check.
    #[arg(long, env = "ATONE_RECONCILE_GRACE", default_value_t = shown(ReconcileConfig::default().grace))]
    pub reconcile_grace: Duration,
    /// ProjectorService's health turns NOT_SERVING once events have waited this long with
    /// the projection not moving (a stuck projector), and SERVING as soon as it moves.
    #[arg(long, env = "ATONE_STALL_THRESHOLD", default_value_t = shown(ProjectorSettings::default().stall_threshold))]
    pub stall_threshold: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub credit: CreditArgs,
    #[command(flatten)]
    pub command: CommandArgs,
    #[command(flatten)]
    pub query: QueryArgs,
    #[command(flatten)]
    pub kinesis: KinesisArgs,
    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CommandRoleArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub credit: CreditArgs,
    #[command(flatten)]
    pub command: CommandArgs,
    #[command(flatten)]
    pub kinesis: KinesisArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ProjectorRoleArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub kinesis: KinesisArgs,
    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct QueryRoleArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub credit: CreditArgs,
    #[command(flatten)]
    pub query: QueryArgs,
}
