//! Inline and async projection give the same read models. The same commands go to two
//! processes, one projecting inline (its commands write their read-model and change-feed
//! rows themselves) and one through the outbox and the embedded projector; once both are
//! projected, every read-model table and the change feed hold the same rows, apart from
//! what differs between any two runs (generated ids, clock times, row numbers). And two
//! processes can project inline into one database.

use atone::settings::ProjectionMode;
use atone_api::v1::{
    CancelPurchaseRequest, CompletePaymentRequest, IssueImmediateBillRequest, IssueRefundRequest,
    PaymentMethod, PaymentMode, ReceivePaymentRequest, SetPaymentMethodRequest,
};
use sea_orm::{DatabaseConnection, EntityTrait, FromQueryResult, JsonValue, Statement};
use serde_json::Value;

use atone_testkit::*;

/// Every command of a member's month but the close, for `members` members.
async fn the_month(app: &TestApp, members: usize) {
    let mut c = app.command().await;
    for m in 0..members {
        let user = format!("inline-{m}");
        let key = |k: &str| format!("{user}-{k}");
        let now = c
            .purchase(purchase(&user, 3000 + m as i64, &key("p1")))
            .await
            .expect("purchase")
            .into_inner();
        let mut monthly = purchase(&user, 2000, &key("p2"));
        monthly.payment_mode = PaymentMode::Monthly as i32;
        let later = c.purchase(monthly).await.expect("monthly").into_inner();
        let bill = c
            .issue_immediate_bill(IssueImmediateBillRequest {
                user_id: user.clone(),
                promise_id: now.promise_id,
                amount: 0,
                idempotency_key: key("bill"),
            })
            .await
            .expect("bill")
            .into_inner();
        if m % 2 == 0 {
            c.complete_payment(CompletePaymentRequest {
                user_id: user.clone(),
                bill_id: bill.bill_id,
                amount: 3000 + m as i64,
                idempotency_key: key("pay"),
            })
            .await
            .expect("pay");
        }
        c.cancel_purchase(CancelPurchaseRequest {
            user_id: user.clone(),
            order_id: later.order_id,
            amount: 500,
            idempotency_key: key("cancel"),
        })
        .await
        .expect("cancel part");
        c.receive_payment(ReceivePaymentRequest {
            user_id: user.clone(),
            transaction_id: key("tx"),
            bill_id: String::new(),
            amount: 700,
            received_at: None,
        })
        .await
        .expect("money with no bill");
        if m % 2 == 0 {
            // With the bill paid the money is kept, and part of it refunded; otherwise it
            // paid the open bill in part (消込).
            c.issue_refund(IssueRefundRequest {
                user_id: user.clone(),
                amount: 300,
                idempotency_key: key("refund"),
            })
            .await
            .expect("refund part");
        }
        c.set_payment_method(SetPaymentMethodRequest {
            user_id: user.clone(),
            method: PaymentMethod::BankDebit as i32,
            idempotency_key: key("method"),
        })
        .await
        .expect("method");
    }
}

/// `value` with what differs between two runs taken out: generated ids become `<id>`,
/// times and row numbers go.
fn normalized(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    !(k.ends_with("_at")
                        || k.ends_with("At")
                        || ["id", "seq", "source_id", "trace_parent"].contains(&k.as_str()))
                })
                .map(|(k, v)| (k, normalized(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        Value::String(s) if uuid::Uuid::parse_str(&s).is_ok() => Value::String("<id>".into()),
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str(&s).map_or(Value::String(s), normalized)
        }
        other => other,
    }
}

/// `table`'s rows, normalized, sorted.
async fn rows(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let select =
        Statement::from_string(db.get_database_backend(), format!("SELECT * FROM {table}"));
    let mut rows: Vec<String> = JsonValue::find_by_statement(select)
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("read {table}: {e}"))
        .into_iter()
        .map(|mut row| {
            // The change feed's change is JSON in a binary column.
            if let Some(Value::Array(bytes)) = row.get("change") {
                let bytes: Vec<u8> = bytes
                    .iter()
                    .filter_map(|b| b.as_u64())
                    .map(|b| b as u8)
                    .collect();
                if let Ok(change) = serde_json::from_slice::<Value>(&bytes) {
                    row["change"] = change;
                }
            }
            normalized(row).to_string()
        })
        .collect();
    rows.sort();
    rows
}

