//! `ListMemberEvents`: a member's event log, as the event store holds it, in pages.

use atone_api::v1::{ListMemberEventsRequest, ListMemberEventsResponse};
use atone_storage::{DatabaseConnection, event_log};

use crate::QueryError;

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;

pub async fn page(
    db: &DatabaseConnection,
    r: &ListMemberEventsRequest,
) -> Result<ListMemberEventsResponse, QueryError> {
    let size = match r.page_size {
        0 => DEFAULT_PAGE,
        n if (1..=MAX_PAGE).contains(&n) => n,
        n => {
            return Err(QueryError::InvalidArgument {
                field: "page_size",
                reason: format!("{n} is not between 1 and {MAX_PAGE}"),
            });
        }
    };
    if r.after_version < 0 {
        return Err(QueryError::InvalidArgument {
            field: "after_version",
            reason: format!("{} is negative", r.after_version),
        });
    }
    // One more than the page, to know whether another follows.
    let mut rows = event_log::log(db, &r.user_id, r.after_version, size as u64 + 1).await?;
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next_after_version = match rows.last() {
        Some(last) if more => last.version,
        _ => 0,
    };
    let events = rows.into_iter().map(crate::events::stored_event).collect();
    Ok(ListMemberEventsResponse {
        events,
        next_after_version,
    })
}
