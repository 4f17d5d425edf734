//! What one atone process runs, and how: plain values whose `Default`s are the only source
//! of atone's defaults. The command line ([`crate::cli`]) converts into these; tests build
//! them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use atone_command::billing::BillingSchedule;
use atone_command::{CommandConfig, SharedClock, SystemClock};
use atone_delivery::{KinesisProjectorConfig, ReconcileConfig, RelayConfig};
use atone_query::{EventTailConfig, FeedConfig, QueryConfig};
use atone_storage::DbConfig;
use atone_storage::projection::Readable;

use crate::server::ServerSettings;

/// One process: which services it runs, on which port and database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// gRPC, gRPC-Web, reflection, health and (with QueryService) the page.
    pub listen: SocketAddr,
    pub database: DbConfig,
    /// Apply pending migrations on start; always done for SQLite.
    pub migrate: bool,
    /// CommandService, and with Kinesis the relay.
    pub command: Option<CommandSettings>,
    /// A projector (embedded, or reading Kinesis) and ProjectorService.
    pub projector: Option<ProjectorSettings>,
    /// QueryService and the page.
    pub query: Option<QuerySettings>,
    /// The stream events travel on; without it, the outbox is delivered in the process.
    pub kinesis: Option<KinesisSettings>,
    /// Where "now" comes from: the system clock, or a test's.
    pub clock: SharedClock,
    pub auth: AuthSettings,
    /// TLS and the limits of the one port.
    pub server: ServerSettings,
    /// Prometheus metrics at `/metrics` on this address (plain HTTP, no authentication:
    /// counts and latencies only); off without it.
    pub metrics_listen: Option<SocketAddr>,
}

/// Who may call. With no keys file, authentication is off and atone serves on loopback
/// addresses only (unless `insecure_no_auth`).
#[derive(Clone)]
pub struct AuthSettings {
    /// The API keys file (`--api-keys`): authentication is on when it is given.
    pub api_keys: Option<PathBuf>,
    /// Signs member tokens; at least 32 bytes. Without it, no member tokens.
    pub token_secret: Option<String>,
    /// A file holding the token secret (a container secret), read on start.
    pub token_secret_file: Option<PathBuf>,
    /// The longest a member token lives.
    pub member_token_max_ttl: Duration,
    /// Serve a non-loopback address with authentication off.
    pub insecure_no_auth: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            api_keys: None,
            token_secret: None,
            token_secret_file: None,
            member_token_max_ttl: Duration::from_secs(3600),
            insecure_no_auth: false,
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("api_keys", &self.api_keys)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "** redacted **"),
            )
            .field("token_secret_file", &self.token_secret_file)
            .field("member_token_max_ttl", &self.member_token_max_ttl)
            .field("insecure_no_auth", &self.insecure_no_auth)
            .finish()
    }
}

/// `atone serve`: all three services in one process, on the SQLite default.
impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database: DbConfig::default(),
            migrate: false,
            command: Some(CommandSettings::default()),
            projector: Some(ProjectorSettings::default()),
            query: Some(QuerySettings::default()),
            kinesis: None,
            clock: Arc::new(SystemClock::default()),
            auth: AuthSettings::default(),
            server: ServerSettings::default(),
            metrics_listen: None,
        }
    }
}

#[derive(Clone, Default)]
pub struct CommandSettings {
    pub handler: CommandConfig,
    pub relay: RelayConfig,
    /// The daily run of the monthly close and the overdue check.
    pub billing: BillingSchedule,
    /// The secrets payment providers sign webhooks with (two while one is rotated). With
    /// none, the webhook is off, or (authentication off) takes the development secret.
    pub webhook_secrets: Vec<String>,
    /// The consignor of bank-debit request files (`--bank-debit-config`); without it no
    /// request file can be exported.
    pub bank_debit: Option<atone_command::billing::Consignor>,
    /// Outgoing webhooks: delivered by one command process at a time, under a lease.
    pub deliveries: crate::outgoing::DeliveryConfig,
}