async fn inline_and_async_projection_write_the_same_rows(backend: Backend) {
    let inline = TestApp::spawn_with(backend, |s| {
        if let Some(p) = s.projector.as_mut() {
            p.mode = ProjectionMode::Inline;
        }
    })
    .await;
    let outbox = TestApp::spawn_with(backend, |s| {
        if let Some(p) = s.projector.as_mut() {
            p.mode = ProjectionMode::Async;
        }
    })
    .await;
    the_month(&inline, 6).await;
    the_month(&outbox, 6).await;
    inline.wait_until_projected().await;
    outbox.wait_until_projected().await;
    for table in ["members", "payment_promises", "member_bills", "change_feed"] {
        let (a, b) = (rows(&inline.db, table).await, rows(&outbox.db, table).await);
        assert!(!a.is_empty(), "{table} is empty");
        assert_eq!(a, b, "{table}: inline (left) and async (right) differ");
    }
    // Inline wrote no outbox row and the outbox source applied nothing; async the reverse.
    assert_eq!(rows(&inline.db, "outbox").await.len(), 0);
    let sources = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            let sources = atone_storage::change_feed::sources(&db)
                .await
                .expect("sources");
            sources
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(s, _)| s)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(sources(&inline.db).await, ["inline"]);
    assert_eq!(sources(&outbox.db).await, ["outbox"]);
    assert_read_models_match_event_store(&inline.db).await;
    assert_read_models_match_event_store(&outbox.db).await;
    outbox.stop().await;
    inline.stop().await;
}

on_each_backend!(inline_and_async_projection_write_the_same_rows);

/// Two `atone serve` processes project inline into one MariaDB database, their commands
/// interleaved on the same members: each process's batches contend with the other's for
/// the change feed's numbering and the members' rows, and each decides from a cache the
/// other makes stale. Every command is answered, and the read models, the change feed and
/// the event store agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn two_processes_project_inline_into_one_mariadb() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let (a, b) = (first.command().await, second.command().await);
    // A watcher of the first process sees changes of both: its own, handed over by its
    // appends, and the second's, read from the table.
    let mut watcher = Watcher::open(&first, "two-0", "").await;
    let (_, snapshot) = watcher.next_snapshot().await;
    let mut seen = snapshot
        .member
        .and_then(|m| m.summary)
        .map_or(0, |s| s.version);
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..16 {
        let mut client = if caller % 2 == 0 {
            a.clone()
        } else {
            b.clone()
        };
        callers.spawn(async move {
            for n in 0..20 {
                let user = format!("two-{}", (caller + n) % 10);
                let key = format!("two-{caller}-{n}");
                client
                    .purchase(purchase(&user, 100, &key))
                    .await
                    .unwrap_or_else(|e| panic!("{key}: {e}"));
            }
        });
    }
    while let Some(done) = callers.join_next().await {
        done.expect("a caller");
    }
    first.wait_until_projected().await;
    assert_read_models_match_event_store(&first.db).await;
    let last = get_member(&first, "two-0", 1)
        .await
        .summary
        .map_or(0, |s| s.version);
    while seen < last {
        let (_, change) = watcher.next_change().await;
        assert_eq!(
            change.version,
            seen + 1,
            "the watch skipped or repeated a change"
        );
        seen = change.version;
    }
    // One change-feed row per event, numbered 1, 2, 3, ... in the inline source.
    let seqs = atone_storage::entity::change_feed::Entity::find()
        .all(&first.db)
        .await
        .expect("change feed")
        .into_iter()
        .filter(|row| row.source_id == "inline")
        .map(|row| row.seq);
    let mut seqs: Vec<i64> = seqs.collect();
    seqs.sort_unstable();
    let events = i64::try_from(first.event_count().await).expect("a count");
    assert!(events >= 16 * 20, "{events} events for 320 purchases");
    assert_eq!(seqs, (1..=events).collect::<Vec<i64>>());
    second.stop().await;
    first.stop().await;
}

