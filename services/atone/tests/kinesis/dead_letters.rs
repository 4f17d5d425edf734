//! Poison on a shard: events the projector cannot apply park their member as dead letters
//! while every other member of the shard goes on; an operator retries (after a fix, or with
//! a build that knows the event) or skips, and each is recorded.

use std::time::Duration;

use atone_api::envelope;
use atone_api::prost::Message;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::{
    self, DeadLetter, ListDeadLettersRequest, PaymentMethod, RetryDeadLettersRequest,
    SetPaymentMethodRequest,
};
use atone_domain::{CreditLimitChanged, Envelope, Event, PaymentCompleted, RecordedEvent};
use atone_kinesis::Record;
use atone_storage::DatabaseConnection;
use atone_storage::entity::events;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use tokio::process::Command;
use uuid::Uuid;

use atone_testkit::*;

/// Writes an event row straight into the store (no outbox row) and puts `record` for it
/// on the stream: what a newer build, or a store with a hole, leaves behind.
async fn store_and_put(
    db: &DatabaseConnection,
    stream: &Stream,
    row: events::ActiveModel,
    record: Vec<u8>,
    user: &str,
) {
    events::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .expect("insert an event row");
    let put = stream
        .kinesis
        .put_records(vec![Record::new(user, record)])
        .await
        .expect("put");
    assert!(put.iter().all(|o| o.is_ok()));
}

fn row(user: &str, version: i64, event_type: &str, data: serde_json::Value) -> events::ActiveModel {
    events::ActiveModel {
        event_id: Set(Uuid::now_v7().to_string()),
        user_id: Set(user.to_owned()),
        version: Set(version),
        event_type: Set(event_type.to_owned()),
        event_data: Set(data),
        occurred_at: Set(Utc::now()),
        idempotency_key: Set(Uuid::now_v7().to_string()),
        correlation_id: Set("dead-letter-test".into()),
        ..Default::default()
    }
}

/// An envelope of an event type this build does not have: a payload field it cannot read.
fn newer_record(row: &events::ActiveModel) -> Vec<u8> {
    let proto = v1::EventEnvelope {
        event_id: row.event_id.clone().unwrap(),
        user_id: row.user_id.clone().unwrap(),
        version: row.version.clone().unwrap(),
        occurred_at: Some(atone_api::convert::timestamp(Utc::now())),
        idempotency_key: String::new(),
        correlation_id: String::new(),
        traceparent: String::new(),
        payload: None,
    };
    let mut bytes = proto.encode_to_vec();
    // Field 99, length-delimited: a payload added after this build.
    bytes.extend_from_slice(&[0x9a, 0x06, 0x02, 0x08, 0x01]);
    bytes
}

