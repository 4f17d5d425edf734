//! The metrics atone-command records, by name, and what each means ([`describe`]).

use metrics::{Unit, describe_counter, describe_histogram};

pub const COMMANDS_APPENDED: &str = "atone_commands_appended_total";
pub const EVENTS_APPENDED: &str = "atone_events_appended_total";
pub const IDEMPOTENT_REPLAYS: &str = "atone_idempotent_replays_total";
pub const COMMAND_CONFLICTS: &str = "atone_command_conflicts_total";
pub const STALE_CACHE: &str = "atone_command_stale_cache_total";
pub const APPEND_BATCH_COMMANDS: &str = "atone_append_batch_commands";
pub const APPEND_BATCH_SECONDS: &str = "atone_append_batch_seconds";

/// Describes them to the recorder, and shows the counters at 0 from the start rather than
/// only once something happened.
pub fn describe() {
    describe_counter!(COMMANDS_APPENDED, "commands that appended events");
    describe_counter!(EVENTS_APPENDED, "events appended to the event store");
    describe_counter!(
        IDEMPOTENT_REPLAYS,
        "commands answered from an earlier one with the same idempotency key"
    );
    describe_counter!(
        COMMAND_CONFLICTS,
        "appends that met a concurrent one and were decided again"
    );
    describe_counter!(
        STALE_CACHE,
        "commands decided on a cached member another process had moved on, decided again"
    );
    describe_histogram!(
        APPEND_BATCH_COMMANDS,
        "commands written per append transaction (group commit)"
    );
    describe_histogram!(
        APPEND_BATCH_SECONDS,
        Unit::Seconds,
        "time to write one append batch, from its first statement to its commit; one batch is written at a time"
    );
    for name in [
        COMMANDS_APPENDED,
        EVENTS_APPENDED,
        IDEMPOTENT_REPLAYS,
        COMMAND_CONFLICTS,
    ] {
        metrics::counter!(name).increment(0);
    }
}
