//! atone running inside the test's process: a fresh database, migrations run, the app on a
//! random port, logs only with `TEST_LOG=1`.

use std::net::SocketAddr;
use std::time::Duration;

use atone::{Application, Settings};
use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_storage::DatabaseConnection;
use atone_storage::entity::events;
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Backend, TestDatabase, channel, wait_until_projected};

pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok()
        && let Ok(telemetry) = atone::telemetry::init(atone::cli::LogFormat::Text)
    {
        // Logs only (the tests set no OTLP endpoint): nothing to flush.
        std::mem::forget(telemetry);
    }
}

/// atone running inside the test's process.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when the settings asked for it.
    pub metrics_addr: Option<SocketAddr>,
    pub database: TestDatabase,
    /// A connection of the test's own, for checks straight on the tables.
    pub db: DatabaseConnection,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::migrated(backend).await;
        Self::spawn_on(database, configure).await
    }

    /// Starts atone on an existing database (for a second instance, or a restart).
    pub async fn spawn_on(database: TestDatabase, configure: impl FnOnce(&mut Settings)) -> Self {
        init_logs();
        let mut settings = Settings::on_database(database.url.clone());
        settings.listen = "127.0.0.1:0".parse().expect("address");
        configure(&mut settings);
        let app = Application::build(settings).await.expect("atone starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let db = database.connect().await;
        Self {
            addr,
            metrics_addr,
            database,
            db,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> Channel {
        channel(&self.endpoint()).await
    }

    pub async fn command(&self) -> CommandServiceClient<Channel> {
        CommandServiceClient::new(self.channel().await)
    }

    pub async fn query(&self) -> QueryServiceClient<Channel> {
        QueryServiceClient::new(self.channel().await)
    }

    pub async fn projector(&self) -> ProjectorServiceClient<Channel> {
        ProjectorServiceClient::new(self.channel().await)
    }

    pub async fn webhooks(
        &self,
    ) -> atone_api::v1::webhook_service_client::WebhookServiceClient<Channel> {
        atone_api::v1::webhook_service_client::WebhookServiceClient::new(self.channel().await)
    }

    /// Stops the server gracefully and waits for it; returns the database.
    pub async fn stop(mut self) -> TestDatabase {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .expect("atone stops within 30 s")
                .expect("server task")
                .expect("server result");
        }
        self.db.clone().close().await.ok();
        std::mem::replace(&mut self.database, TestDatabase::placeholder())
    }

    pub async fn event_count(&self) -> u64 {
        events::Entity::find()
            .count(&self.db)
            .await
            .expect("count events")
    }

    /// Polls until the projector has applied every event in the store, or panics.
    pub async fn wait_until_projected(&self) {
        wait_until_projected(&self.db).await;
    }

    /// The open `WatchMember` streams of the process, as GetStatus reports them.
    pub async fn watchers(&self) -> i64 {
        self.projector()
            .await
            .get_status(atone_api::v1::GetStatusRequest {})
            .await
            .expect("GetStatus")
            .into_inner()
            .watchers
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An instant given in Japan time.
pub fn jst(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    atone_domain::JST
        .with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("a valid time in Japan")
        .with_timezone(&chrono::Utc)
}

/// Configures atone without its daily billing run (a test that runs the jobs through
/// BillingService, or that must know which commands a process decides).
pub fn no_daily_billing(settings: &mut Settings) {
    if let Some(command) = settings.command.as_mut() {
        command.billing.enabled = false;
    }
}

/// Configures atone to take its time from `clock`; with `daily_billing`, its daily billing
/// run looks at that clock every 50 ms, otherwise it does not run (tests then close months
/// through BillingService).
pub fn with_clock(
    clock: &atone_command::ManualClock,
    daily_billing: bool,
) -> impl FnOnce(&mut Settings) + use<> {
    let clock = clock.clone();
    move |settings| {
        settings.clock = std::sync::Arc::new(clock);
        if let Some(command) = settings.command.as_mut() {
            command.billing.enabled = daily_billing;
            command.billing.check_interval = Duration::from_millis(50);
        }
    }
}

/// Outgoing webhooks retried within milliseconds, not seconds, and read often: a test
/// waits on deliveries, not on backoff.
pub fn quick_deliveries(settings: &mut Settings) {
    if let Some(command) = &mut settings.command {
        command.deliveries.initial_backoff = std::time::Duration::from_millis(20);
        command.deliveries.max_backoff = std::time::Duration::from_millis(200);
        command.deliveries.poll_interval = std::time::Duration::from_millis(50);
        command.deliveries.lease_duration = std::time::Duration::from_secs(2);
    }
}
