//! The wire form of an event: the protobuf `EventEnvelope` that the relay puts on the
//! stream, the outbox holds and the projector reads back.

use atone_domain::{Envelope, Event, RecordedEvent};
use prost::Message;

use crate::convert::{PaymentMethodError, PaymentModeError, datetime, timestamp};
use crate::events::uuid;
use crate::v1::{self, event_envelope::Payload};

/// Why bytes are not one of our envelopes. Other producers may share the stream, so this is
/// an answer, never a panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an EventEnvelope: {0}")]
    NotAnEnvelope(#[from] prost::DecodeError),
    #[error("envelope without {0}")]
    Missing(&'static str),
    #[error("envelope with version {0}")]
    BadVersion(i64),
    #[error("{field} {value:?} is not a {expected}")]
    Malformed {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("payment_mode: {0}")]
    PaymentMode(#[from] PaymentModeError),
    #[error("method: {0}")]
    PaymentMethod(#[from] PaymentMethodError),
    #[error("{0} is not a known value of {1}")]
    UnknownEnum(i32, &'static str),
}

pub fn encode(envelope: &Envelope) -> Vec<u8> {
    v1::EventEnvelope::from(envelope).encode_to_vec()
}

/// The `traceparent` of an encoded envelope, read without decoding the rest; empty when it
/// has none or is not an envelope.
pub fn trace_parent(bytes: &[u8]) -> String {
    /// An envelope's trace context field alone: the decoder skips every other field.
    #[derive(Clone, PartialEq, prost::Message)]
    struct TraceOnly {
        #[prost(string, tag = "7")]
        traceparent: String,
    }
    TraceOnly::decode(bytes)
        .map(|t| t.traceparent)
        .unwrap_or_default()
}

/// Reads a record off the stream (or a row of the outbox).
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    v1::EventEnvelope::decode(bytes)?.try_into()
}

/// Which event of which member a record says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub event_id: uuid::Uuid,
    pub user_id: String,
    pub version: i64,
}

/// A record read as far as this build can: its header, and the event unless this build
/// cannot read it (an event type added after it was built, say).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub header: Header,
    pub envelope: Result<Envelope, DecodeError>,
}

/// Reads a record whose header is an envelope's even if its event is not readable here;
/// `Err` for bytes that are not an envelope at all.
pub fn decode_record(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let proto = v1::EventEnvelope::decode(bytes)?;
    if proto.user_id.is_empty() {
        return Err(DecodeError::Missing("user_id"));
    }
    if proto.version < 1 {
        return Err(DecodeError::BadVersion(proto.version));
    }
    let header = Header {
        event_id: uuid("event_id", &proto.event_id)?,
        user_id: proto.user_id.clone(),
        version: proto.version,
    };
    Ok(Decoded {
        header,
        envelope: proto.try_into(),
    })
}

/// The first bytes of a Kinesis record that packs several envelopes (an `EventRecord`). No
/// envelope written here starts with them: its first byte is the tag of `event_id` (0x0A).
pub const PACKED_PREFIX: [u8; 4] = [0xF5, b'a', b't', b'1'];

/// The bytes one envelope of `len` bytes takes in a packed record.
pub fn packed_size(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Packs encoded envelopes (as the outbox holds them) into one record's data: the prefix,
/// then an `EventRecord` whose `events` are these bytes, written without decoding them.
pub fn pack<'a>(envelopes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut data = PACKED_PREFIX.to_vec();
    for envelope in envelopes {
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut data);
        prost::encoding::encode_varint(envelope.len() as u64, &mut data);
        data.extend_from_slice(envelope);
    }
    data
}

/// Reads a record off the stream: a packed record gives each of its envelopes, in order,
/// anything else is read as one envelope. Each is decoded as [`decode_record`] does.
pub fn unpack(data: &[u8]) -> Vec<Result<Decoded, DecodeError>> {
    /// An `EventRecord` with its envelopes left as bytes, to be read one by one.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Packed {
        #[prost(bytes = "vec", repeated, tag = "1")]
        events: Vec<Vec<u8>>,
    }
    match data.strip_prefix(&PACKED_PREFIX) {
        None => vec![decode_record(data)],
        Some(body) => match Packed::decode(body) {
            Ok(packed) if !packed.events.is_empty() => {
                packed.events.iter().map(|e| decode_record(e)).collect()
            }
            Ok(_) => vec![Err(DecodeError::Missing("events"))],
            Err(e) => vec![Err(DecodeError::NotAnEnvelope(e))],
        },
    }
}

