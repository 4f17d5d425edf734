//! Starting atone for a test: a fresh database (a SQLite file in a temporary directory, or a
//! uuid-named MariaDB database), migrations run, the app on a random port, logs only with
//! `TEST_LOG=1`.
//!
//! MariaDB is reached at `ATONE_TEST_MYSQL_URL` (default `mysql://atone:atone@127.0.0.1:3306`,
//! the user `scripts/test` creates). A test that needs it fails when it is not there; it
//! never skips.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use atone::Application;
use atone::cli::ServeArgs;
use atone_api::tonic::Request;
use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{self, PaymentMode, PurchaseRequest, PurchaseResponse};
use atone_domain::{Member, RecordedEvent};
use atone_storage::entity::{change_feed, events, member_bills, members, outbox, payment_promises};
use atone_storage::{DatabaseConnection, DbConfig};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Statement};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
}

/// A database of the test's own.
pub struct TestDatabase {
    pub url: String,
    /// Holds the SQLite file's directory until the test ends.
    _dir: Option<tempfile::TempDir>,
}

pub fn mysql_base_url() -> String {
    std::env::var("ATONE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://atone:atone@127.0.0.1:3306".into())
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("atone.db").display()
                );
                Self {
                    url,
                    _dir: Some(dir),
                }
            }
            Backend::MariaDb => {
                let base = mysql_base_url();
                let admin = atone_storage::connect(&DbConfig::new(base.clone())).await.unwrap_or_else(|e| {
                    panic!(
                        "MariaDB is needed at {base} (set ATONE_TEST_MYSQL_URL; scripts/test creates the user): {e}"
                    )
                });
                let name = format!("atone_test_{}", uuid::Uuid::now_v7().simple());
                admin
                    .execute_unprepared(&format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                    ))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                Self {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
        }
    }

    /// A handle on a database another handle owns (it is not removed with this one).
    pub fn placeholder() -> Self {
        Self {
            url: String::new(),
            _dir: None,
        }
    }

    /// A database somebody else made, at `url`.
    pub fn at(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            _dir: None,
        }
    }

    /// Another handle on the same database.
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            _dir: None,
        }
    }

    pub async fn migrated(backend: Backend) -> Self {
        let database = Self::create(backend).await;
        let db = database.connect().await;
        atone_storage::migrate(&db).await.expect("migrations");
        db.close().await.ok();
        database
    }

    pub async fn connect(&self) -> DatabaseConnection {
        atone_storage::connect(&DbConfig::new(self.url.clone()))
            .await
            .expect("connect to the test database")
    }
}

pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        atone::telemetry::init(atone::cli::LogFormat::Text);
    }
}

