//! A long-lived task of the process that ends (here: made to panic, through the debug
//! build's ATONE_TEST_END_TASK) turns health NOT_SERVING and stops the process with a
//! non-zero exit code and a log line naming the task and why; nothing stays up reporting
//! SERVING while doing nothing. A task whose work a later run picks up (the daily billing, key retention, the
//! webhook deliverer) is started again instead, and the process keeps serving.

use std::time::Duration;

use atone_testkit::{Proc, end_vital_task};

/// Every task that stops the process when it ends, with what `atone serve` needs to run
/// it. (The relay needs a Kinesis stream: its case is in the Kinesis suite.)
const VITAL: [(&str, &[&str]); 8] = [
    ("appender", &[]),
    ("change-feed", &[]),
    ("event-tail", &[]),
    ("readiness", &[]),
    ("reconcile", &["--projection", "async"]),
    ("metrics", &["--metrics-listen", "127.0.0.1:0"]),
    ("projector", &["--projection", "async"]),
    ("key-reload", &[]),
];

/// `atone serve` on a fresh SQLite file with its `kind` task ended.
async fn vital_task_ends(kind: &str, args: &[&str]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("atone.db").display()
    );
    let keys = atone_testkit::TestKeys::create();
    let mut argv: Vec<String> = ["serve", "--database-url", &url]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
    if kind == "key-reload" {
        argv.extend(["--api-keys".to_owned(), keys.path.display().to_string()]);
    }
    end_vital_task(kind, &argv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ends_turns_health_not_serving_and_stops_the_process_non_zero() {
    for (kind, args) in VITAL {
        vital_task_ends(kind, args).await;
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
        let mut atone = Proc::start_with_env(
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
