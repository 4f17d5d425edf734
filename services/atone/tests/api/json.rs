//! JSON over HTTP (the Connect protocol's unary form) and Server-Sent Events, with real
//! HTTP: the same answers as gRPC, a JSON error with its HTTP status for each refusal and
//! nothing appended, the same credentials, and a watch that ends when its client goes.

use std::time::Duration;

use atone_auth::Scope;
use serde_json::{Value, json};

use atone_testkit::*;

struct Reply {
    status: u16,
    json: Value,
}

/// POSTs `body` as JSON to `/atone.v1.<call>`, with `bearer` if given.
async fn post(app: &TestApp, call: &str, body: impl Into<String>, bearer: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new()
        .post(format!("{}/atone.v1.{call}", app.endpoint()))
        .header("content-type", "application/json")
        .body(body.into());
    if let Some(bearer) = bearer {
        request = request.header("authorization", format!("Bearer {bearer}"));
    }
    let response = request.send().await.expect("atone answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Reply { status, json }
}

fn purchase_json(user: &str, amount: i64, key: &str) -> String {
    json!({
        "user_id": user,
        "product_id": "prod-json",
        "product_name": "JSONのテスト",
        "amount": amount,
        "payment_mode": "PAYMENT_MODE_IMMEDIATE",
        "idempotency_key": key,
    })
    .to_string()
}

/// A refusal: its HTTP status, its code, and that it names `hint`.
fn assert_refused(reply: &Reply, status: u16, code: &str, hint: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["code"], code, "{}", reply.json);
    let message = reply.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(hint),
        "the message names {hint}: {}",
        reply.json
    );
}

async fn json_calls_answer_as_grpc_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("json");

    let bought = post(
        &app,
        "CommandService/Purchase",
        purchase_json(&user, 5000, "k1"),
        None,
    )
    .await;
    assert_eq!(bought.status, 200, "{}", bought.json);
    assert_eq!(
        bought.json["version"], "2",
        "int64 as a string: {}",
        bought.json
    );
    let promise = bought.json["promiseId"]
        .as_str()
        .expect("a promise id")
        .to_owned();
    let again = post(
        &app,
        "CommandService/Purchase",
        purchase_json(&user, 5000, "k1"),
        None,
    )
    .await;
    assert_eq!(
        again.json, bought.json,
        "a retry with the key answers the same"
    );

    // camelCase names are accepted as well; the reply is what gRPC reads.
    let read = post(
        &app,
        "QueryService/GetMember",
        json!({"userId": user, "minVersion": 2}).to_string(),
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.json);
    let member = get_member(&app, &user, 2).await;
    let summary = member.summary.expect("a summary");
    assert_eq!(
        read.json["member"]["summary"]["availableCredit"],
        summary.available_credit.to_string()
    );
    assert_eq!(read.json["member"]["summary"]["outstandingAmount"], "5000");
    assert_eq!(read.json["member"]["promises"][0]["promiseId"], promise);
    assert_eq!(
        read.json["member"]["promises"][0]["status"],
        "PROMISE_STATUS_UNBILLED"
    );

    let events = app.event_count().await;
    let zero = post(
        &app,
        "CommandService/Purchase",
        purchase_json(&user, 0, "k2"),
        None,
    )
    .await;
    assert_refused(&zero, 400, "invalid_argument", "amount");
    let detail = &zero.json["details"][0];
    assert_eq!(detail["type"], "google.rpc.BadRequest", "{}", zero.json);
    assert_eq!(
        detail["debug"]["fieldViolations"][0]["field"], "amount",
        "{}",
        zero.json
    );
    assert!(
        detail["value"].as_str().is_some_and(|v| !v.is_empty()),
        "{}",
        zero.json
    );

    let over = post(
        &app,
        "CommandService/Purchase",
        purchase_json(&user, 46_000, "k3"),
        None,
    )
    .await;
    assert_refused(&over, 400, "failed_precondition", "credit");
    let unknown_bill = json!({"user_id": user, "bill_id": uuid::Uuid::now_v7().to_string(), "amount": 5000, "idempotency_key": "k4"});
    let unknown = post(
        &app,
        "CommandService/CompletePayment",
        unknown_bill.to_string(),
        None,
    )
    .await;
    assert_refused(&unknown, 404, "not_found", "bill");
    let field = post(
        &app,
        "QueryService/GetMember",
        json!({"user_id": user, "colour": "red"}).to_string(),
        None,
    )
    .await;
    assert_refused(&field, 400, "invalid_argument", "colour");
    let typed = post(
        &app,
        "CommandService/Purchase",
        purchase_json(&user, 1, "k5").replace("\"amount\":1", "\"amount\":\"one\""),
        None,
    )
    .await;
    assert_refused(&typed, 400, "invalid_argument", "PurchaseRequest");
    let broken = post(&app, "CommandService/Purchase", "{\"user_id\": ", None).await;
    assert_refused(&broken, 400, "invalid_argument", "PurchaseRequest");
    let huge = purchase_json(&"u".repeat(100_000), 100, "k6");
    let oversized = post(&app, "CommandService/Purchase", huge, None).await;
    assert_refused(&oversized, 429, "resource_exhausted", "larger than");
    let nowhere = post(&app, "CommandService/Teleport", "{}", None).await;
    assert_refused(&nowhere, 501, "unimplemented", "Teleport");
    assert_eq!(app.event_count().await, events, "a refusal appends nothing");

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
}

