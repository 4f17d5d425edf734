//! The flags of the subcommands that do one thing and exit, and of those that are clients of
//! a running atone.

use std::net::SocketAddr;

use clap::Args;
use humantime::Duration;

use super::args::DatabaseArgs;
use crate::settings::{KinesisSettings, Settings};

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The member to rebuild (repeat for more); without it, every member.
    #[arg(long = "member", value_name = "USER")]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateStreamArgs {
    /// The stream to create.
    #[arg(long, env = "ATONE_STREAM_NAME")]
    pub stream_name: String,
    /// Kinesis at this address (an emulator) instead of AWS's.
    #[arg(long, env = "ATONE_KINESIS_ENDPOINT")]
    pub kinesis_endpoint: Option<String>,
    /// Its shards, if it is created.
    #[arg(long = "shards", env = "ATONE_STREAM_SHARDS", default_value_t = KinesisSettings::default().stream_shards)]
    pub shards: u32,
}

/// How a subcommand reaches a running atone that serves TLS.
#[derive(Debug, Clone, Args)]
pub struct ClientTlsArgs {
    /// The CA (PEM) that signed atone's certificate: connect with TLS.
    #[arg(long, env = "ATONE_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// A client certificate (PEM), for an atone that wants one (mutual TLS).
    #[arg(long, env = "ATONE_CLIENT_CERT", requires = "client_key")]
    pub client_cert: Option<std::path::PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, env = "ATONE_CLIENT_KEY", requires = "client_cert")]
    pub client_key: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The atone to ask.
    #[arg(long, env = "ATONE_HEALTHCHECK_ADDR", default_value_t = Settings::default().listen)]
    pub addr: SocketAddr,
    /// A service to ask about, e.g. atone.v1.QueryService; empty for the whole process.
    #[arg(long, default_value = "")]
    pub service: String,
    /// How long to wait for the answer before exiting non-zero.
    #[arg(long, default_value = "3s")]
    pub timeout: Duration,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ApiKeyArgs {
    /// The key's name: the part of the credential before the dot.
    #[arg(long)]
    pub id: String,
    /// What it may do, comma-separated: purchases, billing, payments, read, events, admin.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scopes: Vec<atone_auth::Scope>,
    /// Add the entry to this keys file (created if missing); without it, print the entry.
    #[arg(long)]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct InitAuthArgs {
    /// Where to make `api-keys.json` and `token-secret` (created if missing).
    #[arg(long)]
    pub dir: std::path::PathBuf,
    /// The admin key's id.
    #[arg(long, default_value = "admin")]
    pub admin_id: String,
}

#[derive(Debug, Clone, Args)]
pub struct CloseArgs {
    /// The month to close, YYYY-MM (Japan time); it must have ended.
    #[arg(long)]
    pub period: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// A running atone to ask, for the subcommands that are its clients.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The atone to ask (running the service the subcommand calls).
    #[arg(long, env = "ATONE_ADDR", default_value_t = Settings::default().listen)]
    pub addr: SocketAddr,
    /// An API key with the scope the call needs, when atone has authentication on.
    #[arg(long, env = "ATONE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DeadLettersArgs {
    #[command(subcommand)]
    pub action: DeadLetterAction,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeadLetterAction {
    /// Lists dead letters, oldest first: parked ones, or with --all resolved ones too.
    List {
        /// One member's only.
        #[arg(long)]
        member: Option<String>,
        /// Resolved ones too (retried, skipped).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Applies a parked member's events again, in order, from the event store.
    Retry {
        /// The parked member.
        #[arg(long)]
        member: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Skips a parked member's first parked event; its later events are then applied.
    Skip {
        /// The parked member.
        #[arg(long)]
        member: String,
        /// The member's first parked version.
        #[arg(long)]
        version: i64,
        /// Why: kept with the dead letter.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    pub action: WebhookAction,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum WebhookAction {
    /// Registers an endpoint; prints its secret (shown once), which deliveries are signed
    /// with.
    Add {
        /// The endpoint's id: 1 to 64 of A-Z a-z 0-9 . _ -
        #[arg(long)]
        id: String,
        /// Where to post: http:// or https://
        #[arg(long)]
        url: String,
        /// The event types it receives, comma-separated; all when not given.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Deliver every stored event from the first, not only those appended from now on.
        #[arg(long)]
        from_start: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Lists the endpoints: enabled or why not, cursor and lag.
    List {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Stops deliveries to an endpoint; its cursor is kept.
    Disable {
        /// The endpoint's id.
        #[arg(long)]
        id: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Enables an endpoint again, delivering the events after a position (those sent before
    /// included).
    Replay {
        /// The endpoint's id.
        #[arg(long)]
        id: String,
        /// The position to deliver after: 0 for every event; the endpoint's cursor when not
        /// given.
        #[arg(long)]
        after: Option<i64>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// An endpoint's delivery attempts, newest first.
    Deliveries {
        /// The endpoint's id.
        #[arg(long)]
        id: String,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: i32,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

impl WebhookAction {
    pub fn remote(&self) -> &RemoteArgs {
        match self {
            Self::Add { remote, .. }
            | Self::List { remote }
            | Self::Disable { remote, .. }
            | Self::Replay { remote, .. }
            | Self::Deliveries { remote, .. } => remote,
        }
    }
}

impl DeadLetterAction {
    pub fn remote(&self) -> &RemoteArgs {
        match self {
            Self::List { remote, .. } | Self::Retry { remote, .. } | Self::Skip { remote, .. } => {
                remote
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// The member.
    pub user_id: String,
    /// Events after this version only.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BankDebitArgs {
    #[command(subcommand)]
    pub action: BankDebitAction,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum BankDebitAction {
    /// Writes the request file (全銀協 format, Shift_JIS) of the bank-debit bills drawn on
    /// a date, and prints what it holds and the bills it leaves out.
    Export {
        /// The debit date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Where to write the file; it must not exist yet.
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Reads the bank's result file: records each debit made as money received and each
    /// failed one as a convenience-store bill. A file with an error changes nothing.
    Import {
        /// The result file.
        file: std::path::PathBuf,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

impl BankDebitAction {
    pub fn remote(&self) -> &RemoteArgs {
        match self {
            Self::Export { remote, .. } | Self::Import { remote, .. } => remote,
        }
    }
}
