//! A vital task of an atone process made to end (the debug build's `ATONE_TEST_END_TASK`,
//! once the file `ATONE_TEST_END_TASK_WHEN` names appears): what an open Health/Watch sees,
//! the exit status and the log.

use std::time::Duration;

use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::Proc;

/// Starts `atone <args>`, opens a Health/Watch (SERVING), ends its `kind` task and checks
/// that the watch turns NOT_SERVING, the process exits non-zero, and its log names the task
/// and why.
pub async fn end_vital_task(kind: &str, args: &[String]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trigger = dir.path().join("end-now");
    let trigger_path = trigger.display().to_string();
    let mut atone = Proc::start_with_env(
        kind,
        args,
        &[
            ("ATONE_TEST_END_TASK", kind),
            ("ATONE_TEST_END_TASK_WHEN", &trigger_path),
        ],
    )
    .await;
    let mut watch = HealthClient::new(atone.channel().await)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("Health/Watch")
        .into_inner();
    let first = watch.message().await.expect("watch").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32, "{kind}");

    std::fs::write(&trigger, b"").expect("write the trigger");
    let next = tokio::time::timeout(Duration::from_secs(30), watch.message())
        .await
        .unwrap_or_else(|_| panic!("{kind}: no status within 30 s\n{}", atone.log_tail(20)))
        .expect("the watch carries it")
        .expect("a status");
    assert_eq!(
        next.status,
        ServingStatus::NotServing as i32,
        "{kind}: NOT_SERVING once the task ended"
    );
    let status = atone.exit_within(Duration::from_secs(60)).await;
    assert!(
        !status.success(),
        "{kind}: exit {status}\n{}",
        atone.log_tail(20)
    );
    let named = atone.log_contains("a task of the process ended; stopping the process")
        && atone.log_contains(&format!("\"task\":\"{kind}\""))
        && atone.log_contains("ended by ATONE_TEST_END_TASK");
    assert!(
        named,
        "{kind}: the log names the task and why:\n{}",
        atone.log_tail(20)
    );
}
