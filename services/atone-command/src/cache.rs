//! The members' states this process decided last, so a command need not load the member
//! (its snapshot and the events after it) from the event store each time. A cached state
//! is checked by version before it is used: the events appended after it (by another
//! process) are read and applied, which is one indexed read that usually finds nothing. An
//! append from a stale state fails on the (user_id, version) key and is decided again from
//! a fresh load, as without the cache.

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
