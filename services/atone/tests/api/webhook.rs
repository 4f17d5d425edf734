//! The signed payment webhook over real HTTP: good, replayed, bad signature, old timestamp,
//! tampered amount, the second (rotated) secret, malformed JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use atone::signature::sign;
use atone_api::v1::{BillStatus, IssueImmediateBillRequest};

use atone_testkit::*;

const OLD_SECRET: &str = "whsec-old-0123456789";
const NEW_SECRET: &str = "whsec-new-9876543210";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

struct Post {
    status: u16,
    body: String,
}

async fn post(app: &TestApp, body: &str, signature: Option<&str>) -> Post {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/payments", app.endpoint()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("atone-signature", signature);
    }
    let response = request.send().await.expect("the webhook answers");
    Post {
        status: response.status().as_u16(),
        body: response.text().await.expect("a body"),
    }
}

fn notification(event: &str, user: &str, bill: &str, amount: i64) -> String {
    serde_json::json!({
        "event_id": event,
        "type": "payment.succeeded",
        "user_id": user,
        "bill_id": bill,
        "amount": amount,
        "paid_at": "2026-11-30T10:00:00Z",
    })
    .to_string()
}

async fn the_webhook_records_signed_payments_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        if let Some(command) = settings.command.as_mut() {
            command.webhook_secrets = vec![OLD_SECRET.into(), NEW_SECRET.into()];
        }
    })
    .await;
    let user = unique_user("webhook");
    let bought = buy(&app, &user, 5000).await;
    let bill = app
        .command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: bought.promise_id,
            amount: 0,
            idempotency_key: "bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    let good = notification("evt-1", &user, &bill.bill_id, 5000);

    let refusals = [
        ("no signature", good.clone(), None, 401),
        (
            "another secret",
            good.clone(),
            Some(sign("whsec-unknown", now(), good.as_bytes())),
            401,
        ),
        (
            "an old timestamp",
            good.clone(),
            Some(sign(NEW_SECRET, now() - 301, good.as_bytes())),
            401,
        ),
        (
            "a tampered amount",
            notification("evt-1", &user, &bill.bill_id, 50),
            Some(sign(NEW_SECRET, now(), good.as_bytes())),
            401,
        ),
        (
            "malformed JSON",
            "{\"event_id\": ".to_owned(),
            Some(sign(NEW_SECRET, now(), b"{\"event_id\": ")),
            400,
        ),
        (
            "another type",
            good.replace("payment.succeeded", "payment.failed"),
            Some(sign(
                NEW_SECRET,
                now(),
                good.replace("payment.succeeded", "payment.failed")
                    .as_bytes(),
            )),
            400,
        ),
    ];
    for (what, body, signature, expected) in refusals {
        let answer = post(&app, &body, signature.as_deref()).await;
        assert_eq!(answer.status, expected, "{what}: {}", answer.body);
        assert!(answer.body.contains("\"error\""), "{what}: {}", answer.body);
        assert!(
            events_of_type(&app.db, "PaymentReceived").await.is_empty(),
            "{what}"
        );
    }

    // Signed with the new secret; its replay (a provider retrying) answers the same.
    let signature = sign(NEW_SECRET, now(), good.as_bytes());
    let first = post(&app, &good, Some(&signature)).await;
    assert_eq!(
        (first.status, first.body.as_str()),
        (
            200,
            format!(
                "{{\"applications\":[{{\"amount\":5000,\"bill_id\":\"{}\",\"left\":0}}],\"applied\":true,\"kept\":0,\"version\":4}}",
                bill.bill_id
            )
            .as_str()
        )
    );
    let replay = post(&app, &good, Some(&signature)).await;
    assert_eq!((replay.status, replay.body), (first.status, first.body));
    assert_eq!(events_of_type(&app.db, "PaymentReceived").await.len(), 1);

    // The old secret still holds while it is rotated out; money for a paid bill is kept.
    let late = notification("evt-2", &user, &bill.bill_id, 5000);
    let answer = post(&app, &late, Some(&sign(OLD_SECRET, now(), late.as_bytes()))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            200,
            "{\"applications\":[],\"applied\":false,\"kept\":5000,\"version\":5}"
        )
    );
    assert_eq!(events_of_type(&app.db, "PaymentReceived").await.len(), 2);

    let member = get_member(&app, &user, 5).await;
    assert_eq!(member.bills[0].status, BillStatus::Paid as i32);
    assert_eq!(member.summary.map(|s| s.unapplied_balance), Some(5000));
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(the_webhook_records_signed_payments_only);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authentication_on_and_no_secret_there_is_no_webhook() {
    let keys = TestKeys::create();
    let app = TestApp::spawn_with(Backend::Sqlite, keys.configure()).await;
    let body = notification("evt-1", "someone", "", 100);
    let signature = sign(atone::webhook::DEVELOPMENT_SECRET, now(), body.as_bytes());
    let answer = post(&app, &body, Some(&signature)).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(app.event_count().await, 0);
    app.stop().await;
}

/// An event id used again for another notification (another amount) is money received
/// all the same: kept as the member's unapplied balance under its own transaction id, once
/// however often it is replayed, and not applied to the open bill (an operator looks at
/// it); the first notification's payment stands.
async fn a_reused_event_id_is_money_kept_not_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("reused");
    let bought = buy(&app, &user, 5000).await;
    let bill = app
        .command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: bought.promise_id,
            amount: 5000,
            idempotency_key: "bill-reused".into(),
        })
        .await
        .expect("bill")
        .into_inner()
        .bill_id;
    let secret = atone::webhook::DEVELOPMENT_SECRET;
    // The first pays 2,000 of the bill: 3,000 is left open.
    let first = notification("evt-reused", &user, &bill, 2000);
    let paid = post(&app, &first, Some(&sign(secret, now(), first.as_bytes()))).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let other = notification("evt-reused", &user, &bill, 6000);
    let kept = post(&app, &other, Some(&sign(secret, now(), other.as_bytes()))).await;
    assert_eq!(kept.status, 200, "money is never refused: {}", kept.body);
    let answer: serde_json::Value = serde_json::from_str(&kept.body).expect("JSON");
    assert_eq!(answer["applied"], false, "{answer}");
    assert_eq!(answer["kept"], 6000, "{answer}");
    let kept_as = answer["kept_as"].as_str().expect("the id it is kept under");
    assert!(kept_as.starts_with("evt-reused#reused-"), "{kept_as}");
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("used before"))
    );
    let events = app.event_count().await;
    let replay = post(&app, &other, Some(&sign(secret, now(), other.as_bytes()))).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, kept.body, "a replay answers the same");
    assert_eq!(app.event_count().await, events, "and records nothing new");
    let member = get_member(&app, &user, answer["version"].as_i64().expect("version")).await;
    let summary = member.summary.expect("summary");
    assert_eq!(
        summary.unapplied_balance, 6000,
        "the second notification's money is kept"
    );
    assert_eq!(
        (summary.outstanding_amount, member.bills[0].left_to_pay),
        (5000, 3000),
        "the first paid part of the bill, the second none of it"
    );
    assert_read_models_match_event_store(&app.db).await;
}

on_each_backend!(a_reused_event_id_is_money_kept_not_refused);
