//! `/metrics` on `--metrics-listen`: after the hands-on flow (and a refusal, a replay and a
//! watch), every family is there with its labels, counts where work happened, and is named
//! on the book's metrics page.

use std::net::SocketAddr;

use atone_api::v1::{
    CompletePaymentRequest, IssueImmediateBillRequest, PurchaseRequest, WatchMemberRequest,
};

use atone_testkit::*;

/// The value of the sample of `family` whose labels include every one of `labels`
/// (`name="value"`), if there is one.
fn sample(text: &str, family: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(name, _)| {
            let (metric, rest) = name.split_once('{').unwrap_or((name, ""));
            metric == family && labels.iter().all(|label| rest.contains(label))
        })
        .and_then(|(_, value)| value.parse().ok())
}

/// The labels of the source that projects `atone serve`'s commands by default: inline,
/// on either database.
pub const DEFAULT_SOURCE: [&str; 2] = [r#"kind="inline""#, r#"source="inline""#];

/// Asserts what a scrape after the hands-on flow must show; `applied_by` labels the
/// source that projected it.
pub fn assert_families_after_the_flow(text: &str, applied_by: [&str; 2]) {
    let at_least = |family: &str, labels: &[&str], min: f64| {
        let value = sample(text, family, labels)
            .unwrap_or_else(|| panic!("no {family} {labels:?} in:\n{text}"));
        assert!(
            value >= min,
            "{family} {labels:?} = {value}, want at least {min}"
        );
    };
    let purchase = [
        r#"service="atone.v1.CommandService""#,
        r#"method="Purchase""#,
    ];
    at_least(
        "atone_rpc_requests_total",
        &[purchase[0], purchase[1], r#"code="0""#],
        1.0,
    );
    at_least("atone_rpc_duration_seconds_count", &purchase, 1.0);
    at_least(
        "atone_rpc_duration_seconds_bucket",
        &[purchase[0], purchase[1], r#"le="+Inf""#],
        1.0,
    );
    at_least(
        "atone_rpc_requests_total",
        &[
            r#"service="atone.v1.QueryService""#,
            r#"method="GetMember""#,
        ],
        1.0,
    );
    at_least("atone_commands_appended_total", &[], 3.0);
    at_least("atone_events_appended_total", &[], 4.0);
    at_least("atone_idempotent_replays_total", &[], 0.0);
    at_least("atone_command_conflicts_total", &[], 0.0);
    at_least("atone_append_batch_commands_count", &[], 3.0);
    at_least("atone_append_batch_commands_bucket", &[r#"le="+Inf""#], 3.0);
    at_least("atone_append_batch_seconds_count", &[], 3.0);
    at_least("atone_outbox_depth", &[], 0.0);
    at_least("atone_outbox_oldest_age_seconds", &[], 0.0);
    at_least("atone_source_events_applied", &applied_by, 4.0);
    at_least(
        "atone_source_lag_seconds",
        &[r#"kind="embedded-outbox""#],
        0.0,
    );
    at_least("atone_watch_push_delay_seconds_count", &[], 4.0);
    at_least("atone_watchers", &[], 0.0);
    at_least("atone_dead_letters", &[], 0.0);
    at_least("atone_parked_members", &[], 0.0);
    at_least("atone_db_pool_connections", &[r#"state="in_use""#], 0.0);
    at_least("atone_db_pool_connections", &[r#"state="idle""#], 0.0);
}

/// Every `atone_*` family a scrape shows is named on the book's metrics page.
fn assert_every_family_documented(text: &str) {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/src/metrics.md"
    ))
    .expect("docs/src/metrics.md");
    let families: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with("atone_"))
        .collect();
    assert!(families.len() >= 15, "{families:?}");
    let missing: Vec<&&str> = families
        .iter()
        .filter(|family| !page.contains(&format!("`{family}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "/metrics shows families docs/src/metrics.md does not name: {missing:?}"
    );
}

pub async fn scrape(addr: SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics");
    assert!(response.status().is_success(), "{response:?}");
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain"), "content-type {kind}");
    response.text().await.expect("the metrics text")
}

async fn metrics_show_every_family_after_the_flow(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await;
    let addr = app.metrics_addr.expect("metrics are served");
    let user = unique_user("metrics");
    let mut watch = app
        .query()
        .await
        .watch_member(WatchMemberRequest {
            user_id: user.clone(),
            cursor: String::new(),
            min_version: 0,
        })
        .await
        .expect("watch")
        .into_inner();
    let a = buy(&app, &user, 5000).await;
    let mut command = app.command().await;
    let b = command
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: a.promise_id.clone(),
            amount: 5000,
            idempotency_key: "metrics-bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    let pay = CompletePaymentRequest {
        user_id: user.clone(),
        bill_id: b.bill_id.clone(),
        amount: 5000,
        idempotency_key: "metrics-pay".into(),
    };
    command.complete_payment(pay.clone()).await.expect("pay");
    command.complete_payment(pay).await.expect("the same again");
    let refused = command
        .purchase(PurchaseRequest {
            amount: -1,
            ..purchase(&user, 1, "metrics-bad")
        })
        .await;
    assert!(refused.is_err());
    get_member(&app, &user, 4).await;
    // The watch has its four changes before the scrape.
    let mut changes = 0;
    while changes < 4 {
        let message = watch.message().await.expect("watch").expect("a message");
        if matches!(
            message.kind,
            Some(atone_api::v1::watch_member_response::Kind::Change(_))
        ) {
            changes += 1;
        }
    }

    let text = scrape(addr).await;
    assert_families_after_the_flow(&text, DEFAULT_SOURCE);
    assert_every_family_documented(&text);
    assert!(
        sample(
            &text,
            "atone_rpc_requests_total",
            &[r#"method="Purchase""#, r#"code="3""#]
        )
        .is_some_and(|n| n >= 1.0),
        "the refused purchase is counted as INVALID_ARGUMENT:\n{text}"
    );
    assert!(
        sample(&text, "atone_idempotent_replays_total", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "atone_watchers", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    drop(watch);
    app.stop().await;
}

on_each_backend!(metrics_show_every_family_after_the_flow);
