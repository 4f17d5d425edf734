//! What an outsider found by pushing on atone from outside, each kept from coming back:
//! refusals that flooded the log, metric series made up by callers, a webhook header that
//! multiplied the MAC work, contract answers that differed from the README, and a clock
//! ahead that forgot idempotency keys.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::v1::command_service_client::CommandServiceClient;

use atone_testkit::*;

/// A refusal is logged at debug: a flood of them leaves no line in an INFO log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_logged_at_debug_only() {
    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let mut atone = Proc::start("serve", &role_args("serve", &database.url, None, &[])).await;
    let mut command = CommandServiceClient::new(atone.channel().await);
    let user = unique_user("refused");
    for i in 0..20 {
        // Over the default credit limit, then bad input, then an unknown promise.
        let over = command
            .purchase(purchase(&user, 1_000_000, &format!("over-{i}")))
            .await
            .expect_err("over the limit");
        assert_eq!(over.code(), Code::FailedPrecondition, "{over:?}");
        let bad = command
            .purchase(purchase(&user, -1, &format!("bad-{i}")))
            .await
            .expect_err("a negative amount");
        assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    }
    atone.terminate().await;
    eventually(Duration::from_secs(10), "the whole log is read", || async {
        atone.log_contains("\"stopped\"").then_some(())
    })
    .await;
    assert!(
        !atone.log_contains("refused"),
        "no refusal at INFO:\n{}",
        atone.log_tail(20)
    );
}