impl From<&Envelope> for v1::EventEnvelope {
    fn from(e: &Envelope) -> Self {
        Self {
            event_id: e.event_id.to_string(),
            user_id: e.user_id.clone(),
            version: e.recorded.version,
            occurred_at: Some(timestamp(e.occurred_at)),
            idempotency_key: e.recorded.idempotency_key.clone(),
            correlation_id: e.correlation_id.clone(),
            traceparent: e.trace_parent.clone(),
            payload: Some(Payload::from(&e.recorded.event)),
        }
    }
}

impl TryFrom<v1::EventEnvelope> for Envelope {
    type Error = DecodeError;

    fn try_from(p: v1::EventEnvelope) -> Result<Self, DecodeError> {
        if p.user_id.is_empty() {
            return Err(DecodeError::Missing("user_id"));
        }
        if p.version < 1 {
            return Err(DecodeError::BadVersion(p.version));
        }
        let occurred_at = p
            .occurred_at
            .and_then(datetime)
            .ok_or(DecodeError::Missing("a valid occurred_at"))?;
        let event = Event::try_from(p.payload.ok_or(DecodeError::Missing("payload"))?)?;
        Ok(Self {
            event_id: uuid("event_id", &p.event_id)?,
            user_id: p.user_id,
            occurred_at,
            correlation_id: p.correlation_id,
            trace_parent: p.traceparent,
            recorded: RecordedEvent {
                version: p.version,
                idempotency_key: p.idempotency_key,
                event,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use atone_domain::*;
    use chrono::{DateTime, NaiveDate};
    use uuid::Uuid;

    use super::*;

    fn envelope(event: Event) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            user_id: "u1".into(),
            occurred_at: DateTime::from_timestamp(1_770_000_000, 123_456_000).unwrap(),
            correlation_id: "c1".into(),
            trace_parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            recorded: RecordedEvent {
                version: 3,
                idempotency_key: "k1".into(),
                event,
            },
        }
    }

    #[test]
    fn the_trace_context_is_read_alone_and_survives_the_envelope() {
        let e = envelope(Event::CreditLimitChanged(
            atone_domain::CreditLimitChanged { limit: 70_000 },
        ));
        let bytes = encode(&e);
        assert_eq!(trace_parent(&bytes), e.trace_parent);
        assert_eq!(decode(&bytes).unwrap().trace_parent, e.trace_parent);
        assert_eq!(trace_parent(b"not an envelope"), "");
    }

    #[test]
    fn every_event_survives_the_envelope() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 10).unwrap();
        let events = [
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id: Uuid::now_v7(),
                product_id: "p".into(),
                product_name: "名前".into(),
                amount: 5000,
                payment_mode: PaymentMode::Monthly,
                credit_limit: 50_000,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id: Uuid::now_v7(),
                order_id: Uuid::now_v7(),
                product_id: "p".into(),
                product_name: "n".into(),
                amount: 5000,
                payment_mode: PaymentMode::Immediate,
                due_date: d,
            }),
            Event::MemberBillIssued(MemberBillIssued {
                bill_id: Uuid::now_v7(),
                promise_ids: vec![Uuid::now_v7(), Uuid::now_v7()],
                amount: 5000,
                issued_date: d,
                due_date: d,
            }),
            Event::PaymentCompleted(PaymentCompleted {
                bill_id: Uuid::now_v7(),
                amount: 1,
                paid_date: d,
            }),
            Event::PaymentMethodChanged(PaymentMethodChanged {
                method: PaymentMethod::BankDebit,
            }),
            Event::MonthlyBillIssued(MonthlyBillIssued {
                bill_id: Uuid::now_v7(),
                period: "2026-11".parse().unwrap(),
                promise_ids: vec![Uuid::now_v7(), Uuid::now_v7()],
                items_total: 5000,
                fee: 209,
                credit_applied: 100,
                unapplied_applied: 9,
                amount: 5100,
                method: PaymentMethod::ConvenienceStore,
                issued_date: d,
                due_date: d,
            }),
            Event::PurchaseCancelled(PurchaseCancelled {
                order_id: Uuid::now_v7(),
                promise_id: Uuid::now_v7(),
                amount: 100,
                remaining_amount: 900,
                credited: 100,
            }),
            Event::BillAdjusted(BillAdjusted {
                bill_id: Uuid::now_v7(),
                reason: AdjustmentReason::ReissueFee,
                items_total: 1,
                fee: 2,
                amount: 3,
                cancelled: true,
                credited: 4,
            }),
            Event::PaymentReceived(PaymentReceived {
                transaction_id: "tx-1".into(),
                bill_id: Some(Uuid::now_v7()),
                amount: 5,
                received_at: DateTime::from_timestamp(1_770_000_001, 5).unwrap(),
                applied: true,
                applications: vec![
                    Application {
                        bill_id: Uuid::now_v7(),
                        amount: 3,
                        left: 0,
                    },
                    Application {
                        bill_id: Uuid::now_v7(),
                        amount: 2,
                        left: 9,
                    },
                ],
            }),
            Event::PaymentReceived(PaymentReceived {
                transaction_id: "tx-2".into(),
                bill_id: None,
                amount: 6,
                received_at: DateTime::from_timestamp(1_770_000_002, 0).unwrap(),
                applied: false,
                applications: Vec::new(),
            }),
            Event::RefundIssued(RefundIssued {
                refund_id: Uuid::now_v7(),
                amount: 7,
                from_credit: 3,
                from_unapplied: 4,
            }),
            Event::BillOverdue(BillOverdue {
                bill_id: Uuid::now_v7(),
                since: d,
            }),
            Event::ReminderIssued(ReminderIssued {
                bill_id: Uuid::now_v7(),
                days_overdue: 7,
                date: d,
            }),
            Event::CreditLimitChanged(CreditLimitChanged { limit: 80_000 }),
        ];
        for event in events {
            let original = envelope(event);
            assert_eq!(decode(&encode(&original)).unwrap(), original);
        }
    }

    #[test]
    fn a_packed_record_gives_its_envelopes_in_order_and_a_plain_one_still_reads() {
        let events: Vec<Envelope> = (1..=3)
            .map(|v| {
                let mut e = envelope(Event::CreditLimitChanged(CreditLimitChanged {
                    limit: 10_000 * v,
                }));
                e.recorded.version = v;
                e
            })
            .collect();
        let encoded: Vec<Vec<u8>> = events.iter().map(encode).collect();
        let data = pack(encoded.iter().map(Vec::as_slice));
        assert_eq!(
            data.len(),
            PACKED_PREFIX.len() + encoded.iter().map(|e| packed_size(e.len())).sum::<usize>()
        );
        // The packed form is an EventRecord as the proto declares it.
        let typed = v1::EventRecord::decode(&data[PACKED_PREFIX.len()..]).unwrap();
        assert_eq!(typed.events.len(), 3);
        let unpacked: Vec<Envelope> = unpack(&data)
            .into_iter()
            .map(|d| d.unwrap().envelope.unwrap())
            .collect();
        assert_eq!(unpacked, events);
        // A record of the single-event form (what earlier relays wrote) reads as before.
        let plain = unpack(&encoded[1]);
        assert_eq!(plain.len(), 1);
        assert_eq!(
            plain[0].as_ref().unwrap().envelope.as_ref().unwrap(),
            &events[1]
        );
        assert!(encoded.iter().all(|e| !e.starts_with(&PACKED_PREFIX)));
    }

    #[test]
    fn a_broken_packed_record_is_an_error_not_a_panic() {
        let mut data = PACKED_PREFIX.to_vec();
        data.extend_from_slice(&[0x0A, 0x50, 1, 2]);
        assert!(matches!(
            unpack(&data)[..],
            [Err(DecodeError::NotAnEnvelope(_))]
        ));
        assert!(matches!(
            unpack(&PACKED_PREFIX)[..],
            [Err(DecodeError::Missing("events"))]
        ));
        let inner_garbage = pack([&b"garbage"[..]]);
        assert!(matches!(unpack(&inner_garbage)[..], [Err(_)]));
    }

    #[test]
    fn foreign_records_are_errors() {
        assert!(decode(b"{\"hello\": \"world\"}").is_err());
        assert!(decode(&[]).is_err());
        let mut no_payload =
            v1::EventEnvelope::from(&envelope(Event::PaymentCompleted(PaymentCompleted {
                bill_id: Uuid::now_v7(),
                amount: 1,
                paid_date: NaiveDate::MIN,
            })));
        no_payload.payload = None;
        assert_eq!(
            Envelope::try_from(no_payload),
            Err(DecodeError::Missing("payload"))
        );
    }
}
