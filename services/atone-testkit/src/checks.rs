//! The checks the tests share: polling with a deadline, and what must hold of the read
//! models and the change feed whatever happened (crashes, failovers, reshards).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use atone_api::v1::SourceStatus;
use atone_domain::{BillState, Member, PaymentMethod, RecordedEvent};
use atone_storage::DatabaseConnection;
use atone_storage::entity::{change_feed, events, member_bills, members, outbox, payment_promises};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Statement};

/// Retries `check` every 50 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until the outbox is empty and every member's read model has reached their
/// latest version.
pub async fn wait_until_projected(db: &DatabaseConnection) {
    eventually(
        Duration::from_secs(60),
        "the projector to apply every event",
        || async { (projection_backlog(db).await? == (0, 0)).then_some(()) },
    )
    .await;
}

/// (outbox rows waiting, members whose read model is behind their latest event), or `None`
/// when the database cannot answer.
pub async fn projection_backlog(db: &DatabaseConnection) -> Option<(u64, i64)> {
    let waiting = outbox::Entity::find().count(db).await.ok()?;
    let behind = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM (SELECT user_id, MAX(version) AS v FROM events GROUP BY user_id) e \
             LEFT JOIN members m ON m.user_id = e.user_id WHERE m.version IS NULL OR m.version < e.v",
        ))
        .await
        .ok()??
        .try_get::<i64>("", "n")
        .ok()?;
    Some((waiting, behind))
}

/// Every member's stream, folded from the `events` table.
pub async fn fold_event_store(db: &DatabaseConnection) -> BTreeMap<String, Member> {
    fold_event_store_except(db, &[]).await
}

/// The same, leaving out the members in `except`.
pub async fn fold_event_store_except(
    db: &DatabaseConnection,
    except: &[&str],
) -> BTreeMap<String, Member> {
    let rows = events::Entity::find()
        .order_by_asc(events::Column::UserId)
        .order_by_asc(events::Column::Version)
        .all(db)
        .await
        .expect("read events");
    let mut folded: BTreeMap<String, Member> = BTreeMap::new();
    for row in rows
        .into_iter()
        .filter(|r| !except.contains(&r.user_id.as_str()))
    {
        let event = atone_domain::Event::from_json(&row.event_type, row.event_data)
            .expect("stored event parses");
        folded
            .entry(row.user_id)
            .or_default()
            .apply(&RecordedEvent {
                version: row.version,
                idempotency_key: row.idempotency_key,
                event,
            });
    }
    folded
}

/// Asserts that each member's versions in `events` are exactly 1..=n, and that the events'
/// global positions are 1..=n across all members with each member's in version order
/// (events a test wrote into the table by hand have none).
pub async fn assert_streams_contiguous(db: &DatabaseConnection) {
    let rows = events::Entity::find().all(db).await.expect("read events");
    let mut positioned: Vec<(i64, &str, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.position?, r.user_id.as_str(), r.version)))
        .collect();
    positioned.sort_unstable();
    let positions: Vec<i64> = positioned.iter().map(|p| p.0).collect();
    let dense: Vec<i64> = (1..=positions.len() as i64).collect();
    assert_eq!(positions, dense, "the events' positions are not 1..n");
    let mut last_version: BTreeMap<&str, i64> = BTreeMap::new();
    for (position, user, version) in &positioned {
        let before = last_version.insert(user, *version).unwrap_or(0);
        assert!(
            *version > before,
            "{user}'s version {version} is at position {position}, after its version {before}"
        );
    }
    let mut versions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for row in rows {
        versions.entry(row.user_id).or_default().push(row.version);
    }
    for (user, mut vs) in versions {
        vs.sort_unstable();
        let expected: Vec<i64> = (1..=vs.len() as i64).collect();
        assert_eq!(vs, expected, "versions of {user} are not 1..n");
    }
}

/// Asserts that the read models and the change feed are exactly what folding the event
/// store gives: every member's version, credit, promises and bills, and one change per
/// (member, version).
pub async fn assert_read_models_match_event_store(db: &DatabaseConnection) {
    assert_read_models_match_event_store_except(db, &[]).await;
}

