//! atone as separate processes over a real Kinesis emulator (kinesis-mock) and MariaDB.
//!
//! The emulator is `ATONE_TEST_KINESIS_ENDPOINT` (scripts/test starts one); without it the
//! tests start one themselves with `scripts/kinesis-emulator`. Each test gets a stream and
//! a database of its own.

#![allow(dead_code)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{
    CompletePaymentRequest, GetStatusRequest, IssueImmediateBillRequest, SourceStatus,
};
use atone_kinesis::{Kinesis, KinesisConfig};
use atone_storage::DatabaseConnection;
use atone_storage::entity::change_feed;
use sea_orm::{EntityTrait, QueryOrder};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{TestDatabase, eventually, purchase, unique_user};

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The shared emulator's endpoint.
pub async fn kinesis_endpoint() -> String {
    if let Ok(endpoint) = std::env::var("ATONE_TEST_KINESIS_ENDPOINT") {
        return endpoint;
    }
    let output = Command::new(format!("{ROOT}/scripts/kinesis-emulator"))
        .args(["start", "4568"])
        .output()
        .await
        .expect("run scripts/kinesis-emulator");
    assert!(
        output.status.success(),
        "no ATONE_TEST_KINESIS_ENDPOINT and scripts/kinesis-emulator could not start one:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A stream of the test's own, deleted by [`Stream::delete`].
pub struct Stream {
    pub name: String,
    pub endpoint: String,
    pub kinesis: Kinesis,
}

impl Stream {
    pub async fn create(endpoint: &str, shards: u32) -> Self {
        let name = format!("atone-test-{}", uuid::Uuid::now_v7().simple());
        let kinesis = Kinesis::connect(KinesisConfig::emulator(endpoint, &name))
            .await
            .expect("kinesis client");
        kinesis
            .create_stream(shards)
            .await
            .expect("create the test stream");
        Self {
            name,
            endpoint: endpoint.to_owned(),
            kinesis,
        }
    }

    pub async fn delete(self) {
        if let Err(e) = self.kinesis.delete_stream().await {
            eprintln!("could not delete stream {}: {e}", self.name);
        }
    }
}

/// One `atone <role>` child process.
pub struct Proc {
    pub name: String,
    pub addr: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Starts it and waits until it serves.
    pub async fn start(name: &str, args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_atone"))
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("RUST_LOG", "info")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start atone");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let (ready, addr) = tokio::sync::oneshot::channel();
        let sink = log.clone();
        tokio::spawn(async move {
            let mut ready = Some(ready);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
                    && json["fields"]["message"] == "atone serving"
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(
                        json["fields"]["addr"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                sink.lock().expect("log").push(line);
            }
        });
        let addr = match tokio::time::timeout(Duration::from_secs(60), addr).await {
            Ok(Ok(addr)) => addr,
            _ => panic!(
                "{name} did not start:\n{}",
                log.lock().expect("log").join("\n")
            ),
        };
        Self {
            name: name.to_owned(),
            addr,
            child,
            log,
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
            .expect("connect")
    }

    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("atone's address has a port")
    }

    /// False once it was killed or stopped and reaped.
    pub fn is_running(&self) -> bool {
        self.child.id().is_some()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// SIGKILL: no shutdown of any kind.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("wait");
    }

    /// SIGTERM, and waits for a clean exit.
    pub async fn terminate(&mut self) {
        signal(self.pid(), "-TERM");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} stops within 30 s of SIGTERM:\n{}",
                    self.name,
                    self.log_tail(40)
                )
            })
            .expect("wait");
        assert!(
            status.success(),
            "{} exits cleanly: {status}\n{}",
            self.name,
            self.log_tail(40)
        );
    }

    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().expect("log");
        log[log.len().saturating_sub(n)..].join("\n")
    }

    pub fn log_contains(&self, needle: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(needle))
    }
}

pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {signal} {pid}");
}