/// An inline append that InnoDB picks as a deadlock's victim is written again, not failed:
/// a transaction of the test's holds the change feed's source row, the append waits for it,
/// and the test then waits for the append's event row, which closes the cycle. InnoDB rolls
/// back the lighter transaction, the append (the test's has written 200 rows first); the
/// test's insert then goes through, and once the test rolls back, the append's second
/// attempt commits and the caller is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn an_inline_append_rolled_back_by_a_deadlock_is_written_again() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = TestApp::spawn(Backend::MariaDb).await;
    buy(&app, "deadlock-seed", 100).await; // the source's row exists
    let other = app.database.connect().await;
    let txn = other.begin().await.expect("begin");
    let run = |sql: &'static str| {
        let txn = &txn;
        async move {
            txn.execute_unprepared(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };
    run(
        "INSERT INTO idempotency_keys (user_id, idempotency_key, processed, created_at) \
         SELECT 'deadlock-weight', CONCAT('k', seq), '{}', NOW(6) FROM seq_1_to_200",
    )
    .await;
    run("SELECT seq FROM feed_sources WHERE source_id = 'inline' FOR UPDATE").await;
    let mut client = app.command().await;
    let call = tokio::spawn(async move {
        client
            .purchase(purchase("deadlock-user", 1000, "deadlock-key"))
            .await
    });
    let waiting = "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
                   WHERE INFO LIKE 'UPDATE feed_sources%'";
    eventually(
        std::time::Duration::from_secs(30),
        "the append to wait for the source's row",
        || async {
            let row = app
                .db
                .query_one_raw(Statement::from_string(
                    app.db.get_database_backend(),
                    waiting,
                ))
                .await
                .ok()??;
            (row.try_get::<i64>("", "n").ok()? == 1).then_some(())
        },
    )
    .await;
    // Waits for the append's row at version 1: the deadlock, whose victim is the append.
    run(
        "INSERT INTO events (event_id, user_id, version, event_type, event_data, occurred_at, \
         idempotency_key, correlation_id) \
         VALUES (UUID(), 'deadlock-user', 1, 'Test', '{}', NOW(6), 'test', 'test')",
    )
    .await;
    txn.rollback().await.expect("rollback");
    let reply = tokio::time::timeout(std::time::Duration::from_secs(30), call)
        .await
        .expect("the purchase is answered")
        .expect("the caller")
        .expect("the purchase, written again after the deadlock");
    assert!(!reply.into_inner().promise_id.is_empty());
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

/// The pool inline appends run on in MySQL has every session at READ COMMITTED, as a
/// projector's transactions are, with no `SET TRANSACTION` before each; SQLite has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn inline_appends_on_mariadb_run_at_read_committed() {
    use sea_orm::ConnectionTrait;
    let database = TestDatabase::migrated(Backend::MariaDb).await;
    let config = atone_storage::DbConfig::new(database.url.clone());
    let writer = atone_storage::db::connect_projecting(&config, 2)
        .await
        .expect("connect")
        .expect("a pool on MySQL");
    for _ in 0..3 {
        let row = writer
            .query_one_raw(Statement::from_string(
                writer.get_database_backend(),
                "SELECT @@session.tx_isolation AS level",
            ))
            .await
            .expect("query")
            .expect("a row");
        let level: String = row.try_get("", "level").expect("a level");
        assert_eq!(level, "READ-COMMITTED");
    }
    let sqlite = TestDatabase::migrated(Backend::Sqlite).await;
    let sqlite = atone_storage::DbConfig::new(sqlite.url.clone());
    let none = atone_storage::db::connect_projecting(&sqlite, 2).await;
    assert!(none.expect("nothing to connect").is_none());
}
