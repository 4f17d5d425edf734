//! ProjectorService's dead-letter calls: list, retry a member, skip a member's first parked
//! event. Each runs in one transaction that locks the member's row, so it never interleaves
//! with a projector's batch for that member; each is logged and recorded on the rows it
//! resolves, with the caller.

use atone_api::convert::timestamp;
use atone_api::v1::{self, ListDeadLettersRequest, ListDeadLettersResponse};
use atone_auth::Caller;
use atone_storage::dead_letters::{self, DeadLetter, Filter};
use atone_storage::projection::{self, Readable, RepairOutcome, SkipRefused};
use atone_storage::{DatabaseConnection, StorageError, db};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The feed source of repairs: retries, skips, reconciles and rebuilds.
pub const REPAIR_SOURCE: &str = "repair";

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;

fn invalid(field: &'static str, reason: &str) -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {reason}"),
        ErrorDetails::with_bad_request_violation(field, reason),
    )
}

fn user_id(value: &str) -> Result<(), Status> {
    atone_domain::validate::user_id(value).map_err(|e| Status::invalid_argument(e.to_string()))
}

/// Who is recorded as resolving a dead letter.
pub fn resolver(caller: &Caller) -> String {
    match caller {
        Caller::Unrestricted => "unrestricted".to_owned(),
        Caller::Key { id, .. } => id.clone(),
        Caller::Member { user_id } => format!("member {user_id}"),
    }
}

pub async fn list(
    db: &DatabaseConnection,
    request: &ListDeadLettersRequest,
) -> Result<ListDeadLettersResponse, Status> {
    if !request.user_id.is_empty() {
        user_id(&request.user_id)?;
    }
    let limit = match request.page_size {
        0 => DEFAULT_PAGE,
        n if (1..=MAX_PAGE).contains(&n) => n,
        n => {
            return Err(invalid(
                "page_size",
                &format!("{n} is not between 1 and {MAX_PAGE}"),
            ));
        }
    };
    let after_id = match request.page_token.as_str() {
        "" => 0,
        token => token
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                invalid(
                    "page_token",
                    "is not a next_page_token from a previous page",
                )
            })?,
    };
    let filter = Filter {
        user_id: (!request.user_id.is_empty()).then(|| request.user_id.clone()),
        parked_only: !request.include_resolved,
        after_id,
        limit: limit as u64,
    };
    let rows = dead_letters::list(db, &filter).await?;
    let next_page_token = match rows.last() {
        Some(last) if rows.len() as i64 == i64::from(limit) => last.id.to_string(),
        _ => String::new(),
    };
    Ok(ListDeadLettersResponse {
        dead_letters: rows.into_iter().map(message).collect(),
        next_page_token,
    })
}

fn message(row: DeadLetter) -> v1::DeadLetter {
    v1::DeadLetter {
        user_id: row.user_id,
        version: row.version,
        event_id: row.event_id.unwrap_or_default(),
        event_type: row.event_type,
        source_id: row.source_id,
        status: row.status,
        error: row.error,
        parked_at: Some(timestamp(row.created_at)),
        resolved_at: row.resolved_at.map(timestamp),
        resolved_by: row.resolved_by.unwrap_or_default(),
        note: row.note.unwrap_or_default(),
    }
}

/// Retries `user`'s parked events; FAILED_PRECONDITION if it has none.
pub async fn retry(
    db: &DatabaseConnection,
    readable: &Readable,
    user: &str,
    by: &str,
) -> Result<RepairOutcome, Status> {
    user_id(user)?;
    if dead_letters::first_parked(db, user).await?.is_none() {
        return Err(Status::failed_precondition(format!(
            "user {user} has no parked events"
        )));
    }
    let (txn, _turn) = db::begin_projection(db).await?;
    let outcome = projection::retry(&txn, user, readable, REPAIR_SOURCE, by).await?;
    txn.commit().await.map_err(StorageError::from)?;
    tracing::info!(
        user_id = user,
        by,
        applied = outcome.applied.len(),
        still_parked = outcome.parked.len(),
        "dead letters retried"
    );
    Ok(outcome)
}

/// Skips `user`'s first parked event, `version`.
pub async fn skip(
    db: &DatabaseConnection,
    readable: &Readable,
    request: &v1::SkipDeadLetterRequest,
    by: &str,
) -> Result<RepairOutcome, Status> {
    user_id(&request.user_id)?;
    if request.version < 1 {
        return Err(invalid("version", "must be 1 or more"));
    }
    let note = match request.reason.trim() {
        "" => {
            return Err(invalid(
                "reason",
                "is required: it is kept with the dead letter",
            ));
        }
        reason => reason,
    };
    let user = request.user_id.as_str();
    let (txn, _turn) = db::begin_projection(db).await?;
    let outcome = match projection::skip(
        &txn,
        user,
        request.version,
        readable,
        REPAIR_SOURCE,
        by,
        note,
    )
    .await?
    {
        Ok(outcome) => outcome,
        Err(refused) => {
            txn.rollback().await.map_err(StorageError::from)?;
            return Err(Status::failed_precondition(match refused {
                SkipRefused::NotParked => format!("user {user} has no parked events"),
                SkipRefused::NotFirst { first } => format!(
                    "version {} is not user {user}'s first parked event (that is version {first})",
                    request.version
                ),
            }));
        }
    };
    txn.commit().await.map_err(StorageError::from)?;
    tracing::warn!(
        user_id = user,
        version = request.version,
        by,
        reason = note,
        "dead letter skipped"
    );
    Ok(outcome)
}
