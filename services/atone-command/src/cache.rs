//! The members' states this process decided last, so a command need not load the member
//! (its snapshot and the events after it) nor read its idempotency key from the event store
//! each time. A cached state is trusted first: the command is decided from it with no read,
//! and the append's unique keys are the check. An append from a state that is out of date
//! (another process appended since) fails on the (user_id, version) key, and a retry of a
//! command the state already holds fails on the (user_id, idempotency key) key; either is
//! decided again from the store (the events after the cached state, then the key). A
//! refusal, or a command with nothing to append, decided from the cache is decided again
//! from the store before it is answered.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use atone_domain::Member;
use lru::LruCache;

/// At most `capacity` members, the least recently used forgotten first; none at 0.
pub struct MemberCache {
    members: Option<Mutex<LruCache<String, Member>>>,
}

impl MemberCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            members: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    /// Takes the member's state out (commands of one member take turns, so nobody else
    /// needs it meanwhile); put it back with [`MemberCache::put`].
    pub fn take(&self, user_id: &str) -> Option<Member> {
        self.members.as_ref()?.lock().ok()?.pop(user_id)
    }

    pub fn put(&self, user_id: &str, member: Member) {
        if let Some(mut members) = self.members.as_ref().and_then(|m| m.lock().ok()) {
            members.put(user_id.to_owned(), member);
        }
    }
}
