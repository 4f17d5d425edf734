use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a promise is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMode {
    /// すぐ払い: billed on its own.
    Immediate,
    /// 月まとめ払い: billed with the rest of the month's promises.
    Monthly,
}

impl PaymentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "IMMEDIATE",
            Self::Monthly => "MONTHLY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IMMEDIATE" => Some(Self::Immediate),
            "MONTHLY" => Some(Self::Monthly),
            _ => None,
        }
    }
}

/// 購入: a member bought from a merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseCompleted {
    pub order_id: Uuid,
    pub product_id: String,
    pub product_name: String,
    pub amount: i64,
    pub payment_mode: PaymentMode,
    /// The limit the purchase was checked against, so the read model can show it.
    pub credit_limit: i64,
}

/// 支払約束: the member promised to pay for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPromiseCreated {
    pub promise_id: Uuid,
    pub order_id: Uuid,
    pub product_id: String,
    pub product_name: String,
    pub amount: i64,
    pub payment_mode: PaymentMode,
    pub due_date: NaiveDate,
}

/// 会員請求: a bill for one or more promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberBillIssued {
    pub bill_id: Uuid,
    pub promise_ids: Vec<Uuid>,
    pub amount: i64,
    pub issued_date: NaiveDate,
    pub due_date: NaiveDate,
}

/// 支払い完了: a payment provider reported the bill paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCompleted {
    pub bill_id: Uuid,
    pub amount: i64,
    pub paid_date: NaiveDate,
}

/// Something that happened to a member. Past tense; once appended, never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PurchaseCompleted(PurchaseCompleted),
    PaymentPromiseCreated(PaymentPromiseCreated),
    MemberBillIssued(MemberBillIssued),
    PaymentCompleted(PaymentCompleted),
}

impl Event {
    /// The name stored in `events.event_type` and shown to watchers.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::PurchaseCompleted(_) => "PurchaseCompleted",
            Self::PaymentPromiseCreated(_) => "PaymentPromiseCreated",
            Self::MemberBillIssued(_) => "MemberBillIssued",
            Self::PaymentCompleted(_) => "PaymentCompleted",
        }
    }

    /// The payload as the JSON object stored in `events.event_data`.
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::PurchaseCompleted(e) => serde_json::to_value(e),
            Self::PaymentPromiseCreated(e) => serde_json::to_value(e),
            Self::MemberBillIssued(e) => serde_json::to_value(e),
            Self::PaymentCompleted(e) => serde_json::to_value(e),
        };
        // Plain structs of strings, numbers and dates always serialize.
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Reads back what [`Event::to_json`] wrote.
    pub fn from_json(event_type: &str, data: serde_json::Value) -> Result<Self, String> {
        let event = match event_type {
            "PurchaseCompleted" => serde_json::from_value(data).map(Self::PurchaseCompleted),
            "PaymentPromiseCreated" => {
                serde_json::from_value(data).map(Self::PaymentPromiseCreated)
            }
            "MemberBillIssued" => serde_json::from_value(data).map(Self::MemberBillIssued),
            "PaymentCompleted" => serde_json::from_value(data).map(Self::PaymentCompleted),
            other => return Err(format!("unknown event type {other:?}")),
        };
        event.map_err(|e| format!("{event_type}: {e}"))
    }
}

/// An event as it stands in a member's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// 1, 2, 3... within the member's stream.
    pub version: i64,
    /// The key of the command that produced it: idempotent retries are recognised by it.
    pub idempotency_key: String,
    pub event: Event,
}
