//! The flags of each role, as the [`Settings`] of the process.

use std::sync::Arc;

use atone_command::billing::BillingSchedule;
use atone_command::{CommandConfig, SystemClock};
use atone_delivery::{KinesisProjectorConfig, ReconcileConfig, RelayConfig};
use atone_query::{EventTailConfig, FeedConfig, QueryConfig};
use atone_storage::DbConfig;
use atone_storage::projection::Readable;

use super::args::*;
use crate::server::{ServerSettings, TlsSettings};
use crate::settings::{
    AuthSettings, CommandSettings, KinesisSettings, ProjectorSettings, QuerySettings, Settings,
};

impl DatabaseArgs {
    /// `--database-url`, else the standard `DATABASE_URL`, else the SQLite default.
    pub fn config(&self) -> DbConfig {
        let url = self
            .url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()));
        DbConfig {
            max_connections: self.max_connections,
            ..url.map(DbConfig::new).unwrap_or_default()
        }
    }
}

impl CommonArgs {
    /// The settings of a process that runs no service yet.
    fn settings(&self, kinesis: Option<KinesisSettings>) -> Settings {
        Settings {
            listen: self.listen,
            database: self.database.config(),
            migrate: self.migrate,
            command: None,
            projector: None,
            query: None,
            kinesis,
            clock: Arc::new(SystemClock {
                offset: *self.clock_offset,
            }),
            auth: AuthSettings {
                api_keys: self.auth.api_keys.clone(),
                token_secret: self.auth.token_secret.clone(),
                token_secret_file: self.auth.token_secret_file.clone(),
                member_token_max_ttl: *self.auth.member_token_max_ttl,
                insecure_no_auth: self.auth.insecure_no_auth,
            },
            server: self.server.settings(),
            metrics_listen: self.metrics_listen,
        }
    }
}

impl ServerArgs {
    fn settings(&self) -> ServerSettings {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            _ => None,
        };
        ServerSettings {
            tls,
            max_concurrent_streams: self.max_concurrent_streams,
            keepalive_interval: *self.keepalive_interval,
            keepalive_timeout: *self.keepalive_timeout,
            request_timeout: *self.request_timeout,
            max_in_flight: self.max_in_flight,
            max_in_flight_per_caller: self.max_in_flight_per_caller,
            max_request_bytes: self.max_request_bytes,
            max_file_bytes: self.max_file_bytes,
            body_timeout: *self.body_timeout,
            shutdown_grace: *self.shutdown_grace,
            readiness: Default::default(),
        }
    }
}

impl KinesisArgs {
    fn settings(&self) -> Option<KinesisSettings> {
        Some(KinesisSettings {
            stream_name: self.stream_name.clone()?,
            endpoint: self.kinesis_endpoint.clone(),
            create_stream: self.create_stream,
            stream_shards: self.stream_shards,
            enhanced_fan_out: self.enhanced_fan_out,
        })
    }
}

fn command(credit: &CreditArgs, args: &CommandArgs) -> CommandSettings {
    CommandSettings {
        handler: CommandConfig {
            credit_limit: credit.credit_limit,
            snapshot_every: args.snapshot_every,
            bill_fee: args.bill_fee,
            reissue_fee: args.reissue_fee,
            reminder_days: args.reminder_days.clone(),
            calendar: atone_domain::Calendar::with_closures(
                args.bank_closures.iter().flat_map(|c| c.0.iter().copied()),
            ),
            debit_notice_days: args.debit_notice_days,
            idempotency_retention: *args.idempotency_retention,
            member_cache: args.member_cache,
            ..CommandConfig::default()
        },
        relay: RelayConfig {
            lease_duration: *args.relay_lease_duration,
            ..RelayConfig::default()
        },
        billing: BillingSchedule {
            enabled: !args.no_daily_billing,
            run_at: *args.billing_run_at,
            ..BillingSchedule::default()
        },
        webhook_secrets: args.webhook_secrets.clone(),
        bank_debit: args.bank_debit_config.as_ref().map(|c| c.0.clone()),
        deliveries: crate::outgoing::DeliveryConfig {
            lease_duration: *args.webhook_lease_duration,
            max_backoff: *args.webhook_max_backoff,
            give_up_after: *args.webhook_give_up_after,
            timeout: *args.webhook_timeout,
            ..crate::outgoing::DeliveryConfig::default()
        },
    }
}

fn projector(args: &LeaseArgs) -> ProjectorSettings {
    let readable = Readable::without(args.unknown_event_types.iter().cloned());
    ProjectorSettings {
        projector_id: args.projector_id.clone(),
        kinesis: KinesisProjectorConfig {
            lease_duration: *args.lease_duration,
            max_idle_poll: *args.max_idle_poll,
            readable: readable.clone(),
            ..KinesisProjectorConfig::default()
        },
        readable,
        reconcile: ReconcileConfig {
            interval: *args.reconcile_interval,
            grace: *args.reconcile_grace,
        },
        stall_threshold: *args.stall_threshold,
        mode: args.projection,
    }
}

fn query(credit: &CreditArgs, args: &QueryArgs) -> QuerySettings {
    QuerySettings {
        api: QueryConfig {
            default_credit_limit: credit.credit_limit,
            max_wait: *args.read_wait,
            max_watchers_per_member: args.max_watchers_per_member,
            max_watchers: args.max_watchers,
            ..QueryConfig::default()
        },
        feed: FeedConfig {
            retention: *args.change_feed_retention,
            poll_interval: *args.feed_poll_interval,
        },
        events: EventTailConfig {
            poll_interval: *args.feed_poll_interval,
            max_subscribers: args.max_event_subscribers,
            ..EventTailConfig::default()
        },
    }
}

impl From<ServeArgs> for Settings {
    fn from(a: ServeArgs) -> Self {
        Self {
            command: Some(command(&a.credit, &a.command)),
            projector: Some(projector(&a.lease)),
            query: Some(query(&a.credit, &a.query)),
            ..a.common.settings(a.kinesis.settings())
        }
    }
}

impl From<CommandRoleArgs> for Settings {
    fn from(a: CommandRoleArgs) -> Self {
        Self {
            command: Some(command(&a.credit, &a.command)),
            ..a.common.settings(a.kinesis.settings())
        }
    }
}

impl From<ProjectorRoleArgs> for Settings {
    fn from(a: ProjectorRoleArgs) -> Self {
        Self {
            projector: Some(projector(&a.lease)),
            ..a.common.settings(a.kinesis.settings())
        }
    }
}

impl From<QueryRoleArgs> for Settings {
    fn from(a: QueryRoleArgs) -> Self {
        Self {
            query: Some(query(&a.credit, &a.query)),
            ..a.common.settings(None)
        }
    }
}
