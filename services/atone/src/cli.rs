//! Command line and environment. Every flag has an `ATONE_*` environment variable (the
//! database URL also reads the standard `DATABASE_URL`).

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
    /// Runs CommandService, ProjectorService and QueryService in one process (the default).
    Serve(ServeArgs),
    /// Applies pending database migrations and exits.
    Migrate(MigrateArgs),
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

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address for gRPC, gRPC-Web, reflection and health checks.
    #[arg(long, env = "ATONE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Apply pending migrations on start. Always done for SQLite; for MySQL run
    /// `atone migrate` or pass this.
    #[arg(long, env = "ATONE_MIGRATE")]
    pub migrate: bool,
    /// ご利用上限額: the most a member may owe at once, in yen.
    #[arg(long, env = "ATONE_CREDIT_LIMIT", default_value_t = atone_domain::DEFAULT_CREDIT_LIMIT)]
    pub credit_limit: i64,
    /// The longest a query waits for its min_version before answering UNAVAILABLE.
    #[arg(long, env = "ATONE_READ_WAIT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub read_wait: Duration,
    /// How long the change feed keeps a change; a watcher resuming from an older cursor
    /// gets a fresh snapshot.
    #[arg(long, env = "ATONE_CHANGE_FEED_RETENTION", default_value = "7d", value_parser = humantime::parse_duration)]
    pub change_feed_retention: Duration,
    /// Write a member snapshot every this many events.
    #[arg(long, env = "ATONE_SNAPSHOT_EVERY", default_value_t = 100)]
    pub snapshot_every: i64,
}

impl ServeArgs {
    /// The defaults, on `database_url`: what tests start from.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database: DatabaseArgs::new(database_url),
            migrate: false,
            credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            read_wait: Duration::from_secs(5),
            change_feed_retention: Duration::from_secs(7 * 24 * 3600),
            snapshot_every: 100,
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
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(cli.serve.database.url, None);
        let cli = Cli::try_parse_from(["atone", "serve", "--read-wait", "250ms"]).unwrap();
        assert!(
            matches!(cli.command, Some(Commands::Serve(a)) if a.read_wait == Duration::from_millis(250))
        );
    }
}
