//! Command line and environment. Every flag has an `ATONE_*` environment variable; the
//! database URL also falls back to the standard `DATABASE_URL`, and Kinesis takes its
//! region and credentials from the standard AWS environment. Every default comes from the
//! `Default` of the settings the flags convert into ([`crate::settings`]).

mod args;
mod convert;
mod tools;

use clap::{Parser, Subcommand, ValueEnum};

pub use args::*;
pub use tools::*;

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

// Parsed once when the process starts: the roles' variants being large costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Folds every member's events from the event store and compares the result with the
    /// read models, printing each difference; exits non-zero on drift. Members with dead
    /// letters are left out (listed).
    Verify(VerifyArgs),
    /// Builds the read models of the members given (--member) afresh from the event store,
    /// in place, in one transaction each (their change feed restarts with the rebuilt
    /// versions).
    Rebuild(RebuildArgs),
    /// Creates the Kinesis stream if it does not exist (for local emulators) and exits.
    CreateStream(CreateStreamArgs),
    /// Asks a running atone for its gRPC health; exits 0 if it is SERVING (for container
    /// health checks).
    Healthcheck(HealthcheckArgs),
    /// 締め: closes a month for every member through a running atone (BillingService),
    /// printing progress; exits 0 when every member is closed.
    Close(CloseArgs),
    /// 口座振替: exports the request file of the bank-debit bills drawn on a date, or imports
    /// the bank's result file, through a running atone (BillingService; the billing scope).
    BankDebit(BankDebitArgs),
    /// Dead letters: events a projector could not apply, parked per member. Lists them,
    /// retries a member, or skips a member's first parked event, through a running atone
    /// (ProjectorService; the admin scope).
    DeadLetters(DeadLettersArgs),
    /// Outgoing webhooks: adds, lists, disables and replays endpoints, and shows their
    /// deliveries, through a running atone (WebhookService; the admin scope).
    Webhooks(WebhooksArgs),
    /// A member's event log, as the event store holds it, oldest first, through a running
    /// atone (QueryService): a table, or JSON with --json.
    Events(EventsArgs),
    /// Makes an API key: prints the credential to give to the service (shown once), and adds
    /// the key's entry (the secret's hash and the scopes) to the keys file.
    ApiKey(ApiKeyArgs),
    /// Makes what authentication needs in a directory, leaving what is there alone: a keys
    /// file with one admin key (its credential printed once) and a member-token secret file.
    InitAuth(InitAuthArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
mod tests;
