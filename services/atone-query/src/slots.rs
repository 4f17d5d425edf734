//! How many watches may be open: per member and per process. A watch holds a slot for as
//! long as it lasts; past either limit a new one is refused with RESOURCE_EXHAUSTED.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::QueryError;

pub struct WatcherSlots {
    /// Open watches of the process (also read by GetStatus).
    total: Arc<AtomicUsize>,
    per_member: Mutex<HashMap<String, usize>>,
    max_total: usize,
    max_per_member: usize,
}

/// A watch's place; given back when dropped.
pub struct Slot {
    slots: Arc<WatcherSlots>,
    user_id: String,
}

impl WatcherSlots {
    pub fn new(total: Arc<AtomicUsize>, max_total: usize, max_per_member: usize) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_member: Mutex::new(HashMap::new()),
            max_total,
            max_per_member,
        })
    }

    pub fn take(self: &Arc<Self>, user_id: &str) -> Result<Slot, QueryError> {
        let mut members = self.per_member.lock().unwrap_or_else(|p| p.into_inner());
        let mine = members.get(user_id).copied().unwrap_or(0);
        if mine >= self.max_per_member {
            return Err(QueryError::TooManyWatchers {
                what: format!("user {user_id} already has {mine} watches open"),
            });
        }
        if self.total.load(Ordering::SeqCst) >= self.max_total {
            return Err(QueryError::TooManyWatchers {
                what: format!("this process already has {} watches open", self.max_total),
            });
        }
        self.total.fetch_add(1, Ordering::SeqCst);
        members.insert(user_id.to_owned(), mine + 1);
        Ok(Slot {
            slots: self.clone(),
            user_id: user_id.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut members = self
            .slots
            .per_member
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match members.get(&self.user_id).copied() {
            Some(n) if n > 1 => {
                members.insert(self.user_id.clone(), n - 1);
            }
            _ => {
                members.remove(&self.user_id);
            }
        }
        self.slots.total.fetch_sub(1, Ordering::SeqCst);
    }
}
