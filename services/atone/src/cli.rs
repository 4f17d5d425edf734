//! Command line and environment. Every flag has an `ATONE_*` environment variable; the
//! database URL also falls back to the standard `DATABASE_URL`, and Kinesis takes its
//! region and credentials from the standard AWS environment.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "atone",
    version,
    about = "atone: a buy-now-pay-later back end, CQRS + event sourcing on gRPC"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Commands>,
    /// With no subcommand, atone serves.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[arg(long, env = "ATONE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// CommandService, ProjectorService and QueryService in one process (the default). With
    /// --stream-name, events travel over Kinesis; without, straight from the outbox.
    Serve(ServeArgs),
    /// CommandService, and the relay that publishes the outbox to Kinesis.
    Command(CommandRoleArgs),
    /// ProjectorService: reads every shard of the stream into the read models, sharing the
    /// shards with the other projector processes through leases.
    Projector(ProjectorRoleArgs),
    /// QueryService: reads the read models and streams their changes to watchers.
    Query(QueryRoleArgs),
    /// Applies pending database migrations and exits.
    Migrate(MigrateArgs),
    /// Creates the Kinesis stream if it does not exist (for local emulators) and exits.
    CreateStream(CreateStreamArgs),
    /// Asks a running atone for its gRPC health; exits 0 if it is SERVING (for container
    /// health checks).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The database when none is configured: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://atone.db?mode=rwc";

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
        default_value_t = 16
    )]
    pub max_connections: u32,
}

impl DatabaseArgs {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            max_connections: 16,
        }
    }

    /// `--database-url`, else the standard `DATABASE_URL`, else the SQLite default.
    pub fn url(&self) -> String {
        self.url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }
}

/// What every serving process takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Address for gRPC, gRPC-Web, reflection and health (and, with QueryService, the page).
    #[arg(long, env = "ATONE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Apply pending migrations on start. Always done for SQLite; for MySQL run
    /// `atone migrate` or pass this.
    #[arg(long, env = "ATONE_MIGRATE")]
    pub migrate: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreditArgs {
    /// ご利用上限額: the most a member may owe at once, in yen.
    #[arg(long, env = "ATONE_CREDIT_LIMIT", default_value_t = atone_domain::DEFAULT_CREDIT_LIMIT)]
    pub credit_limit: i64,
}

#[derive(Debug, Clone, Args)]
pub struct CommandArgs {
    /// Write a member snapshot every this many events.
    #[arg(long, env = "ATONE_SNAPSHOT_EVERY", default_value_t = 100)]
    pub snapshot_every: i64,
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// The longest a query waits for its min_version before answering UNAVAILABLE.
    #[arg(long, env = "ATONE_READ_WAIT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub read_wait: Duration,
    /// How long the change feed keeps a change; a watcher resuming from an older cursor
    /// gets a fresh snapshot.
    #[arg(long, env = "ATONE_CHANGE_FEED_RETENTION", default_value = "7d", value_parser = humantime::parse_duration)]
    pub change_feed_retention: Duration,
    /// How often the change feed is read for changes projected by another process.
    #[arg(long, env = "ATONE_FEED_POLL_INTERVAL", default_value = "100ms", value_parser = humantime::parse_duration)]
    pub feed_poll_interval: Duration,
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
    #[arg(long, env = "ATONE_STREAM_SHARDS", default_value_t = 4)]
    pub stream_shards: i32,
    /// Read shards with enhanced fan-out (SubscribeToShard) instead of GetRecords polling.
    #[arg(long, env = "ATONE_ENHANCED_FAN_OUT")]
    pub enhanced_fan_out: bool,
}

impl KinesisArgs {
    pub fn none() -> Self {
        Self {
            stream_name: None,
            kinesis_endpoint: None,
            create_stream: false,
            stream_shards: 4,
            enhanced_fan_out: false,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct LeaseArgs {
    /// How long a shard's lease lasts without renewal: after a projector dies, the others
    /// take its shards within this time.
    #[arg(long, env = "ATONE_LEASE_DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,
    /// This projector's name in the lease table; by default host, process id and a random
    /// suffix.
    #[arg(long, env = "ATONE_PROJECTOR_ID")]
    pub projector_id: Option<String>,
    /// The longest pause between GetRecords calls on a shard that had nothing new (the
    /// pause doubles from 200 ms up to this, and drops back as soon as records come):
    /// shorter means changes after a quiet spell arrive sooner, at more calls per shard
    /// (Kinesis allows 5 a second per shard, shared by every polling consumer).
    #[arg(long, env = "ATONE_MAX_IDLE_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub max_idle_poll: Duration,
}

impl Default for LeaseArgs {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(10),
            projector_id: None,
            max_idle_poll: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CreateStreamArgs {
    #[arg(long, env = "ATONE_STREAM_NAME")]
    pub stream_name: String,
    #[arg(long, env = "ATONE_KINESIS_ENDPOINT")]
    pub kinesis_endpoint: Option<String>,
    #[arg(long = "shards", env = "ATONE_STREAM_SHARDS", default_value_t = 4)]
    pub shards: i32,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The atone to ask.
    #[arg(
        long,
        env = "ATONE_HEALTHCHECK_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub addr: SocketAddr,
    /// A service to ask about, e.g. atone.v1.QueryService; empty for the whole process.
    #[arg(long, default_value = "")]
    pub service: String,
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
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

impl ServeArgs {
    /// The defaults, on `database_url`: what tests start from.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            common: CommonArgs {
                listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
                database: DatabaseArgs::new(database_url),
                migrate: false,
            },
            credit: CreditArgs {
                credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            },
            command: CommandArgs {
                snapshot_every: 100,
            },
            query: QueryArgs {
                read_wait: Duration::from_secs(5),
                change_feed_retention: Duration::from_secs(7 * 24 * 3600),
                feed_poll_interval: Duration::from_millis(100),
            },
            kinesis: KinesisArgs::none(),
            lease: LeaseArgs::default(),
        }
    }
}

/// The URL with any password replaced, fit for a log line.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<unparsable url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("mysql://atone:s3cret@db:3306/atone"),
            "mysql://atone:***@db:3306/atone"
        );
        assert_eq!(
            redact("sqlite://atone.db?mode=rwc"),
            "sqlite://atone.db?mode=rwc"
        );
        assert!(!redact("mysql://u:p%40ss@h/d").contains("p%40ss"));
    }

    #[test]
    fn a_bare_atone_serves_with_the_defaults() {
        let cli = Cli::try_parse_from(["atone"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.common.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(cli.serve.common.database.url, None);
        assert_eq!(cli.serve.kinesis.stream_name, None);
        let cli = Cli::try_parse_from(["atone", "serve", "--read-wait", "250ms"]).unwrap();
        assert!(
            matches!(cli.command, Some(Commands::Serve(a)) if a.query.read_wait == Duration::from_millis(250))
        );
    }

    #[test]
    fn each_role_takes_its_own_flags() {
        let cli = Cli::try_parse_from([
            "atone",
            "projector",
            "--stream-name",
            "s",
            "--lease-duration",
            "3s",
            "--max-idle-poll",
            "250ms",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Some(Commands::Projector(a)) if a.lease.lease_duration == Duration::from_secs(3) && a.lease.max_idle_poll == Duration::from_millis(250))
        );
        assert!(Cli::try_parse_from(["atone", "query", "--stream-name", "s"]).is_err());
        assert!(Cli::try_parse_from(["atone", "command", "--read-wait", "1s"]).is_err());
    }
}
