//! The deployment under test: `atone serve` on SQLite, `atone serve` on MariaDB, or the
//! three roles as five processes (2 command, 2 projector, 1 query) over ferrokinesis with
//! its limits enforced and MariaDB. Clients reach every process through a proxy of its
//! own, and the processes reach MariaDB and Kinesis through proxies too, so the nemesis
//! can cut or stall any of those connections and restart a process on a new port.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use atone_kinesis::{Kinesis, KinesisConfig};
use atone_testkit::Proc;
use sea_orm::ConnectionTrait;
use tokio::process::{Child, Command};

use crate::proxy::{Mode, Proxy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `atone serve` on an SQLite file.
    Sqlite,
    /// `atone serve` on MariaDB.
    Mariadb,
    /// command ×2, projector ×2 and query over ferrokinesis (limits enforced) and MariaDB.
    Kinesis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Serve,
    Command,
    Projector,
    Query,
}

impl Role {
    /// Decides commands, so runs on atone's clock (the nemesis moves it).
    pub fn has_clock(self) -> bool {
        matches!(self, Role::Serve | Role::Command)
    }
    pub fn takes_commands(self) -> bool {
        matches!(self, Role::Serve | Role::Command)
    }
    pub fn takes_queries(self) -> bool {
        matches!(self, Role::Serve | Role::Query)
    }
}

/// One atone process, restartable, with the proxy its clients go through.
pub struct Node {
    pub name: String,
    pub role: Role,
    args: Vec<String>,
    pub proc: Option<Proc>,
    pub front: Proxy,
}

pub struct Deployment {
    pub kind: Kind,
    pub nodes: Vec<Node>,
    /// The database, reached directly (not through the nemesis' proxy): for the checker.
    pub direct_url: String,
    pub db_proxy: Option<Proxy>,
    pub kinesis_proxy: Option<Proxy>,
    pub emulator: Option<Child>,
    pub kinesis: Option<Kinesis>,
    /// atone's clock offset, in seconds, for the processes that decide commands.
    pub offset: Arc<AtomicI64>,
    /// Passed to every atone process as ATONE_PLANT_BUG (a debug build's test-only switch).
    plant: Option<String>,
    _dir: tempfile::TempDir,
}

