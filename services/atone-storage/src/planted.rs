//! Bugs planted on purpose, for the nemesis (`scripts/nemesis --plant BUG`) to prove it
//! finds what it is meant to find. Only a debug build reads the switch (the environment
//! variable ATONE_PLANT_BUG); in a release build every bug here is off, whatever the
//! environment says.
//!
//! - `keys-per-process`: idempotency keys are remembered by the process that took the
//!   command, not by the shared store. A retry reaching another process, or the same one
//!   after a restart, is carried out again.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Whether the bug named `bug` is planted in this process.
pub fn is(bug: &str) -> bool {
    if !cfg!(debug_assertions) {
        return false;
    }
    static PLANTED: OnceLock<Option<String>> = OnceLock::new();
    PLANTED
        .get_or_init(|| std::env::var("ATONE_PLANT_BUG").ok())
        .as_deref()
        == Some(bug)
}

fn keys() -> &'static Mutex<HashSet<(String, String)>> {
    static KEYS: OnceLock<Mutex<HashSet<(String, String)>>> = OnceLock::new();
    KEYS.get_or_init(Mutex::default)
}

/// `keys-per-process`: this process took `key` of `user_id`.
pub(crate) fn took_key(user_id: &str, key: &str) {
    keys()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((user_id.to_owned(), key.to_owned()));
}

/// `keys-per-process`: whether this process took `key` of `user_id`.
pub(crate) fn knows_key(user_id: &str, key: &str) -> bool {
    keys()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&(user_id.to_owned(), key.to_owned()))
}
