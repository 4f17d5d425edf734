//! The read-model rows of the members this process projected last, for inline projection:
//! a batch of a cached member reads none of its rows (nor whether it is parked) from the
//! tables. An entry holds every row the member has (its member row, all its promises and
//! bills), as committed at its version, and is used only by a batch whose events follow that
//! version. Any other writer of the member's rows moves the version first: another process's
//! append (whose events this one's append would then conflict with, so its next batch of
//! the member comes after a later version, and reads the tables), or a projection that set
//! the member's events aside (never cached). A rebuild rewrites the rows of the same version
//! with what the projection makes of the same events, which is what an entry holds.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use atone_projection::MemberRows;
use lru::LruCache;

/// A member with more rows than this is not cached: each batch reads what its events need.
pub(crate) const MAX_ROWS: usize = 256;

/// At most `capacity` members, the least recently used forgotten first; none at 0. A member
/// too big to cache is remembered as such (`None`), so it is not read whole again.
pub(crate) struct RowCache {
    members: Option<Mutex<LruCache<String, Option<MemberRows>>>>,
}

/// What the cache knows of a member.
pub(crate) enum Lookup {
    /// Its rows, at the version asked for.
    Rows(MemberRows),
    /// Too many rows to cache: read what its events need.
    TooBig,
    /// Nothing at that version: read it whole.
    Miss,
}

impl RowCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            members: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    /// What is cached of the member at `version`. Rows are taken out (the batch that takes
    /// them gives back what it leaves, once it commits; after a failed batch the member is
    /// read whole again).
    pub(crate) fn at(&self, user_id: &str, version: i64) -> Lookup {
        let Some(mut members) = self.members.as_ref().and_then(|m| m.lock().ok()) else {
            return Lookup::Miss;
        };
        match members.get(user_id) {
            Some(None) => Lookup::TooBig,
            Some(Some(_)) => match members.pop(user_id).flatten() {
                Some(rows) if rows.member.version == version => Lookup::Rows(rows),
                _ => Lookup::Miss,
            },
            None => Lookup::Miss,
        }
    }

    /// After `outcome`'s batch committed: keeps the rows it left of the members it held
    /// whole, and forgets those it set events aside of.
    pub(crate) fn keep_after(&self, outcome: &mut super::BatchOutcome) {
        self.forget(outcome.parked.iter().map(|(user_id, _)| user_id));
        self.keep(std::mem::take(&mut outcome.whole));
    }

    fn keep(&self, rows: Vec<MemberRows>) {
        let Some(mut members) = self.members.as_ref().and_then(|m| m.lock().ok()) else {
            return;
        };
        for rows in rows {
            let user_id = rows.member.user_id.clone();
            let fits = rows.promises.len() + rows.bills.len() <= MAX_ROWS;
            members.put(user_id, fits.then_some(rows));
        }
    }

    /// Forgets `user_ids` (their batch set events aside, or failed).
    pub(crate) fn forget<'a>(&self, user_ids: impl IntoIterator<Item = &'a String>) {
        if let Some(mut members) = self.members.as_ref().and_then(|m| m.lock().ok()) {
            for user_id in user_ids {
                members.pop(user_id);
            }
        }
    }
}