on_each_backend!(json_calls_answer_as_grpc_does);

/// The JSON of each `data:` event of an event stream.
fn sse_data(seen: &str) -> Vec<Value> {
    seen.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let data = e
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("a data event: {e}"));
            serde_json::from_str(data).unwrap_or_else(|err| panic!("JSON ({err}): {data}"))
        })
        .collect()
}

/// Reads `response`'s event stream until an event contains `until`; returns the events.
async fn events_until(response: &mut reqwest::Response, seen: &mut String, until: &str) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains(until) {
            let chunk = response.chunk().await.expect("the stream goes on");
            let chunk = chunk.expect("the stream is not over");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event with {until} within 10 s:\n{seen}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_comes_as_server_sent_events_and_ends_with_its_client() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("sse");
    let mut response = reqwest::Client::new()
        .post(format!(
            "{}/atone.v1.QueryService/WatchMember",
            app.endpoint()
        ))
        .header("content-type", "application/json")
        .body(json!({"user_id": user}).to_string())
        .send()
        .await
        .expect("atone answers");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut seen = String::new();
    events_until(&mut response, &mut seen, "SNAPSHOT_REASON_INITIAL").await;
    assert_eq!(app.watchers().await, 1);

    buy(&app, &user, 3000).await;
    events_until(&mut response, &mut seen, "PaymentPromiseCreated").await;
    let events = sse_data(&seen);
    assert_eq!(events.len(), 3, "the snapshot and two changes:\n{seen}");
    assert_eq!(events[1]["change"]["eventType"], "PurchaseCompleted");
    assert_eq!(events[2]["change"]["eventType"], "PaymentPromiseCreated");
    assert_eq!(events[2]["cursor"], events[2]["change"]["version"]);

    drop(response);
    eventually(
        Duration::from_secs(10),
        "the watch to end with its client",
        || async { (app.watchers().await == 0).then_some(()) },
    )
    .await;

    // A refusal before the stream starts is a plain JSON error.
    let refused = post(
        &app,
        "QueryService/WatchMember",
        json!({"user_id": ""}).to_string(),
        None,
    )
    .await;
    assert_refused(&refused, 400, "invalid_argument", "user_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_calls_need_the_same_credentials_as_grpc() {
    let keys = TestKeys::create();
    let app = TestApp::spawn_with(Backend::Sqlite, keys.configure()).await;
    let user = unique_user("json-auth");
    let body = purchase_json(&user, 1000, "k1");

    let anonymous = post(&app, "CommandService/Purchase", body.clone(), None).await;
    assert_refused(&anonymous, 401, "unauthenticated", "");
    let reader = post(
        &app,
        "CommandService/Purchase",
        body.clone(),
        Some(keys.credential(Scope::Read)),
    )
    .await;
    assert_refused(&reader, 403, "permission_denied", "");
    let watch = post(
        &app,
        "QueryService/WatchMember",
        json!({"user_id": user}).to_string(),
        None,
    )
    .await;
    assert_refused(&watch, 401, "unauthenticated", "");
    assert_eq!(app.event_count().await, 0, "nothing appended");

    let buyer = post(
        &app,
        "CommandService/Purchase",
        body,
        Some(keys.credential(Scope::Purchases)),
    )
    .await;
    assert_eq!(buyer.status, 200, "{}", buyer.json);
    assert_eq!(buyer.json["version"], "2");
}

/// SubscribeEvents as Server-Sent Events: a checkpoint once caught up, then each event with
/// its position, filtered by type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_events_come_as_server_sent_events() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("sse-all");
    let mut response = reqwest::Client::new()
        .post(format!(
            "{}/atone.v1.QueryService/SubscribeEvents",
            app.endpoint()
        ))
        .header("content-type", "application/json")
        .body(json!({"from_now": true, "event_types": ["PaymentPromiseCreated"]}).to_string())
        .send()
        .await
        .expect("atone answers");
    assert_eq!(response.status().as_u16(), 200);
    let mut seen = String::new();
    events_until(&mut response, &mut seen, "caughtUp").await;
    let bought = buy(&app, &user, 2500).await;
    events_until(&mut response, &mut seen, &bought.promise_id).await;
    let events = sse_data(&seen);
    assert_eq!(events.len(), 2, "a checkpoint and one event:\n{seen}");
    assert_eq!(events[0]["checkpoint"]["caughtUp"], true, "{seen}");
    let event = &events[1]["event"];
    assert_eq!(event["userId"], user.as_str());
    assert_eq!(event["event"]["eventType"], "PaymentPromiseCreated");
    assert_eq!(event["event"]["version"], "2");
    let position: i64 = event["position"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a position: {event}"));
    assert_eq!(
        event["event"]["eventId"].as_str(),
        Some(stored_event_id(&app, position).await.as_str()),
        "the event at that position"
    );
    app.stop().await;
}

async fn stored_event_id(app: &TestApp, position: i64) -> String {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    atone_storage::entity::events::Entity::find()
        .filter(atone_storage::entity::events::Column::Position.eq(position))
        .one(&app.db)
        .await
        .expect("read events")
        .expect("an event at the position")
        .event_id
}
