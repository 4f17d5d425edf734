//! Between the domain's events and the protobuf `EventEnvelope` that travels on the stream.

use atone_api::prost::Message;
use atone_api::prost_types::Timestamp;
use atone_api::v1::{self, event_envelope::Payload};
use atone_domain::{
    Event, MemberBillIssued, PaymentCompleted, PaymentMode, PaymentPromiseCreated,
    PurchaseCompleted, RecordedEvent,
};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// An event with everything the envelope carries: what the projector applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub event_id: Uuid,
    pub user_id: String,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: String,
    pub recorded: RecordedEvent,
}

impl Envelope {
    pub fn version(&self) -> i64 {
        self.recorded.version
    }

    pub fn event(&self) -> &Event {
        &self.recorded.event
    }

    pub fn encode(&self) -> Vec<u8> {
        self.to_proto().encode_to_vec()
    }

    /// Reads a record off the stream. Anything that is not an envelope of ours is an error,
    /// never a panic: other producers may share the stream.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let proto =
            v1::EventEnvelope::decode(bytes).map_err(|e| format!("not an EventEnvelope: {e}"))?;
        Self::from_proto(proto)
    }

    pub fn to_proto(&self) -> v1::EventEnvelope {
        v1::EventEnvelope {
            event_id: self.event_id.to_string(),
            user_id: self.user_id.clone(),
            version: self.recorded.version,
            occurred_at: Some(timestamp(self.occurred_at)),
            idempotency_key: self.recorded.idempotency_key.clone(),
            correlation_id: self.correlation_id.clone(),
            payload: Some(payload(&self.recorded.event)),
        }
    }

    pub fn from_proto(p: v1::EventEnvelope) -> Result<Self, String> {
        if p.user_id.is_empty() {
            return Err("envelope without user_id".into());
        }
        if p.version < 1 {
            return Err(format!("envelope with version {}", p.version));
        }
        let occurred_at = p
            .occurred_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
            .ok_or("envelope without a valid occurred_at")?;
        let event = match p.payload.ok_or("envelope without payload")? {
            Payload::PurchaseCompleted(e) => Event::PurchaseCompleted(PurchaseCompleted {
                order_id: uuid("order_id", &e.order_id)?,
                product_id: e.product_id,
                product_name: e.product_name,
                amount: e.amount,
                payment_mode: mode(e.payment_mode)?,
                credit_limit: e.credit_limit,
            }),
            Payload::PaymentPromiseCreated(e) => {
                Event::PaymentPromiseCreated(PaymentPromiseCreated {
                    promise_id: uuid("promise_id", &e.promise_id)?,
                    order_id: uuid("order_id", &e.order_id)?,
                    product_id: e.product_id,
                    product_name: e.product_name,
                    amount: e.amount,
                    payment_mode: mode(e.payment_mode)?,
                    due_date: date("due_date", &e.due_date)?,
                })
            }
            Payload::MemberBillIssued(e) => Event::MemberBillIssued(MemberBillIssued {
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
            Payload::PaymentCompleted(e) => Event::PaymentCompleted(PaymentCompleted {
                bill_id: uuid("bill_id", &e.bill_id)?,
                amount: e.amount,
                paid_date: date("paid_date", &e.paid_date)?,
            }),
        };
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

fn payload(event: &Event) -> Payload {
    match event {
        Event::PurchaseCompleted(e) => Payload::PurchaseCompleted(v1::PurchaseCompleted {
            order_id: e.order_id.to_string(),
            product_id: e.product_id.clone(),
            product_name: e.product_name.clone(),
            amount: e.amount,
            payment_mode: mode_to_proto(e.payment_mode) as i32,
            credit_limit: e.credit_limit,
        }),
        Event::PaymentPromiseCreated(e) => {
            Payload::PaymentPromiseCreated(v1::PaymentPromiseCreated {
                promise_id: e.promise_id.to_string(),
                order_id: e.order_id.to_string(),
                product_id: e.product_id.clone(),
                product_name: e.product_name.clone(),
                amount: e.amount,
                payment_mode: mode_to_proto(e.payment_mode) as i32,
                due_date: e.due_date.to_string(),
            })
        }
        Event::MemberBillIssued(e) => Payload::MemberBillIssued(v1::MemberBillIssued {
            bill_id: e.bill_id.to_string(),
            promise_ids: e.promise_ids.iter().map(Uuid::to_string).collect(),
            amount: e.amount,
            issued_date: e.issued_date.to_string(),
            due_date: e.due_date.to_string(),
        }),
        Event::PaymentCompleted(e) => Payload::PaymentCompleted(v1::PaymentCompleted {
            bill_id: e.bill_id.to_string(),
            amount: e.amount,
            paid_date: e.paid_date.to_string(),
        }),
    }
}

pub fn mode_to_proto(mode: PaymentMode) -> v1::PaymentMode {
    match mode {
        PaymentMode::Immediate => v1::PaymentMode::Immediate,
        PaymentMode::Monthly => v1::PaymentMode::Monthly,
    }
}

fn mode(value: i32) -> Result<PaymentMode, String> {
    match v1::PaymentMode::try_from(value) {
        Ok(v1::PaymentMode::Immediate) => Ok(PaymentMode::Immediate),
        Ok(v1::PaymentMode::Monthly) => Ok(PaymentMode::Monthly),
        _ => Err(format!("payment_mode {value} is not a payment mode")),
    }
}

fn uuid(field: &str, value: &str) -> Result<Uuid, String> {
    Uuid::try_parse(value).map_err(|_| format!("{field} {value:?} is not a UUID"))
}

fn date(field: &str, value: &str) -> Result<NaiveDate, String> {
    value
        .parse()
        .map_err(|_| format!("{field} {value:?} is not a date"))
}

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
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
            assert_eq!(Envelope::decode(&original.encode()).unwrap(), original);
        }
    }

    #[test]
    fn foreign_records_are_errors() {
        assert!(Envelope::decode(b"{\"hello\": \"world\"}").is_err());
        assert!(Envelope::decode(&[]).is_err());
        let mut no_payload = envelope(Event::PaymentCompleted(PaymentCompleted {
            bill_id: Uuid::now_v7(),
            amount: 1,
            paid_date: NaiveDate::MIN,
        }))
        .to_proto();
        no_payload.payload = None;
        assert!(Envelope::from_proto(no_payload).is_err());
    }
}
