//! What is checked once the run is over and the deployment has caught up: the history
//! (atone_testkit::history), the read models against the fold (`atone verify`), the money
//! invariants, and that no member is parked.

use std::collections::BTreeMap;

use atone_domain::{BillState, Event, Member, RecordedEvent};
use atone_storage::DatabaseConnection;
use atone_storage::entity::{dead_letters, events, members};
use atone_testkit::history::Stored;
use sea_orm::{EntityTrait, QueryOrder};

/// Every event of the store, in (member, version) order.
pub async fn stored_events(db: &DatabaseConnection) -> anyhow::Result<Vec<events::Model>> {
    Ok(events::Entity::find()
        .order_by_asc(events::Column::UserId)
        .order_by_asc(events::Column::Version)
        .all(db)
        .await?)
}

pub fn stored(rows: &[events::Model]) -> Vec<Stored> {
    rows.iter()
        .map(|e| Stored {
            member: e.user_id.clone(),
            version: e.version,
            key: e.idempotency_key.clone(),
        })
        .collect()
}

/// The money invariants, member by member, event by event:
/// - every purchase was accepted within the limit it was checked against;
/// - no balance is ever negative;
/// - money applied to a bill paid it; every other yen received is in the unapplied
///   balance until a monthly bill or a refund takes it;
/// - the read model's balances are the fold's.
pub async fn money(db: &DatabaseConnection, rows: &[events::Model]) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut folded: BTreeMap<&str, (Member, i64)> = BTreeMap::new();
    for row in rows {
        let event = Event::from_json(&row.event_type, row.event_data.clone())
            .map_err(|e| anyhow::anyhow!("{} v{}: {e}", row.user_id, row.version))?;
        let (member, unapplied) = folded.entry(&row.user_id).or_default();
        match &event {
            Event::PurchaseCompleted(p) if member.outstanding + p.amount > p.credit_limit => {
                problems.push(format!(
                    "{} v{}: a purchase of {} accepted with {} outstanding against a limit of {}",
                    row.user_id, row.version, p.amount, member.outstanding, p.credit_limit
                ));
            }
            Event::PaymentReceived(r) => *unapplied += r.kept(),
            Event::RefundIssued(r) => *unapplied -= r.from_unapplied,
            Event::MonthlyBillIssued(b) => *unapplied -= b.unapplied_applied,
            _ => {}
        }
        member.apply(&RecordedEvent {
            version: row.version,
            idempotency_key: row.idempotency_key.clone(),
            event: event.clone(),
        });
        // Checked as the event is applied: a member's state keeps only its newest settled
        // bills, so the bill may be gone from the state at the end.
        if let Event::PaymentReceived(r) = &event {
            for a in r.paid_bills() {
                let bill = member.bills.get(&a.bill_id);
                let agrees = match a.left {
                    0 => bill.is_some_and(|b| b.state == BillState::Paid),
                    left => bill.is_some_and(|b| b.is_unpaid() && b.left() == left),
                };
                if !agrees || a.amount <= 0 {
                    problems.push(format!(
                        "{} v{}: {} yen applied to bill {} does not leave {} to pay",
                        row.user_id, row.version, a.amount, a.bill_id, a.left
                    ));
                }
            }
        }
        if member.outstanding < 0 || member.credit_balance < 0 || member.unapplied_balance < 0 {
            problems.push(format!(
                "{} v{}: a negative balance (outstanding {}, credit {}, unapplied {})",
                row.user_id,
                row.version,
                member.outstanding,
                member.credit_balance,
                member.unapplied_balance
            ));
        }
        if *unapplied != member.unapplied_balance {
            problems.push(format!(
                "{} v{}: {} yen received and not applied, but an unapplied balance of {}",
                row.user_id, row.version, unapplied, member.unapplied_balance
            ));
            *unapplied = member.unapplied_balance;
        }
    }
    for row in members::Entity::find().all(db).await? {
        let Some((member, _)) = folded.get(row.user_id.as_str()) else {
            continue;
        };
        let read = (
            row.outstanding_amount,
            row.credit_balance,
            row.unapplied_balance,
        );
        let fold = (
            member.outstanding,
            member.credit_balance,
            member.unapplied_balance,
        );
        if read != fold {
            problems.push(format!(
                "{}: the read model's (outstanding, credit, unapplied) {read:?}, the fold's {fold:?}",
                row.user_id
            ));
        }
    }
    Ok(problems)
}

/// Members parked by a projector (dead letters not retried or skipped).
pub async fn parked(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    Ok(dead_letters::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|d| d.status == "parked")
        .map(|d| format!("{} v{} {}: {}", d.user_id, d.version, d.event_type, d.error))
        .collect())
}

/// `atone verify`: the read models and the change feed against the fold of the store.
pub async fn verify(url: &str) -> anyhow::Result<Option<String>> {
    let output = tokio::process::Command::new(atone_testkit::atone_binary())
        .args(["verify", "--database-url", url])
        .output()
        .await?;
    Ok((!output.status.success()).then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }))
}