/// The same for every member but those in `except` (parked ones, say).
pub async fn assert_read_models_match_event_store_except(db: &DatabaseConnection, except: &[&str]) {
    let folded = fold_event_store_except(db, except).await;
    let member_rows: BTreeMap<String, members::Model> = members::Entity::find()
        .all(db)
        .await
        .expect("members")
        .into_iter()
        .filter(|m| !except.contains(&m.user_id.as_str()))
        .map(|m| (m.user_id.clone(), m))
        .collect();
    assert_eq!(
        member_rows.keys().collect::<BTreeSet<_>>(),
        folded.keys().collect::<BTreeSet<_>>(),
        "members in the read model differ from members in the event store"
    );
    let promises = payment_promises::Entity::find()
        .all(db)
        .await
        .expect("promises");
    let bills = member_bills::Entity::find().all(db).await.expect("bills");
    let feed = change_feed::Entity::find()
        .all(db)
        .await
        .expect("change feed");

    for (user, member) in &folded {
        let row = &member_rows[user];
        assert_eq!(row.version, member.version, "version of {user}");
        let overdue = member
            .bills
            .values()
            .filter(|b| b.overdue && b.state == BillState::Unpaid)
            .count() as i64;
        assert_eq!(
            (
                row.outstanding_amount,
                row.credit_balance,
                row.unapplied_balance,
                row.overdue_bills
            ),
            (
                member.outstanding,
                member.credit_balance,
                member.unapplied_balance,
                overdue
            ),
            "outstanding, credit balance, unapplied balance and overdue bills of {user}"
        );
        if let Some(limit) = member.credit_limit {
            assert_eq!(row.credit_limit, limit, "credit limit of {user}");
        }
        assert_eq!(
            row.payment_method,
            match member.payment_method {
                PaymentMethod::ConvenienceStore => "convenience_store",
                PaymentMethod::BankDebit => "bank_debit",
            },
            "payment method of {user}"
        );

        let read: BTreeMap<String, (i64, i64, Option<String>, String)> = promises
            .iter()
            .filter(|p| &p.user_id == user)
            .map(|p| {
                let row = (
                    p.amount,
                    p.cancelled_amount,
                    p.bill_id.clone(),
                    p.status.clone(),
                );
                (p.id.clone(), row)
            })
            .collect();
        let expected: BTreeMap<String, (i64, i64, Option<String>, String)> = member
            .promises
            .iter()
            .map(|(id, p)| {
                let bill = p.bill_id.and_then(|b| member.bills.get(&b));
                let status = match bill {
                    _ if p.is_cancelled() => "cancelled",
                    None => "unbilled",
                    Some(b) if b.state == BillState::Paid => "paid",
                    Some(_) => "billed",
                };
                let row = (
                    p.amount,
                    p.cancelled_amount,
                    p.bill_id.map(|b| b.to_string()),
                    status.to_owned(),
                );
                (id.to_string(), row)
            })
            .collect();
        assert_eq!(read, expected, "promises of {user}");

        type BillFacts = (
            (i64, i64, i64),
            (i64, i64),
            String,
            (NaiveDate, Option<String>),
        );
        let read: BTreeMap<String, BillFacts> = bills
            .iter()
            .filter(|b| &b.user_id == user)
            .map(|b| {
                let row = (
                    (b.amount, b.items_total, b.fee),
                    (b.balance_applied, b.paid_amount),
                    b.status.clone(),
                    (b.due_date, b.payment_method.clone()),
                );
                (b.id.clone(), row)
            })
            .collect();
        let expected: BTreeMap<String, BillFacts> = member
            .bills
            .iter()
            .map(|(id, b)| {
                let status = match b.state {
                    BillState::Paid => "paid",
                    BillState::Cancelled => "cancelled",
                    BillState::Unpaid if b.overdue => "overdue",
                    BillState::Unpaid if b.adjusted => "adjusted",
                    BillState::Unpaid => "unpaid",
                };
                let method = b.method.map(|m| {
                    match m {
                        PaymentMethod::ConvenienceStore => "convenience_store",
                        PaymentMethod::BankDebit => "bank_debit",
                    }
                    .to_owned()
                });
                let row = (
                    (b.amount, b.items_total, b.fee),
                    (b.balance_applied, b.paid),
                    status.to_owned(),
                    (b.due_date, method),
                );
                (id.to_string(), row)
            })
            .collect();
        assert_eq!(read, expected, "bills of {user}");

        let mut versions: Vec<i64> = feed
            .iter()
            .filter(|c| &c.user_id == user)
            .map(|c| c.version)
            .collect();
        versions.sort_unstable();
        let expected: Vec<i64> = (1..=member.version).collect();
        assert_eq!(
            versions, expected,
            "change feed of {user} holds each version exactly once"
        );
    }
}

pub async fn events_of_type(db: &DatabaseConnection, event_type: &str) -> Vec<events::Model> {
    use sea_orm::{ColumnTrait, QueryFilter};
    events::Entity::find()
        .filter(events::Column::EventType.eq(event_type))
        .all(db)
        .await
        .expect("events")
}

/// Each event applied exactly once in all: the shards' applied counts add up to the
/// events stored.
pub async fn assert_each_event_applied_once(db: &DatabaseConnection, shards: &[SourceStatus]) {
    let events = fold_event_store(db)
        .await
        .values()
        .map(|m| m.version)
        .sum::<i64>();
    assert_eq!(
        shards.iter().map(|s| s.events_applied).sum::<i64>(),
        events,
        "{shards:?}"
    );
}

/// Asserts each member's changes were applied in version order: ordered by the change
/// feed's id (the order of application), the versions only go up.
pub async fn assert_applied_in_version_order(db: &DatabaseConnection) {
    let rows = change_feed::Entity::find()
        .order_by_asc(change_feed::Column::Id)
        .all(db)
        .await
        .expect("change feed");
    let mut last: HashMap<String, i64> = HashMap::new();
    for row in rows {
        let previous = last.insert(row.user_id.clone(), row.version).unwrap_or(0);
        assert_eq!(
            row.version,
            previous + 1,
            "{} version {} applied after {previous}",
            row.user_id,
            row.version
        );
    }
}
