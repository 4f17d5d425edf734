//! The Kinesis emulator (kinesis-mock): the shared one, a stream per test, or an emulator of
//! the test's own that can be stopped and started again.
//!
//! The shared emulator is `ATONE_TEST_KINESIS_ENDPOINT` (scripts/test starts one); without
//! it the tests start one themselves with `scripts/kinesis-emulator`.

use std::time::Duration;

use atone_kinesis::{Kinesis, KinesisConfig};
use tokio::process::Command;

use crate::{ROOT, TcpProxy, eventually};

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
        eventually(
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

impl Drop for PrivateEmulator {
    fn drop(&mut self) {
        let _ = std::process::Command::new(format!("{ROOT}/scripts/kinesis-emulator"))
            .args(["stop", &self.port.to_string()])
            .output();
    }
}
