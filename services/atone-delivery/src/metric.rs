//! The metrics atone-delivery records, by name, and what each means ([`describe`]).

use metrics::describe_counter;

pub const RELAY_RECORDS: &str = "atone_relay_records_total";
pub const RELAY_EVENTS: &str = "atone_relay_events_total";

/// Describes them to the recorder.
pub fn describe() {
    describe_counter!(
        RELAY_RECORDS,
        "Kinesis records the relay had acknowledged (each packs one or more events)"
    );
    describe_counter!(RELAY_EVENTS, "events the relay had acknowledged on Kinesis");
}
