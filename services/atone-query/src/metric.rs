//! The metrics atone-query records, by name, and what each means ([`describe`]).

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

pub const WATCH_PUSH_DELAY_SECONDS: &str = "atone_watch_push_delay_seconds";
pub const EVENT_SUBSCRIBERS: &str = "atone_event_subscribers";
pub const EVENT_TAIL_READS: &str = "atone_event_tail_reads_total";
pub const EVENT_CATCH_UP_READS: &str = "atone_event_catch_up_reads_total";
pub const EVENT_SUBSCRIBERS_BEHIND: &str = "atone_event_subscribers_behind_total";

/// Describes them to the recorder.
pub fn describe() {
    describe_histogram!(
        WATCH_PUSH_DELAY_SECONDS,
        Unit::Seconds,
        "from an event to its push to the member's watchers"
    );
    describe_gauge!(
        EVENT_SUBSCRIBERS,
        "open SubscribeEvents streams of this process"
    );
    describe_counter!(
        EVENT_TAIL_READS,
        "reads of the event store by the process's one tail of all events"
    );
    describe_counter!(
        EVENT_CATCH_UP_READS,
        "reads of the event store by event subscribers catching up on their own"
    );
    describe_counter!(
        EVENT_SUBSCRIBERS_BEHIND,
        "times an event subscriber fell behind the tail and went back to the store"
    );
}
