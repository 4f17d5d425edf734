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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_planted_drift_and_rebuild_repairs_it_on_sqlite() {
    verify_reports_a_planted_drift_and_rebuild_repairs_it(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_planted_drift_and_rebuild_repairs_it_on_mariadb() {
    verify_reports_a_planted_drift_and_rebuild_repairs_it(Backend::MariaDb).await;
}
