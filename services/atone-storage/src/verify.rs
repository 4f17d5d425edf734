//! `atone verify`: folds each member's events from the event store through the projection
//! and compares the result with the read models, field by field. A member with parked or
//! skipped dead letters is left out (its read model differs on purpose, and `GetStatus`
//! and `atone dead-letters` already say so).

use std::collections::{BTreeMap, BTreeSet};

use atone_projection::{MemberRows, Projected, project};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::entity::{dead_letters, events, member_bills, members, payment_promises};
use crate::projection::Incoming;
use crate::read_model::{bill_row, member_row, promise_row};
use crate::{StorageError, event_store};

/// Members read per round.
const MEMBERS_PER_ROUND: u64 = 500;

/// One difference between a read model and the fold of the event store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub user_id: String,
    /// What differs, e.g. `member outstanding_amount: read model 1, event store 5000`.
    pub what: String,
}

/// What a verification found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Members compared.
    pub members: u64,
    /// Events folded.
    pub events: u64,
    /// Members left out: they have dead letters (parked or skipped).
    pub set_aside: Vec<String>,
    pub drifts: Vec<Drift>,
}

/// Compares every member's read models with the fold of its events; `progress` is called
/// after each round with the members compared so far.
pub async fn verify(
    conn: &impl ConnectionTrait,
    mut progress: impl FnMut(u64),
) -> Result<Report, StorageError> {
    let mut report = Report::default();
    let with_dead_letters: BTreeSet<String> = dead_letters::Entity::find()
        .select_only()
        .column(dead_letters::Column::UserId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut after = String::new();
    loop {
        let users = next_members(conn, &after).await?;
        let Some(last) = users.last() else { break };
        after = last.clone();
        for user_id in users {
            if with_dead_letters.contains(&user_id) {
                report.set_aside.push(user_id);
                continue;
            }
            report.members += 1;
            match fold(conn, &user_id).await? {
                Ok((folded, events)) => {
                    report.events += events;
                    let stored = stored(conn, &user_id).await?;
                    compare(&user_id, &stored, &folded, &mut report.drifts);
                }
                Err(what) => report.drifts.push(Drift { user_id, what }),
            }
        }
        progress(report.members);
    }
    Ok(report)
}

/// The next members after `after`, by user id: those of the event store and those of the
/// read models (a member only the read models have is a drift too).
async fn next_members(
    conn: &impl ConnectionTrait,
    after: &str,
) -> Result<Vec<String>, StorageError> {
    let from_events: Vec<String> = events::Entity::find()
        .select_only()
        .column(events::Column::UserId)
        .distinct()
        .filter(events::Column::UserId.gt(after))
        .order_by_asc(events::Column::UserId)
        .limit(MEMBERS_PER_ROUND)
        .into_tuple()
        .all(conn)
        .await?;
    let from_rows: Vec<String> = members::Entity::find()
        .select_only()
        .column(members::Column::UserId)
        .filter(members::Column::UserId.gt(after))
        .order_by_asc(members::Column::UserId)
        .limit(MEMBERS_PER_ROUND)
        .into_tuple()
        .all(conn)
        .await?;
    // Both lists are sorted; only ids below the smaller list end are complete in both.
    let bound = match (from_events.last(), from_rows.last()) {
        (Some(a), Some(b))
            if from_events.len() as u64 == MEMBERS_PER_ROUND
                && from_rows.len() as u64 == MEMBERS_PER_ROUND =>
        {
            Some(a.min(b).clone())
        }
        (Some(a), _) if from_events.len() as u64 == MEMBERS_PER_ROUND => Some(a.clone()),
        (_, Some(b)) if from_rows.len() as u64 == MEMBERS_PER_ROUND => Some(b.clone()),
        _ => None,
    };
    let all: BTreeSet<String> = from_events.into_iter().chain(from_rows).collect();
    Ok(all
        .into_iter()
        .filter(|u| bound.as_ref().is_none_or(|b| u <= b))
        .collect())
}

/// The member's read models as the projection makes them from its events, and the number
/// of events folded; or why its events cannot be folded (while no dead letter says so).
async fn fold(
    conn: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Result<(MemberRows, u64), String>, StorageError> {
    let mut rows = MemberRows::new(user_id);
    let mut folded = 0;
    for item in event_store::read_incoming(conn, user_id, 0, None).await? {
        let envelope = match item {
            Incoming::Event(envelope) => envelope,
            Incoming::Unreadable(u) => {
                return Ok(Err(format!(
                    "version {} cannot be read by this build: {}",
                    u.version, u.error
                )));
            }
        };
        match project(&rows, &envelope) {
            Ok(Projected::Applied(change)) => rows.apply(&change),
            Ok(Projected::Duplicate) => {}
            Err(e) => {
                return Ok(Err(format!(
                    "version {} cannot be projected: {e}",
                    envelope.version()
                )));
            }
        }
        folded += 1;
    }
    Ok(Ok((rows, folded)))
}

/// The member's rows as the read models hold them (`None` for the member row if absent).
async fn stored(
    conn: &impl ConnectionTrait,
    user_id: &str,
) -> Result<(Option<atone_projection::MemberRow>, MemberRows), StorageError> {
    let mut rows = MemberRows::new(user_id);
    let member = members::Entity::find_by_id(user_id.to_owned())
        .one(conn)
        .await?
        .map(member_row)
        .transpose()?;
    for row in payment_promises::Entity::find()
        .filter(payment_promises::Column::UserId.eq(user_id))
        .all(conn)
        .await?
    {
        let row = promise_row(row)?;
        rows.promises.insert(row.id.clone(), row);
    }
    for row in member_bills::Entity::find()
        .filter(member_bills::Column::UserId.eq(user_id))
        .all(conn)
        .await?
    {
        let row = bill_row(row)?;
        rows.bills.insert(row.id.clone(), row);
    }
    Ok((member, rows))
}

fn compare(
    user_id: &str,
    (member, stored): &(Option<atone_projection::MemberRow>, MemberRows),
    folded: &MemberRows,
    drifts: &mut Vec<Drift>,
) {
    let mut drift = |what: String| {
        drifts.push(Drift {
            user_id: user_id.to_owned(),
            what,
        })
    };
    match member {
        None if folded.member.version > 0 => drift(format!(
            "member: missing from the read models (the event store has version {})",
            folded.member.version
        )),
        None => {}
        Some(row) if folded.member.version == 0 => drift(format!(
            "member: in the read models at version {} but not in the event store",
            row.version
        )),
        Some(row) => fields("member", row, &folded.member, &mut drift),
    }
    rows("promise", &stored.promises, &folded.promises, &mut drift);
    rows("bill", &stored.bills, &folded.bills, &mut drift);
}

/// Rows of one table by id: missing, extra, or different.
fn rows<T: Serialize>(
    kind: &str,
    stored: &BTreeMap<String, T>,
    folded: &BTreeMap<String, T>,
    drift: &mut impl FnMut(String),
) {
    for (id, want) in folded {
        match stored.get(id) {
            None => drift(format!("{kind} {id}: missing from the read models")),
            Some(have) => fields(&format!("{kind} {id}"), have, want, drift),
        }
    }
    for id in stored.keys().filter(|id| !folded.contains_key(*id)) {
        drift(format!(
            "{kind} {id}: in the read models but not in the event store"
        ));
    }
}

/// Each field that differs between the stored row and the folded one.
fn fields<T: Serialize>(what: &str, have: &T, want: &T, drift: &mut impl FnMut(String)) {
    let (Ok(serde_json::Value::Object(have)), Ok(serde_json::Value::Object(want))) =
        (serde_json::to_value(have), serde_json::to_value(want))
    else {
        return;
    };
    for (field, value) in &want {
        let stored = have.get(field).unwrap_or(&serde_json::Value::Null);
        if stored != value {
            drift(format!(
                "{what} {field}: read model {stored}, event store {value}"
            ));
        }
    }
}
