//! The wire form of an event: the protobuf `EventEnvelope` that the relay puts on the
//! stream, the outbox holds and the projector reads back.

use atone_domain::{
    Envelope, Event, MemberBillIssued, PaymentCompleted, PaymentPromiseCreated, PurchaseCompleted,
    RecordedEvent,
};
use chrono::NaiveDate;
use prost::Message;
use uuid::Uuid;

use crate::convert::{PaymentModeError, datetime, payment_mode, timestamp};
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
}

pub fn encode(envelope: &Envelope) -> Vec<u8> {
    v1::EventEnvelope::from(envelope).encode_to_vec()
}

/// Reads a record off the stream (or a row of the outbox).
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    v1::EventEnvelope::decode(bytes)?.try_into()
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
            recorded: RecordedEvent {
                version: p.version,
                idempotency_key: p.idempotency_key,
                event,
            },
        })
    }
}

impl From<&Event> for Payload {
    fn from(event: &Event) -> Self {
        match event {
            Event::PurchaseCompleted(e) => Self::PurchaseCompleted(v1::PurchaseCompleted {
                order_id: e.order_id.to_string(),
                product_id: e.product_id.clone(),
                product_name: e.product_name.clone(),
                amount: e.amount,
                payment_mode: v1::PaymentMode::from(e.payment_mode) as i32,
                credit_limit: e.credit_limit,
            }),
            Event::PaymentPromiseCreated(e) => {
                Self::PaymentPromiseCreated(v1::PaymentPromiseCreated {
                    promise_id: e.promise_id.to_string(),
                    order_id: e.order_id.to_string(),
                    product_id: e.product_id.clone(),
                    product_name: e.product_name.clone(),
                    amount: e.amount,
                    payment_mode: v1::PaymentMode::from(e.payment_mode) as i32,
                    due_date: e.due_date.to_string(),
                })
            }
            Event::MemberBillIssued(e) => Self::MemberBillIssued(v1::MemberBillIssued {
                bill_id: e.bill_id.to_string(),
                promise_ids: e.promise_ids.iter().map(Uuid::to_string).collect(),
                amount: e.amount,
                issued_date: e.issued_date.to_string(),
                due_date: e.due_date.to_string(),
            }),
            Event::PaymentCompleted(e) => Self::PaymentCompleted(v1::PaymentCompleted {
                bill_id: e.bill_id.to_string(),
                amount: e.amount,
                paid_date: e.paid_date.to_string(),
            }),
        }
    }
}

impl TryFrom<Payload> for Event {
    type Error = DecodeError;

    fn try_from(payload: Payload) -> Result<Self, DecodeError> {
        Ok(match payload {
            Payload::PurchaseCompleted(e) => Self::PurchaseCompleted(PurchaseCompleted {
                order_id: uuid("order_id", &e.order_id)?,
                product_id: e.product_id,
                product_name: e.product_name,
                amount: e.amount,
                payment_mode: payment_mode(e.payment_mode)?,
                credit_limit: e.credit_limit,
            }),
            Payload::PaymentPromiseCreated(e) => {
                Self::PaymentPromiseCreated(PaymentPromiseCreated {
                    promise_id: uuid("promise_id", &e.promise_id)?,
                    order_id: uuid("order_id", &e.order_id)?,
                    product_id: e.product_id,
                    product_name: e.product_name,
                    amount: e.amount,
                    payment_mode: payment_mode(e.payment_mode)?,
                    due_date: date("due_date", &e.due_date)?,
                })
            }
            Payload::MemberBillIssued(e) => Self::MemberBillIssued(MemberBillIssued {
                bill_id: uuid("bill_id", &e.bill_id)?,
                promise_ids: e
                    .promise_ids
                    .iter()
                    .map(|id| uuid("promise_ids", id))
                    .collect::<Result<_, _>>()?,
                amount: e.amount,
                issued_date: date("issued_date", &e.issued_date)?,
                due_date: date("due_date", &e.due_date)?,
            }),
            Payload::PaymentCompleted(e) => Self::PaymentCompleted(PaymentCompleted {
                bill_id: uuid("bill_id", &e.bill_id)?,
                amount: e.amount,
                paid_date: date("paid_date", &e.paid_date)?,
            }),
        })
    }
}

fn uuid(field: &'static str, value: &str) -> Result<Uuid, DecodeError> {
    Uuid::try_parse(value).map_err(|_| DecodeError::Malformed {
        field,
        value: value.to_owned(),
        expected: "UUID",
    })
}

fn date(field: &'static str, value: &str) -> Result<NaiveDate, DecodeError> {
    value.parse().map_err(|_| DecodeError::Malformed {
        field,
        value: value.to_owned(),
        expected: "date",
    })
}

#[cfg(test)]
mod tests {
    use atone_domain::PaymentMode;
    use chrono::DateTime;

    use super::*;

    fn envelope(event: Event) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            user_id: "u1".into(),
            occurred_at: DateTime::from_timestamp(1_770_000_000, 123_456_000).unwrap(),
            correlation_id: "c1".into(),
            recorded: RecordedEvent {
                version: 3,
                idempotency_key: "k1".into(),
                event,
            },
        }
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
        ];
        for event in events {
            let original = envelope(event);
            assert_eq!(decode(&encode(&original)).unwrap(), original);
        }
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