/// A free port on the loopback.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Deployment {
    pub async fn start(
        kind: Kind,
        offset: i64,
        ferrokinesis: Option<PathBuf>,
        plant: Option<String>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut deployment = Self {
            kind,
            nodes: Vec::new(),
            direct_url: String::new(),
            db_proxy: None,
            kinesis_proxy: None,
            emulator: None,
            kinesis: None,
            offset: Arc::new(AtomicI64::new(offset)),
            plant,
            _dir: dir,
        };
        let url = match kind {
            Kind::Sqlite => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    deployment._dir.path().join("atone.db").display()
                );
                deployment.direct_url = url.clone();
                url
            }
            Kind::Mariadb | Kind::Kinesis => deployment.mariadb().await?,
        };
        match kind {
            Kind::Sqlite | Kind::Mariadb => {
                deployment
                    .add("serve", Role::Serve, args("serve", &url, &["--migrate"]))
                    .await?;
            }
            Kind::Kinesis => {
                let endpoint = deployment.ferrokinesis(ferrokinesis).await?;
                let stream = format!("atone-nemesis-{}", uuid::Uuid::now_v7().simple());
                let kinesis = Kinesis::connect(KinesisConfig::emulator(
                    format!("http://127.0.0.1:{}", endpoint.1),
                    &stream,
                ))
                .await?;
                kinesis.create_stream(4).await?;
                deployment.kinesis = Some(kinesis);
                let over = |role: &str, extra: &[&str]| {
                    let mut a = args(role, &url, extra);
                    a.extend([
                        "--stream-name".into(),
                        stream.clone(),
                        "--kinesis-endpoint".into(),
                        endpoint.0.clone(),
                    ]);
                    a
                };
                deployment
                    .add("command-1", Role::Command, over("command", &["--migrate"]))
                    .await?;
                deployment
                    .add("command-2", Role::Command, over("command", &[]))
                    .await?;
                for id in ["projector-1", "projector-2"] {
                    let extra = ["--lease-duration", "3s", "--projector-id", id];
                    deployment
                        .add(id, Role::Projector, over("projector", &extra))
                        .await?;
                }
                deployment
                    .add("query", Role::Query, args("query", &url, &[]))
                    .await?;
            }
        }
        Ok(deployment)
    }

    /// A fresh database on the MariaDB at ATONE_TEST_MYSQL_URL, and a proxy in front of
    /// the server; returns the URL through the proxy.
    async fn mariadb(&mut self) -> anyhow::Result<String> {
        let base = atone_testkit::mysql_base_url();
        let admin = atone_storage::connect(&atone_storage::DbConfig::new(base.clone()))
            .await
            .with_context(|| format!("MariaDB at {base} (ATONE_TEST_MYSQL_URL)"))?;
        let name = format!("atone_nemesis_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .await?;
        admin.close().await.ok();
        let rest = base
            .strip_prefix("mysql://")
            .context("ATONE_TEST_MYSQL_URL is mysql://user:password@host:port")?;
        let (credentials, address) = rest
            .rsplit_once('@')
            .context("ATONE_TEST_MYSQL_URL has user:password@")?;
        let port: u16 = address
            .rsplit_once(':')
            .and_then(|(_, p)| p.trim_end_matches('/').parse().ok())
            .unwrap_or(3306);
        let proxy = Proxy::start(port).await?;
        let url = format!("mysql://{credentials}@127.0.0.1:{}/{name}", proxy.port);
        self.direct_url = format!("{}/{name}", base.trim_end_matches('/'));
        self.db_proxy = Some(proxy);
        Ok(url)
    }

    /// Starts ferrokinesis with its limits enforced; returns (the endpoint through the
    /// proxy, the emulator's own port).
    async fn ferrokinesis(&mut self, bin: Option<PathBuf>) -> anyhow::Result<(String, u16)> {
        let bin = bin.context(
            "the kinesis deployment needs ferrokinesis: --ferrokinesis or ATONE_FERROKINESIS \
             (scripts/nemesis installs it)",
        )?;
        let port = free_port()?;
        let log = std::fs::File::create(self._dir.path().join("ferrokinesis.log"))?;
        let child = Command::new(&bin)
            .args([
                "--port",
                &port.to_string(),
                "--shard-limit",
                "100",
                "--enforce-limits",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        self.emulator = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if tokio::time::Instant::now() > deadline {
                bail!("ferrokinesis did not listen on {port} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let proxy = Proxy::start(port).await?;
        let endpoint = proxy.endpoint();
        self.kinesis_proxy = Some(proxy);
        Ok((endpoint, port))
    }

    async fn add(&mut self, name: &str, role: Role, args: Vec<String>) -> anyhow::Result<()> {
        let proc = self.launch(name, role, &args).await;
        let front = Proxy::start(proc.port()).await?;
        self.nodes.push(Node {
            name: name.to_owned(),
            role,
            args,
            proc: Some(proc),
            front,
        });
        Ok(())
    }

    async fn launch(&self, name: &str, role: Role, args: &[String]) -> Proc {
        let mut args = args.to_vec();
        if role.has_clock() {
            let offset = self.offset.load(Ordering::SeqCst).max(0);
            args.extend(["--clock-offset".into(), format!("{offset}s")]);
        }
        let plant = self.plant.clone().unwrap_or_default();
        let env: Vec<(&str, &str)> = if plant.is_empty() {
            Vec::new()
        } else {
            vec![("ATONE_PLANT_BUG", plant.as_str())]
        };
        Proc::start_with_env(name, &args, &env).await
    }

    /// Starts node `i` again (after a kill or a stop), on a new port its proxy now points at.
    pub async fn restart(&mut self, i: usize) {
        let (name, role, args) = {
            let node = &self.nodes[i];
            (node.name.clone(), node.role, node.args.clone())
        };
        let proc = self.launch(&name, role, &args).await;
        self.nodes[i].front.retarget(proc.port());
        self.nodes[i].proc = Some(proc);
    }

    pub fn endpoints(&self, pick: impl Fn(Role) -> bool) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| pick(n.role))
            .map(|n| n.front.endpoint())
            .collect()
    }

    /// Every proxy back up and every process running and not paused.
    pub async fn heal(&mut self) {
        for proxy in [&self.db_proxy, &self.kinesis_proxy].into_iter().flatten() {
            proxy.set(Mode::Up);
        }
        for node in &self.nodes {
            node.front.set(Mode::Up);
            if let Some(p) = &node.proc {
                send_signal(p.pid(), "-CONT");
            }
        }
        if let Some(pid) = self.emulator.as_ref().and_then(Child::id) {
            send_signal(pid, "-CONT");
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].proc.is_none() {
                self.restart(i).await;
            }
        }
    }

    pub fn logs(&self, lines: usize) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            if let Some(p) = &node.proc {
                out += &format!("--- {}\n{}\n", node.name, p.log_tail(lines));
            }
        }
        out
    }

    pub async fn stop(mut self) -> Vec<String> {
        self.heal().await;
        let mut unclean = Vec::new();
        for node in &mut self.nodes {
            if let Some(p) = &mut node.proc
                && let Err(e) = p.stop_within(Duration::from_secs(30)).await
            {
                unclean.push(e);
            }
        }
        if let Some(kinesis) = &self.kinesis {
            let _ = kinesis.delete_stream().await;
        }
        if matches!(self.kind, Kind::Mariadb | Kind::Kinesis)
            && let Some((base, name)) = self.direct_url.rsplit_once('/')
            && let Ok(admin) =
                atone_storage::connect(&atone_storage::DbConfig::new(base.to_owned())).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE `{name}`"))
                .await;
        }
        unclean
    }
}

fn args(role: &str, url: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![role.to_owned(), "--database-url".into(), url.to_owned()];
    if matches!(role, "serve" | "command") {
        // The month's jobs right after midnight (atone's clock), not an hour later.
        args.extend(["--billing-run-at".into(), "0s".into()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// `kill -SIG pid`, quietly: the process may be gone.
pub fn send_signal(pid: u32, signal: &str) {
    if pid == 0 {
        return;
    }
    let _ = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}