#[derive(Debug, Clone)]
pub struct ProjectorSettings {
    /// This projector's name in the lease table; by default host, process id and a random
    /// suffix.
    pub projector_id: Option<String>,
    pub kinesis: KinesisProjectorConfig,
    /// What this build reads (every event type, unless rehearsing an upgrade); anything
    /// else is parked.
    pub readable: Readable,
    /// The periodic check of the read models against the event store.
    pub reconcile: ReconcileConfig,
    /// ProjectorService reports NOT_SERVING once work has waited this long with nothing
    /// moving.
    pub stall_threshold: std::time::Duration,
    /// How a process that also runs CommandService, with no Kinesis, projects its commands.
    pub mode: ProjectionMode,
}

/// How the read models follow the commands of a process that runs both roles on one
/// database (`atone serve`). Over Kinesis, and in a process without CommandService, the
/// projection is always [`ProjectionMode::Async`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProjectionMode {
    /// Each command's read-model rows and change-feed rows are written in the transaction
    /// that appends its events (commands that come together share it): a change is
    /// visible to queries and watchers when the reply is, and there is no outbox row, no
    /// second transaction and no checkpoint. `auto`, the earlier default, means the same.
    #[default]
    #[value(alias = "auto")]
    Inline,
    /// Each command writes an outbox row; the embedded projector applies it in a second
    /// transaction (the path the Kinesis deployment takes).
    Async,
}

impl Default for ProjectorSettings {
    fn default() -> Self {
        Self {
            projector_id: None,
            kinesis: KinesisProjectorConfig::default(),
            readable: Readable::default(),
            reconcile: ReconcileConfig::default(),
            stall_threshold: std::time::Duration::from_secs(60),
            mode: ProjectionMode::default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct QuerySettings {
    pub api: QueryConfig,
    pub feed: FeedConfig,
    /// The reader of all events (SubscribeEvents).
    pub events: EventTailConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisSettings {
    pub stream_name: String,
    /// A Kinesis endpoint other than AWS's, e.g. an emulator.
    pub endpoint: Option<String>,
    /// Create the stream on start if it does not exist (never done unless asked).
    pub create_stream: bool,
    /// Shards of a stream atone creates.
    pub stream_shards: u32,
    /// Read shards with enhanced fan-out (SubscribeToShard) instead of polling.
    pub enhanced_fan_out: bool,
}

impl Default for KinesisSettings {
    fn default() -> Self {
        Self {
            stream_name: "atone-events".to_owned(),
            endpoint: None,
            create_stream: false,
            stream_shards: 4,
            enhanced_fan_out: false,
        }
    }
}

impl Settings {
    /// The defaults, on the database at `url`.
    pub fn on_database(url: impl Into<String>) -> Self {
        Self {
            database: DbConfig::new(url),
            ..Self::default()
        }
    }

    /// The names of the services this process runs, for the log.
    pub fn service_names(&self) -> Vec<&'static str> {
        [
            self.command.as_ref().map(|_| "command"),
            self.projector.as_ref().map(|_| "projector"),
            self.query.as_ref().map(|_| "query"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Refuses a process that would write events nobody delivers, read a stream it was
    /// not given, or serve the network with authentication off.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.auth.api_keys.is_none()
            && !self.listen.ip().is_loopback()
            && !self.auth.insecure_no_auth
        {
            anyhow::bail!(
                "refusing to serve {} with authentication off: give --api-keys FILE (see `atone api-key`), \
                 listen on a loopback address, or pass --insecure-no-auth",
                self.listen
            );
        }
        if self.kinesis.is_none() {
            if self.command.is_some() && self.projector.is_none() {
                anyhow::bail!(
                    "atone command publishes to Kinesis: give --stream-name (or run atone serve, which needs none)"
                );
            }
            if self.projector.is_some() && self.command.is_none() {
                anyhow::bail!("atone projector reads a Kinesis stream: give --stream-name");
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for CommandSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSettings")
            .field("handler", &self.handler)
            .field("relay", &self.relay)
            .field("billing", &self.billing)
            .field(
                "webhook_secrets",
                &format!("{} redacted", self.webhook_secrets.len()),
            )
            .field("bank_debit", &self.bank_debit)
            .field("deliveries", &self.deliveries)
            .finish()
    }
}
