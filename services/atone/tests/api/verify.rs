//! `atone verify` and `atone rebuild --member`: a planted drift is reported (and the exit
//! status says so), a rebuild of the member repairs it, and verify then passes.

use atone_api::v1::IssueImmediateBillRequest;
use sea_orm::ConnectionTrait;
use tokio::process::Command;

use atone_testkit::*;

/// `atone <args> --database-url <url>`: (success, stdout).
async fn atone(url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(atone_binary())
        .args(args)
        .args(["--database-url", url])
        .output()
        .await
        .expect("run atone");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), stdout)
}

async fn verify_reports_a_planted_drift_and_rebuild_repairs_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (drifted, billed, untouched) = (
        unique_user("drifted"),
        unique_user("billed"),
        unique_user("untouched"),
    );
    buy(&app, &drifted, 1000).await;
    buy(&app, &drifted, 2000).await;
    buy(&app, &untouched, 300).await;
    let promise = buy(&app, &billed, 4000).await;
    let bill = app
        .command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: billed.clone(),
            promise_id: promise.promise_id.clone(),
            amount: 4000,
            idempotency_key: "verify-bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    app.wait_until_projected().await;
    let url = app.database.url.clone();

    let (ok, out) = atone(&url, &["verify"]).await;
    assert!(ok, "a consistent database verifies:\n{out}");
    assert!(
        out.contains("3 members verified (9 events): 0 differences in 0 members"),
        "{out}"
    );

    // Drift: a wrong figure on one member, a bill lost by another.
    app.db
        .execute_unprepared(&format!(
            "UPDATE members SET outstanding_amount = 1 WHERE user_id = '{drifted}'"
        ))
        .await
        .expect("plant a wrong figure");
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM member_bills WHERE user_id = '{billed}'"
        ))
        .await
        .expect("lose a bill");
    let (ok, out) = atone(&url, &["verify"]).await;
    assert!(!ok, "verify exits non-zero on drift:\n{out}");
    assert!(
        out.contains(&format!(
            "{drifted}: member outstanding_amount: read model 1, event store 3000"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{billed}: bill {}: missing from the read models",
            bill.bill_id
        )),
        "{out}"
    );
    assert!(!out.contains(&format!("{untouched}:")), "{out}");
    assert!(out.contains(": 2 differences in 2 members;"), "{out}");

    let (ok, out) = atone(
        &url,
        &["rebuild", "--member", &drifted, "--member", &billed],
    )
    .await;
    assert!(ok, "rebuild:\n{out}");
    assert!(
        out.contains(&format!(
            "{drifted}: rebuilt to version 4 (4 events applied)"
        )),
        "{out}"
    );
    let (ok, out) = atone(&url, &["verify"]).await;
    assert!(ok, "verify after the rebuild:\n{out}");
    assert_read_models_match_event_store(&app.db).await;
    // The rebuilt member reads right through the API too.
    let member = get_member(&app, &drifted, 4).await;
    assert_eq!(member.summary.map(|s| s.outstanding_amount), Some(3000));

    let (ok, _) = atone(&url, &["rebuild", "--member", ""]).await;
    assert!(!ok, "an empty member id is refused");
    app.stop().await;
}

on_each_backend!(verify_reports_a_planted_drift_and_rebuild_repairs_it);

/// `atone rebuild` (every member) while commands keep coming and readers keep reading: no
/// query fails, no command fails, and at the end the read models equal the fold of the
/// event store.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_whole_rebuild_under_live_load_fails_no_query_and_ends_equal_to_the_fold() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let app = TestApp::spawn(Backend::MariaDb).await;
    let members: Vec<String> = (0..30)
        .map(|i| unique_user(&format!("rebuilt-{i}")))
        .collect();
    let before = Arc::new(Mutex::new(Acknowledged::default()));
    run_load_on(app.channel().await, &members, 300, 4, false, before.clone()).await;
    app.wait_until_projected().await;

    let during = Arc::new(Mutex::new(Acknowledged::default()));
    let load = {
        let (channel, members, during) = (app.channel().await, members.clone(), during.clone());
        tokio::spawn(async move { run_load_on(channel, &members, 2000, 4, false, during).await })
    };
    let reading = Arc::new(AtomicBool::new(true));
    let (reads, failed) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Mutex::new(Vec::new())),
    );
    let reader = {
        let (reading, reads, failed) = (reading.clone(), reads.clone(), failed.clone());
        let (mut query, members) = (app.query().await, members.clone());
        tokio::spawn(async move {
            while reading.load(Ordering::Relaxed) {
                for user in &members {
                    let read = query
                        .get_member(atone_api::v1::GetMemberRequest {
                            user_id: user.clone(),
                            ..Default::default()
                        })
                        .await;
                    reads.fetch_add(1, Ordering::Relaxed);
                    if let Err(status) = read {
                        failed.lock().expect("failures").push(status.to_string());
                    }
                }
            }
        })
    };
    wait_for_acknowledged(&during, 100).await;
    let acknowledged = || during.lock().expect("load").replies.len();
    let at_start = acknowledged();
    let (ok, out) = atone(&app.database.url, &["rebuild"]).await;
    assert!(ok, "the rebuild succeeds:\n{out}");
    assert!(
        acknowledged() > at_start,
        "commands were acknowledged during the rebuild"
    );
    assert!(out.contains("30 members rebuilt ("), "{out}");
    load.await.expect("the load");
    reading.store(false, Ordering::Relaxed);
    reader.await.expect("the reader");

    assert!(
        reads.load(Ordering::Relaxed) > 0,
        "reads happened during the rebuild"
    );
    assert_eq!(
        failed.lock().expect("failures").len(),
        0,
        "{:?}",
        failed.lock()
    );
    assert_eq!(
        during.lock().expect("load").failures,
        0,
        "no command failed"
    );
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    let (ok, out) = atone(&app.database.url, &["verify"]).await;
    assert!(ok, "verify passes after the rebuild:\n{out}");
}
