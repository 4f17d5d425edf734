//! A database of the test's own: a SQLite file in a temporary directory, a uuid-named
//! database on the shared MariaDB, or a whole MariaDB server of the test's own.
//!
//! MariaDB is reached at `ATONE_TEST_MYSQL_URL` (default `mysql://atone:atone@127.0.0.1:3306`,
//! the user `scripts/test` creates). A test that needs it fails when it is not there; it
//! never skips.

use std::process::Stdio;
use std::time::Duration;

use atone_storage::{DatabaseConnection, DbConfig};
use sea_orm::ConnectionTrait;
use tokio::process::{Child, Command};

use crate::{eventually, free_port_pair};

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

/// A MariaDB of the test's own (`mariadb-install-db` into a temporary directory, its own
/// port and socket), so restarting it disturbs no other test.
pub struct PrivateMariaDb {
    pub port: u16,
    dir: tempfile::TempDir,
    server: Option<Child>,
    /// More `mariadbd` options (TLS).
    options: Vec<String>,
}

impl PrivateMariaDb {
    pub async fn start() -> Self {
        Self::start_with(Vec::new()).await
    }

    /// One that serves TLS only, with the certificate of `pki` (for `localhost` and
    /// 127.0.0.1, signed by its CA).
    pub async fn start_tls_only(pki: &crate::TestPki) -> Self {
        Self::start_with(vec![
            format!("--ssl-ca={}", pki.path("ca.pem").display()),
            format!("--ssl-cert={}", pki.path("server.pem").display()),
            format!("--ssl-key={}", pki.path("server-key.pem").display()),
            "--require-secure-transport=ON".to_owned(),
        ])
        .await
    }

    async fn start_with(options: Vec<String>) -> Self {
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
            options,
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
            .args(&self.options)
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
        eventually(
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