/// The flags that point a role at the test's database and stream.
pub fn role_args(
    role: &str,
    database_url: &str,
    stream: Option<&Stream>,
    extra: &[&str],
) -> Vec<String> {
    let mut args = vec![
        role.to_owned(),
        "--database-url".to_owned(),
        database_url.to_owned(),
    ];
    if let Some(stream) = stream {
        args.extend([
            "--stream-name".into(),
            stream.name.clone(),
            "--kinesis-endpoint".into(),
            stream.endpoint.clone(),
        ]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// command, `projectors` projectors and query, as separate processes.
pub struct Cluster {
    pub command: Proc,
    pub projectors: Vec<Proc>,
    pub query: Proc,
}

impl Cluster {
    pub async fn start(
        database: &TestDatabase,
        stream: &Stream,
        projectors: usize,
        lease: &str,
    ) -> Self {
        let url = &database.url;
        let command = Proc::start(
            "command",
            &role_args("command", url, Some(stream), &["--migrate"]),
        )
        .await;
        let mut started = Vec::new();
        for i in 0..projectors {
            let id = format!("projector-{}", i + 1);
            let args = role_args(
                "projector",
                url,
                Some(stream),
                &["--lease-duration", lease, "--projector-id", &id],
            );
            started.push(Proc::start(&id, &args).await);
        }
        let query = Proc::start("query", &role_args("query", url, None, &[])).await;
        Self {
            command,
            projectors: started,
            query,
        }
    }

    pub async fn stop(mut self) {
        self.command.terminate().await;
        for p in &mut self.projectors {
            p.terminate().await;
        }
        self.query.terminate().await;
    }

    /// Polls until every event is in the read models; on timeout, fails with what each
    /// process logged last and what GetStatus says.
    pub async fn wait_until_projected(&self, db: &DatabaseConnection) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let backlog = crate::helpers::projection_backlog(db).await;
            if backlog == Some((0, 0)) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let mut statuses = String::new();
                for p in &self.projectors {
                    if p.is_running() {
                        let mut sources: Vec<_> = status(p).await.into_values().collect();
                        sources.sort_by(|a, b| a.source_id.cmp(&b.source_id));
                        statuses += &format!("--- {} GetStatus\n{sources:#?}\n", p.name);
                    }
                }
                panic!(
                    "timed out after 60 s waiting for every event to be projected \
                     ((outbox rows, members behind) = {backlog:?})\n{}{statuses}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every member's events came off the stream in order: no projector had to pull one
    /// from the event store to fill a gap (which a child read before its parent, or a relay
    /// sending out of order, would cause).
    pub fn assert_no_gap_was_filled(&self) {
        for projector in &self.projectors {
            assert!(
                !projector.log_contains("filling a gap from the event store"),
                "{}",
                projector.log_tail(40)
            );
        }
    }

    pub fn logs(&self) -> String {
        let mut out = format!("--- command\n{}\n", self.command.log_tail(30));
        for p in &self.projectors {
            out += &format!("--- {}\n{}\n", p.name, p.log_tail(30));
        }
        out + &format!("--- query\n{}\n", self.query.log_tail(30))
    }
}

/// Every source GetStatus reports, by id.
pub async fn status(projector: &Proc) -> HashMap<String, SourceStatus> {
    ProjectorServiceClient::new(projector.channel().await)
        .get_status(GetStatusRequest {})
        .await
        .expect("GetStatus")
        .into_inner()
        .sources
        .into_iter()
        .map(|s| (s.source_id.clone(), s))
        .collect()
}

/// Each event applied exactly once in all: the shards' applied counts add up to the
/// events stored.
pub async fn assert_each_event_applied_once(db: &DatabaseConnection, shards: &[SourceStatus]) {
    let events = crate::helpers::fold_event_store(db)
        .await
        .values()
        .map(|m| m.version)
        .sum::<i64>();
    assert_eq!(
        shards.iter().map(|s| s.events_applied).sum::<i64>(),
        events,
        "{shards:?}"
    );
}

/// Shard sources only.
pub async fn shard_status(projector: &Proc) -> Vec<SourceStatus> {
    let mut shards: Vec<SourceStatus> = status(projector)
        .await
        .into_values()
        .filter(|s| s.kind == "kinesis-shard")
        .collect();
    shards.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    shards
}

/// What a load acknowledged.
#[derive(Debug, Default, Clone)]
pub struct Acknowledged {
    /// (user_id, version the reply answered), one per acknowledged command.
    pub replies: Vec<(String, i64)>,
    /// Commands refused or failed (and, where `retry` was set, retried).
    pub failures: usize,
}

/// Waits (at most 120 s) until the load has `n` acknowledged commands.
pub async fn wait_for_acknowledged(progress: &Mutex<Acknowledged>, n: usize) {
    eventually(
        Duration::from_secs(120),
        &format!("{n} acknowledged commands"),
        || {
            let acknowledged = progress.lock().expect("progress").replies.len();
            async move { (acknowledged >= n).then_some(()) }
        },
    )
    .await;
}

/// Runs purchase → bill → payment cycles for `members`, from `workers` concurrent clients,
/// until `commands` have been acknowledged. With `retry`, a failed command is sent again
/// with the same idempotency key until it succeeds (as a client riding out an outage
/// does); without, any failure is counted and the load goes on.
pub async fn run_load(
    command: &Proc,
    members: &[String],
    commands: usize,
    workers: usize,
    retry: bool,
    progress: Arc<Mutex<Acknowledged>>,
) {
    run_load_on(
        command.channel().await,
        members,
        commands,
        workers,
        retry,
        progress,
    )
    .await;
}

/// [`run_load`] over a channel of the caller's (e.g. through a [`TcpProxy`]).
pub async fn run_load_on(
    channel: Channel,
    members: &[String],
    commands: usize,
    workers: usize,
    retry: bool,
    progress: Arc<Mutex<Acknowledged>>,
) {
    let per_worker: Vec<Vec<String>> = (0..workers)
        .map(|w| members.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    let quota = commands.div_ceil(workers);
    let mut tasks = Vec::new();
    for (w, mine) in per_worker.into_iter().enumerate() {
        let mut client = CommandServiceClient::new(channel.clone());
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut step = 0usize;
            while done < quota {
                let user = &mine[step % mine.len()];
                step += 1;
                let key = format!("w{w}-s{step}");
                let send =
                    |c: &mut CommandServiceClient<Channel>, kind: u8, id: String, key: String| {
                        let mut c = c.clone();
                        let user = user.clone();
                        async move {
                            match kind {
                                0 => c.purchase(purchase(&user, 100, &key)).await.map(|r| {
                                    let r = r.into_inner();
                                    (r.version, r.promise_id)
                                }),
                                1 => c
                                    .issue_immediate_bill(IssueImmediateBillRequest {
                                        user_id: user,
                                        promise_id: id,
                                        amount: 100,
                                        idempotency_key: key,
                                    })
                                    .await
                                    .map(|r| {
                                        let r = r.into_inner();
                                        (r.version, r.bill_id)
                                    }),
                                _ => c
                                    .complete_payment(CompletePaymentRequest {
                                        user_id: user,
                                        bill_id: id,
                                        amount: 100,
                                        idempotency_key: key,
                                    })
                                    .await
                                    .map(|r| (r.into_inner().version, String::new())),
                            }
                        }
                    };
                let mut id = String::new();
                for kind in 0..3u8 {
                    let key = format!("{key}-{kind}");
                    loop {
                        match send(&mut client, kind, id.clone(), key.clone()).await {
                            Ok((version, next)) => {
                                progress
                                    .lock()
                                    .expect("progress")
                                    .replies
                                    .push((user.clone(), version));
                                id = next;
                                done += 1;
                                break;
                            }
                            Err(status) => {
                                progress.lock().expect("progress").failures += 1;
                                if !retry {
                                    panic!("command refused during the load: {status:?}");
                                }
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("load worker");
    }
}

pub fn members(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| unique_user(&format!("{prefix}-{i}")))
        .collect()
}

/// Asserts each member's changes were applied in version order: ordered by the change
/// feed's id (the order of application), the versions only go up.
pub async fn assert_applied_in_version_order(db: &DatabaseConnection) {
    let rows = change_feed::Entity::find()
        .order_by_asc(change_feed::Column::Id)
        .all(db)
        .await
        .expect("change feed");
    let mut last: HashMap<String, i64> = HashMap::new();
    for row in rows {
        let previous = last.insert(row.user_id.clone(), row.version).unwrap_or(0);
        assert_eq!(
            row.version,
            previous + 1,
            "{} version {} applied after {previous}",
            row.user_id,
            row.version
        );
    }
}

/// The query side's view of a member, once it reaches `min_version`.
pub async fn member_at(query: &Proc, user: &str, min_version: i64) -> atone_api::v1::Member {
    QueryServiceClient::new(query.channel().await)
        .get_member(atone_api::v1::GetMemberRequest {
            user_id: user.into(),
            min_version,
        })
        .await
        .expect("GetMember")
        .into_inner()
        .member
        .expect("member")
}

/// A free TCP port whose predecessor is free too (kinesis-mock also opens a TLS port, one
/// below the plain one), for a server the test stops and starts again on the same port.
///
/// Taken below the kernel's ephemeral range (`ip_local_port_range`): a port from that range
/// can be handed to some client's outgoing connection while the server is down, and the
/// restart would then find it taken.
pub fn free_port_pair() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let free = |port: u16| std::net::TcpListener::bind(("0.0.0.0", port)).is_ok();
    for _ in 0..1000 {
        let port = fastrand::u16(20_000..ephemeral_low.max(20_100));
        if free(port) && free(port - 1) {
            return port;
        }
    }
    panic!("no free port pair below {ephemeral_low}");
}

/// A kinesis-mock of the test's own, persisting to disk so it can be stopped and started
/// again without losing the stream.
pub struct PrivateEmulator {
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PrivateEmulator {
    pub async fn start() -> Self {
        let emulator = Self {
            port: free_port_pair(),
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        emulator.up().await;
        emulator
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn script(&self, action: &str) {
        let output = Command::new(format!("{ROOT}/scripts/kinesis-emulator"))
            .args([action, &self.port.to_string()])
            .env("ATONE_KINESIS_PERSIST_PATH", self.dir.path())
            .output()
            .await
            .expect("run scripts/kinesis-emulator");
        assert!(
            output.status.success(),
            "kinesis-emulator {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts it (again) on the same port and data.
    pub async fn up(&self) {
        self.script("start").await;
    }

    /// Stops it. kinesis-mock keeps its data by writing it to disk once a second, and under
    /// a steady load it may not get to it for a while; real Kinesis never loses a record it
    /// acknowledged. So the clients are cut off first (`proxy`), the emulator is given the
    /// time to write everything it acknowledged (polled: a write that began after the cut),
    /// and only then stopped.
    pub async fn down(&self, proxy: &TcpProxy) {
        proxy.down().await;
        let cut = std::time::SystemTime::now();
        let file = self.dir.path().join("kinesis-data.json");
        crate::helpers::eventually(
            Duration::from_secs(30),
            "kinesis-mock to write its data after the clients were cut off",
            || {
                let written = std::fs::metadata(&file).and_then(|m| m.modified());
                async move {
                    // A write that ends a second after the cut began after it.
                    written
                        .ok()
                        .filter(|t| *t > cut + Duration::from_secs(1))
                        .map(|_| ())
                }
            },
        )
        .await;
        self.script("stop").await;
    }
}

/// A TCP proxy in front of a port, to take a server out of reach (connections refused,
/// open ones dropped) and bring it back, as a network outage does.
pub struct TcpProxy {
    pub port: u16,
    /// Where new connections go.
    target: Arc<std::sync::atomic::AtomicU16>,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TcpProxy {
    pub async fn start(target: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = Self {
            port,
            target: Arc::new(target.into()),
            running: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends new connections to `port` from now on.
    pub fn retarget(&self, port: u16) {
        self.target.store(port, std::sync::atomic::Ordering::SeqCst);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.load(std::sync::atomic::Ordering::SeqCst);
                connections.spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            // Dropping the set aborts every open connection.
        });
        *self.running.lock().expect("proxy") = Some(task);
    }

    /// Refuses new connections and drops the open ones.
    pub async fn down(&self) {
        let task = self.running.lock().expect("proxy").take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts connections on the same port again.
    pub async fn up(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy again");
        self.serve(listener);
    }
}

impl Drop for PrivateEmulator {
    fn drop(&mut self) {
        let _ = std::process::Command::new(format!("{ROOT}/scripts/kinesis-emulator"))
            .args(["stop", &self.port.to_string()])
            .output();
    }
}

/// A MariaDB of the test's own (`mariadb-install-db` into a temporary directory, its own
/// port and socket), so restarting it disturbs no other test.
pub struct PrivateMariaDb {
    pub port: u16,
    dir: tempfile::TempDir,
    server: Option<Child>,
}

impl PrivateMariaDb {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let output = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()))
            .output()
            .await
            .expect("mariadb-install-db (apt-get install mariadb-server)");
        assert!(
            output.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut db = Self {
            port: free_port_pair(),
            dir,
            server: None,
        };
        db.up().await;
        db.admin(&[
            "-e",
            "CREATE USER 'atone'@'127.0.0.1' IDENTIFIED BY 'atone'; GRANT ALL ON *.* TO 'atone'@'127.0.0.1'; CREATE DATABASE atone;",
        ])
        .await;
        db
    }

    fn socket(&self) -> String {
        self.dir.path().join("mariadb.sock").display().to_string()
    }

    pub fn url(&self) -> String {
        format!("mysql://atone:atone@127.0.0.1:{}/atone", self.port)
    }

    async fn admin(&self, args: &[&str]) -> bool {
        Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-S", &self.socket()])
            .args(args)
            .output()
            .await
            .is_ok_and(|o| o.status.success())
    }

    /// Starts the server and waits until it answers.
    pub async fn up(&mut self) {
        let data = self.dir.path().join("data");
        let server = Command::new("/usr/sbin/mariadbd")
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--socket={}", self.socket()))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mariadb.pid").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start mariadbd");
        self.server = Some(server);
        crate::helpers::eventually(
            Duration::from_secs(30),
            "the private MariaDB to answer",
            || async { self.admin(&["-e", "SELECT 1"]).await.then_some(()) },
        )
        .await;
    }

    /// Shuts the server down cleanly and waits for it to exit.
    pub async fn down(&mut self) {
        assert!(self.admin(&["-e", "SHUTDOWN"]).await, "SHUTDOWN");
        if let Some(mut server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(30), server.wait())
                .await
                .expect("MariaDB stops")
                .expect("wait");
        }
    }
}
