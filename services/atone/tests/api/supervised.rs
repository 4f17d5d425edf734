//! A long-lived task of the process that ends (here: made to panic as it starts, through
//! the debug build's ATONE_TEST_END_TASK) stops the process with a non-zero exit code and a
//! log line naming the task and why; nothing stays up reporting SERVING while doing
//! nothing. A task whose work a later run picks up (the daily billing, key retention, the
//! webhook deliverer) is started again instead, and the process keeps serving.

use std::process::Stdio;
use std::time::Duration;

use atone_testkit::atone_binary;
use tokio::process::Command;

/// `atone serve` with `args` on a fresh SQLite file and the task `kind` ended at once: its
/// exit status and its log.
async fn serve_ending(kind: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("atone.db").display()
    );
    let run = Command::new(atone_binary())
        .args(["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .args(["--log-format", "json"])
        .args(args)
        .env("ATONE_TEST_END_TASK", kind)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| panic!("atone still runs 60 s after its {kind} task ended"))
        .expect("run atone");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ends_stops_the_process_with_a_non_zero_exit() {
    let cases: [(&str, &[&str]); 5] = [
        ("appender", &[]),
        ("change-feed", &[]),
        ("readiness", &[]),
        ("metrics", &["--metrics-listen", "127.0.0.1:0"]),
        ("projector", &["--projection", "async"]),
    ];
    for (kind, args) in cases {
        let (status, log) = serve_ending(kind, args).await;
        assert!(!status.success(), "{kind}: exit {status}\n{log}");
        let named = log.lines().any(|line| {
            line.contains("a task of the process ended")
                && line.contains(&format!("\"task\":\"{kind}\""))
                && line.contains("ended by ATONE_TEST_END_TASK")
        });
        assert!(named, "{kind}: the log names the task and why:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_picks_up_its_work_is_started_again_and_the_process_serves_on() {
    use atone_api::tonic::transport::Channel;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

    for kind in ["key-retention", "daily-billing", "webhooks"] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("atone.db").display()
        );
        let mut atone = atone_testkit::Proc::start_with_env(
            kind,
            &["serve".to_owned(), "--database-url".to_owned(), url],
            &[("ATONE_TEST_END_TASK", kind)],
        )
        .await;
        atone_testkit::eventually(
            Duration::from_secs(30),
            "the task started again",
            || async {
                (atone.log_contains("starting it again")
                    && atone.log_contains(&format!("\"task\":\"{kind}\"")))
                .then_some(())
            },
        )
        .await;
        let channel: Channel = atone.channel().await;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{kind}");
        assert!(atone.is_running(), "{kind}");
        atone.terminate().await;
    }
}
