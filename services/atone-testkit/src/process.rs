//! atone as child processes: one `atone <role>` each, or a whole cluster (command,
//! projectors, query) over a stream.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::{GetStatusRequest, SourceStatus};
use atone_storage::DatabaseConnection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{Stream, TestDatabase, channel, eventually, get_member_on, projection_backlog};

/// The `atone` binary cargo built beside the test binary (`target/<profile>/atone`; a test
/// binary runs from `target/<profile>/deps`), or `ATONE_BIN`.
pub fn atone_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ATONE_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary runs from target/<profile>/deps");
    profile_dir.join(format!("atone{}", std::env::consts::EXE_SUFFIX))
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
        Self::start_with_env(name, args, &[]).await
    }

    /// Starts it with `env` added to its environment, and waits until it serves.
    pub async fn start_with_env(name: &str, args: &[String], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(atone_binary())
            .args(args)
            .envs(env.iter().copied())
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
                // Logged before it is reported, so a test that looks at the log once the
                // process serves finds the line.
                sink.lock().expect("log").push(line.clone());
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
        channel(&self.endpoint()).await
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
        self.terminate_within(Duration::from_secs(30)).await;
    }

    /// SIGTERM, and waits up to `within` for a clean exit.
    pub async fn terminate_within(&mut self, within: Duration) {
        signal(self.pid(), "-TERM");
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} stops within {within:?} of SIGTERM:\n{}",
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

    /// SIGTERM, and waits up to `within` for it to exit; SIGKILL after that. Says what
    /// went wrong instead of failing the caller: for a harness that goes on and reports.
    pub async fn stop_within(&mut self, within: Duration) -> Result<(), String> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("{} exited with {status}", self.name)),
            Ok(Err(e)) => Err(format!("{}: {e}", self.name)),
            Err(_) => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                Err(format!(
                    "{} did not stop within {within:?} of SIGTERM",
                    self.name
                ))
            }
        }
    }

    /// Waits up to `within` for it to exit on its own; its exit status.
    pub async fn exit_within(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} still runs {within:?} later:\n{}",
                    self.name,
                    self.log_tail(40)
                )
            })
            .expect("wait")
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
        Self::start_with(database, stream, projectors, lease, &[]).await
    }

    /// The same, every process also given `common` (TLS flags, say).
    pub async fn start_with(
        database: &TestDatabase,
        stream: &Stream,
        projectors: usize,
        lease: &str,
        common: &[String],
    ) -> Self {
        let url = &database.url;
        let with = |mut args: Vec<String>| {
            args.extend(common.iter().cloned());
            args
        };
        let command = Proc::start(
            "command",
            &with(role_args("command", url, Some(stream), &["--migrate"])),
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
            started.push(Proc::start(&id, &with(args)).await);
        }
        let query = Proc::start("query", &with(role_args("query", url, None, &[]))).await;
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

    /// Waits (at most 30 s) until each projector holds `each` shards, as the first
    /// projector's GetStatus tells.
    pub async fn wait_until_shards_shared(&self, each: usize) {
        eventually(
            Duration::from_secs(30),
            "the shards split between the projectors",
            || async {
                let shards = shard_status(&self.projectors[0]).await;
                self.projectors
                    .iter()
                    .all(|p| shards.iter().filter(|s| s.owner == p.name).count() == each)
                    .then_some(())
            },
        )
        .await;
    }

    /// Polls until every event is in the read models; on timeout, fails with what each
    /// process logged last and what GetStatus says.
    pub async fn wait_until_projected(&self, db: &DatabaseConnection) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let backlog = projection_backlog(db).await;
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

/// The query side's view of a member, once it reaches `min_version`.
pub async fn member_at(query: &Proc, user: &str, min_version: i64) -> atone_api::v1::Member {
    get_member_on(query.channel().await, user, min_version).await
}