async fn dead_letters(projector: &Proc, user: &str, all: bool) -> Vec<DeadLetter> {
    ProjectorServiceClient::new(projector.channel().await)
        .list_dead_letters(ListDeadLettersRequest {
            user_id: user.into(),
            include_resolved: all,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("ListDeadLetters")
        .into_inner()
        .dead_letters
}

/// `atone dead-letters <args>` against `projector`; its stdout.
async fn cli(projector: &Proc, args: &[&str]) -> String {
    let output = Command::new(atone_binary())
        .arg("dead-letters")
        .args(args)
        .args(["--addr", &projector.addr])
        .output()
        .await
        .expect("atone dead-letters");
    assert!(
        output.status.success(),
        "atone dead-letters {args:?}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn poison_parks_its_member_only_and_an_operator_retries_or_skips() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let db = database.connect().await;
    let url = &database.url;
    let command = Proc::start(
        "command",
        &role_args("command", url, Some(&stream), &["--migrate"]),
    )
    .await;
    // A projector of an older build: it does not know PaymentMethodChanged.
    let older = role_args(
        "projector",
        url,
        Some(&stream),
        &[
            "--unknown-event-type",
            "PaymentMethodChanged",
            "--projector-id",
            "older",
        ],
    );
    let older = Proc::start("older projector", &older).await;
    let query = Proc::start("query", &role_args("query", url, None, &[])).await;
    let mut client = CommandServiceClient::new(command.channel().await);
    let users: Vec<String> = [
        "bystander",
        "unknown-bill",
        "too-long",
        "gap",
        "upgrade",
        "newer",
    ]
    .iter()
    .map(|name| unique_user(name))
    .collect();
    let [bystander, unknown_bill, too_long, gap, upgrade, newer] = &users[..] else {
        unreachable!()
    };

    let buy = |user: &str, key: &str| purchase(user, 1000, key);
    client
        .purchase(buy(bystander, "b-1"))
        .await
        .expect("purchase");
    // 1. The projection refuses it: a payment of a bill that does not exist.
    client
        .purchase(buy(unknown_bill, "u-1"))
        .await
        .expect("purchase");
    let paid = PaymentCompleted {
        bill_id: Uuid::now_v7(),
        amount: 1000,
        paid_date: Utc::now().date_naive(),
    };
    append(&db, unknown_bill, vec![Event::PaymentCompleted(paid)]).await;
    // ...and the member's later events wait behind it.
    client
        .purchase(buy(unknown_bill, "u-2"))
        .await
        .expect("purchase");
    // 2. The database refuses a value: a product name longer than its column.
    let long = purchase_events(&"名".repeat(1000), 1000);
    append(&db, too_long, long).await;
    // 3. A version the event store cannot fill: version 4 with no version 3.
    client.purchase(buy(gap, "g-1")).await.expect("purchase");
    let fourth = row(
        gap,
        4,
        "CreditLimitChanged",
        serde_json::json!({"limit": 70_000}),
    );
    let envelope = Envelope {
        event_id: Uuid::parse_str(fourth.event_id.as_ref()).expect("uuid"),
        user_id: gap.clone(),
        occurred_at: Utc::now(),
        correlation_id: String::new(),
        trace_parent: String::new(),
        recorded: RecordedEvent {
            version: 4,
            idempotency_key: fourth.idempotency_key.clone().unwrap(),
            event: Event::CreditLimitChanged(CreditLimitChanged { limit: 70_000 }),
        },
    };
    store_and_put(&db, &stream, fourth, envelope::encode(&envelope), gap).await;
    // 4. An event type the (older) projector does not know, in a rolling upgrade.
    client
        .set_payment_method(SetPaymentMethodRequest {
            user_id: upgrade.clone(),
            method: PaymentMethod::BankDebit as i32,
            idempotency_key: "m-1".into(),
        })
        .await
        .expect("set the payment method");
    // 5. An event type no build here knows: written by a newer one.
    let future = row(
        newer,
        1,
        "LoyaltyPointsEarned",
        serde_json::json!({"points": 10}),
    );
    let record = newer_record(&future);
    store_and_put(&db, &stream, future, record, newer).await;
    // The bystander goes on after all of it, on the same shard.
    let last = client
        .purchase(buy(bystander, "b-2"))
        .await
        .expect("purchase")
        .into_inner();
    member_at(&query, bystander, last.version).await;

    // Each member's dead letters, once every poison has reached the projector. The two
    // events of the too-long purchase may come in one batch or in two: the first writes no
    // product name, so alone it applies, and only the second is parked.
    let expected = |all: &[DeadLetter]| {
        let of = |user: &str| -> Vec<i64> {
            all.iter()
                .filter(|d| d.user_id == user)
                .map(|d| d.version)
                .collect()
        };
        of(unknown_bill) == [3, 4, 5]
            && (of(too_long) == [1, 2] || of(too_long) == [2])
            && [gap.as_str(), upgrade.as_str(), newer.as_str()]
                .iter()
                .all(|user| of(user).len() == 1)
    };
    let all = eventually(Duration::from_secs(60), "five members parked", || async {
        let all = dead_letters(&older, "", false).await;
        expected(&all).then_some(all)
    })
    .await;
    let status = ProjectorServiceClient::new(older.channel().await)
        .get_status(v1::GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    assert_eq!(
        (status.parked_members, status.dead_letters),
        (5, all.len() as i64),
        "{all:#?}"
    );
    let parked = |user: &str| {
        let user = user.to_owned();
        let older = &older;
        async move { dead_letters(older, &user, false).await }
    };
    let u = parked(unknown_bill).await;
    assert!(u[0].error.contains("payment of unknown bill"), "{u:?}");
    assert!(u[1].error.contains("waiting behind"), "{u:?}");
    let t = parked(too_long).await;
    assert!(t[0].error.contains("Data too long"), "{t:?}");
    let g = parked(gap).await;
    assert_eq!(g[0].version, 4);
    assert!(g[0].error.contains("lacks version 3"), "{g:?}");
    let p = parked(upgrade).await;
    assert!(p[0].error.contains("not known to this build"), "{p:?}");
    let n = parked(newer).await;
    assert!(n[0].error.contains("LoyaltyPointsEarned"), "{n:?}");
    let listed = cli(&older, &["list"]).await;
    for user in &users[1..] {
        assert!(listed.contains(user.as_str()), "{user} listed:\n{listed}");
    }
    assert_read_models_match_event_store_except(
        &db,
        &[unknown_bill, too_long, gap, upgrade, newer].map(String::as_str),
    )
    .await;

    // A newer build retries the upgrade's member: it applies the event.
    let newer_projector = role_args(
        "projector",
        url,
        Some(&stream),
        &["--projector-id", "newer"],
    );
    let newer_projector = Proc::start("newer projector", &newer_projector).await;
    let retried = ProjectorServiceClient::new(newer_projector.channel().await)
        .retry_dead_letters(RetryDeadLettersRequest {
            user_id: upgrade.clone(),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        (retried.applied, retried.still_parked, retried.version),
        (1, 0, 1)
    );
    // The database is fixed (a wider column); the member's events apply in order.
    db.execute_unprepared(
        "ALTER TABLE payment_promises MODIFY product_name VARCHAR(2048) NOT NULL",
    )
    .await
    .expect("widen the column");
    let out = cli(&newer_projector, &["retry", "--member", too_long]).await;
    let applied = format!("{} events applied, 0 still parked", t.len());
    assert!(out.contains(&applied), "{out}");
    // The bad payment is skipped, with a reason; what waited behind it applies.
    let out = cli(
        &newer_projector,
        &[
            "skip",
            "--member",
            unknown_bill,
            "--version",
            "3",
            "--reason",
            "no such bill",
        ],
    )
    .await;
    assert!(
        out.contains("2 events applied after it, 0 still parked"),
        "{out}"
    );
    let record = dead_letters(&newer_projector, unknown_bill, true).await;
    assert_eq!(
        record
            .iter()
            .map(|d| (d.version, d.status.as_str()))
            .collect::<Vec<_>>(),
        [(3, "skipped"), (4, "retried"), (5, "retried")]
    );
    assert_eq!(
        (record[0].resolved_by.as_str(), record[0].note.as_str()),
        ("unrestricted", "no such bill")
    );
    // No build here knows the newer event: a retry leaves it parked.
    let again = ProjectorServiceClient::new(newer_projector.channel().await)
        .retry_dead_letters(RetryDeadLettersRequest {
            user_id: newer.clone(),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!((again.applied, again.still_parked), (0, 1));

    assert_read_models_match_event_store_except(
        &db,
        &[unknown_bill, gap, newer].map(String::as_str),
    )
    .await;
    let status = ProjectorServiceClient::new(newer_projector.channel().await)
        .get_status(v1::GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    assert_eq!((status.parked_members, status.dead_letters), (2, 2));
    for mut p in [command, older, query, newer_projector] {
        p.terminate().await;
    }
    stream.delete().await;
}