/// atone running inside the test's process.
pub struct TestApp {
    pub addr: SocketAddr,
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

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut ServeArgs)) -> Self {
        let database = TestDatabase::migrated(backend).await;
        Self::spawn_on(database, configure).await
    }

    /// Starts atone on an existing database (for a second instance, or a restart).
    pub async fn spawn_on(database: TestDatabase, configure: impl FnOnce(&mut ServeArgs)) -> Self {
        init_logs();
        let mut args = ServeArgs::new(database.url.clone());
        args.common.listen = "127.0.0.1:0".parse().expect("address");
        configure(&mut args);
        let app = Application::build(args).await.expect("atone starts");
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let db = database.connect().await;
        Self {
            addr,
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
        Channel::from_shared(self.endpoint())
            .expect("uri")
            .connect()
            .await
            .expect("connect to atone")
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
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn purchase(user_id: &str, amount: i64, key: &str) -> PurchaseRequest {
    PurchaseRequest {
        user_id: user_id.into(),
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount,
        payment_mode: PaymentMode::Immediate as i32,
        idempotency_key: key.into(),
    }
}

pub async fn buy(app: &TestApp, user_id: &str, amount: i64) -> PurchaseResponse {
    app.command()
        .await
        .purchase(purchase(user_id, amount, &uuid::Uuid::now_v7().to_string()))
        .await
        .expect("purchase")
        .into_inner()
}

pub async fn get_member(app: &TestApp, user_id: &str, min_version: i64) -> v1::Member {
    app.query()
        .await
        .get_member(Request::new(v1::GetMemberRequest {
            user_id: user_id.into(),
            min_version,
        }))
        .await
        .expect("GetMember")
        .into_inner()
        .member
        .expect("member")
}

pub fn unique_user(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// Retries `check` every 50 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until the outbox is empty and every member's read model has reached their
/// latest version.
pub async fn wait_until_projected(db: &DatabaseConnection) {
    eventually(
        Duration::from_secs(60),
        "the projector to apply every event",
        || async { (projection_backlog(db).await? == (0, 0)).then_some(()) },
    )
    .await;
}

/// (outbox rows waiting, members whose read model is behind their latest event), or `None`
/// when the database cannot answer.
pub async fn projection_backlog(db: &DatabaseConnection) -> Option<(u64, i64)> {
    let waiting = outbox::Entity::find().count(db).await.ok()?;
    let behind = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM (SELECT user_id, MAX(version) AS v FROM events GROUP BY user_id) e \
             LEFT JOIN members m ON m.user_id = e.user_id WHERE m.version IS NULL OR m.version < e.v",
        ))
        .await
        .ok()??
        .try_get::<i64>("", "n")
        .ok()?;
    Some((waiting, behind))
}

/// Every member's stream, folded from the `events` table.
pub async fn fold_event_store(db: &DatabaseConnection) -> BTreeMap<String, Member> {
    let rows = events::Entity::find()
        .order_by_asc(events::Column::UserId)
        .order_by_asc(events::Column::Version)
        .all(db)
        .await
        .expect("read events");
    let mut folded: BTreeMap<String, Member> = BTreeMap::new();
    for row in rows {
        let event = atone_domain::Event::from_json(&row.event_type, row.event_data)
            .expect("stored event parses");
        folded
            .entry(row.user_id)
            .or_default()
            .apply(&RecordedEvent {
                version: row.version,
                idempotency_key: row.idempotency_key,
                event,
            });
    }
    folded
}

/// Asserts that each member's versions in `events` are exactly 1..=n.
pub async fn assert_streams_contiguous(db: &DatabaseConnection) {
    let rows = events::Entity::find().all(db).await.expect("read events");
    let mut versions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for row in rows {
        versions.entry(row.user_id).or_default().push(row.version);
    }
    for (user, mut vs) in versions {
        vs.sort_unstable();
        let expected: Vec<i64> = (1..=vs.len() as i64).collect();
        assert_eq!(vs, expected, "versions of {user} are not 1..n");
    }
}

/// Asserts that the read models and the change feed are exactly what folding the event
/// store gives: every member's version, credit, promises and bills, and one change per
/// (member, version).
pub async fn assert_read_models_match_event_store(db: &DatabaseConnection) {
    let folded = fold_event_store(db).await;
    let member_rows: BTreeMap<String, members::Model> = members::Entity::find()
        .all(db)
        .await
        .expect("members")
        .into_iter()
        .map(|m| (m.user_id.clone(), m))
        .collect();
    assert_eq!(
        member_rows.keys().collect::<BTreeSet<_>>(),
        folded.keys().collect::<BTreeSet<_>>(),
        "members in the read model differ from members in the event store"
    );
    let promises = payment_promises::Entity::find()
        .all(db)
        .await
        .expect("promises");
    let bills = member_bills::Entity::find().all(db).await.expect("bills");
    let feed = change_feed::Entity::find()
        .all(db)
        .await
        .expect("change feed");

    for (user, member) in &folded {
        let row = &member_rows[user];
        assert_eq!(row.version, member.version, "version of {user}");
        assert_eq!(
            row.outstanding_amount, member.outstanding,
            "outstanding of {user}"
        );

        let read: BTreeMap<String, (i64, Option<String>, String)> = promises
            .iter()
            .filter(|p| &p.user_id == user)
            .map(|p| {
                (
                    p.id.clone(),
                    (p.amount, p.bill_id.clone(), p.status.clone()),
                )
            })
            .collect();
        let expected: BTreeMap<String, (i64, Option<String>, String)> = member
            .promises
            .iter()
            .map(|(id, p)| {
                let status = match p.bill_id {
                    None => "unbilled",
                    Some(bill) if member.bills[&bill].paid => "paid",
                    Some(_) => "billed",
                };
                (
                    id.to_string(),
                    (
                        p.amount,
                        p.bill_id.map(|b| b.to_string()),
                        status.to_owned(),
                    ),
                )
            })
            .collect();
        assert_eq!(read, expected, "promises of {user}");

        let read: BTreeMap<String, (i64, String)> = bills
            .iter()
            .filter(|b| &b.user_id == user)
            .map(|b| (b.id.clone(), (b.amount, b.status.clone())))
            .collect();
        let expected: BTreeMap<String, (i64, String)> = member
            .bills
            .iter()
            .map(|(id, b)| {
                (
                    id.to_string(),
                    (b.amount, if b.paid { "paid" } else { "unpaid" }.to_owned()),
                )
            })
            .collect();
        assert_eq!(read, expected, "bills of {user}");

        let mut versions: Vec<i64> = feed
            .iter()
            .filter(|c| &c.user_id == user)
            .map(|c| c.version)
            .collect();
        versions.sort_unstable();
        let expected: Vec<i64> = (1..=member.version).collect();
        assert_eq!(
            versions, expected,
            "change feed of {user} holds each version exactly once"
        );
    }
}

pub async fn events_of_type(db: &DatabaseConnection, event_type: &str) -> Vec<events::Model> {
    use sea_orm::{ColumnTrait, QueryFilter};
    events::Entity::find()
        .filter(events::Column::EventType.eq(event_type))
        .all(db)
        .await
        .expect("events")
}

/// A WatchMember stream.
pub struct Watcher {
    stream: atone_api::tonic::Streaming<v1::WatchMemberResponse>,
}

impl Watcher {
    pub async fn open(app: &TestApp, user_id: &str, cursor: &str) -> Self {
        let request = v1::WatchMemberRequest {
            user_id: user_id.into(),
            cursor: cursor.into(),
            min_version: 0,
        };
        let stream = app
            .query()
            .await
            .watch_member(request)
            .await
            .expect("WatchMember")
            .into_inner();
        Self { stream }
    }

    /// The next message, within 10 s.
    pub async fn next(&mut self) -> v1::WatchMemberResponse {
        tokio::time::timeout(Duration::from_secs(10), self.stream.message())
            .await
            .expect("a watch message within 10 s")
            .expect("the watch stream stays healthy")
            .expect("the watch stream stays open")
    }

    pub async fn next_snapshot(&mut self) -> (String, v1::Snapshot) {
        let message = self.next().await;
        match message.kind {
            Some(v1::watch_member_response::Kind::Snapshot(s)) => (message.cursor, s),
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    pub async fn next_change(&mut self) -> (String, v1::MemberChange) {
        let message = self.next().await;
        match message.kind {
            Some(v1::watch_member_response::Kind::Change(c)) => (message.cursor, c),
            other => panic!("expected a change, got {other:?}"),
        }
    }

    /// Asserts nothing more arrives within `quiet`.
    pub async fn assert_quiet(&mut self, quiet: Duration) {
        if let Ok(message) = tokio::time::timeout(quiet, self.stream.message()).await {
            panic!("expected no more messages, got {message:?}");
        }
    }
}
