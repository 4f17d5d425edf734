use chrono::{DateTime, NaiveDate, Utc};

use crate::Period;
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

/// How a member pays their monthly bill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    /// コンビニ払い: paid by the 10th at a convenience store or bank ATM, with a
    /// bill-issuing fee.
    #[default]
    ConvenienceStore,
    /// 口座振替: drawn from the member's bank account on the 27th, without a fee.
    BankDebit,
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

/// The member chose how to pay their monthly bills from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodChanged {
    pub method: PaymentMethod,
}

/// 締め: a month's 月まとめ払い promises, billed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyBillIssued {
    pub bill_id: Uuid,
    pub period: Period,
    pub promise_ids: Vec<Uuid>,
    /// The promises' amounts, together.
    pub items_total: i64,
    /// The bill-issuing fee (convenience store); 0 for bank debit.
    pub fee: i64,
    /// Taken from the member's credit balance (cancellations after payment).
    pub credit_applied: i64,
    /// Taken from the member's unapplied money (過入金).
    pub unapplied_applied: i64,
    /// What the member pays: items + fee - both balances applied. 0 means paid at issue.
    pub amount: i64,
    pub method: PaymentMethod,
    pub issued_date: NaiveDate,
    pub due_date: NaiveDate,
}

/// 返品 / 金額変更: (part of) an order was cancelled; its promise shrank by `amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseCancelled {
    pub order_id: Uuid,
    pub promise_id: Uuid,
    /// Yen cancelled now.
    pub amount: i64,
    /// What the promise is for afterwards; 0 when the whole order is cancelled.
    pub remaining_amount: i64,
    /// Yen that became the member's credit balance, because the promise was paid already.
    pub credited: i64,
}

/// Why a bill's amount changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdjustmentReason {
    /// A promise on it was cancelled (in part).
    Cancellation,
    /// The re-issue fee of an overdue bill.
    ReissueFee,
}

/// An unpaid bill now asks for another amount; with nothing left to bill it is cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillAdjusted {
    pub bill_id: Uuid,
    pub reason: AdjustmentReason,
    pub items_total: i64,
    pub fee: i64,
    pub amount: i64,
    pub cancelled: bool,
    /// Balance applied to the bill that it no longer needs, back to the member's credit
    /// balance.
    pub credited: i64,
}

/// A payment provider reported money received (入金).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReceived {
    /// The provider's transaction id: the same one twice is recorded once.
    pub transaction_id: String,
    /// The bill the provider named, if any.
    pub bill_id: Option<Uuid>,
    pub amount: i64,
    pub received_at: DateTime<Utc>,
    /// True if any of it paid a bill; false if all of it became the member's unapplied
    /// balance.
    pub applied: bool,
    /// 消込: what it paid, bill by bill, in the order applied (the bill it named first, then
    /// the oldest open bill). What is left over is kept as the unapplied balance. Empty in
    /// events recorded before money was applied in part: there `applied` means it paid the
    /// named bill whole.
    #[serde(default)]
    pub applications: Vec<Application>,
}

/// Money applied to one bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub bill_id: Uuid,
    /// Yen applied to it.
    pub amount: i64,
    /// Yen left to pay on it afterwards; 0 means the bill is paid.
    pub left: i64,
}

impl PaymentReceived {
    /// What it paid, bill by bill: [`PaymentReceived::applications`], or for an event
    /// recorded before money was applied in part, the named bill paid whole.
    pub fn paid_bills(&self) -> Vec<Application> {
        match self.bill_id {
            Some(bill_id) if self.applied && self.applications.is_empty() => vec![Application {
                bill_id,
                amount: self.amount,
                left: 0,
            }],
            _ => self.applications.clone(),
        }
    }

    /// The yen that paid no bill: the member's unapplied balance grows by it.
    pub fn kept(&self) -> i64 {
        self.amount - self.paid_bills().iter().map(|a| a.amount).sum::<i64>()
    }
}

/// Money given back to the member from their balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundIssued {
    pub refund_id: Uuid,
    pub amount: i64,
    pub from_credit: i64,
    pub from_unapplied: i64,
}

/// 延滞: the day after its due date, the bill is still unpaid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillOverdue {
    pub bill_id: Uuid,
    /// The first day overdue.
    pub since: NaiveDate,
}

/// A reminder (督促) of an overdue bill was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderIssued {
    pub bill_id: Uuid,
    /// Which reminder: the days overdue it is for (1, 7, 14 by default).
    pub days_overdue: i64,
    pub date: NaiveDate,
}

/// The member's ご利用上限額 changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimitChanged {
    pub limit: i64,
}

/// The member gave the bank account their bank-debit bills are drawn from. The number is
/// kept whole here (the bank-debit file needs it) and shown masked everywhere else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccountSet {
    pub account: crate::BankAccount,
}

/// 振替不能: the bank could not draw a bank-debit bill. It is a convenience-store bill
/// from now on, with the bill-issuing fee added and a new due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankDebitFailed {
    pub bill_id: Uuid,
    /// 振替結果コード of the result file, 1 to 9.
    pub code: u8,
    pub reason: String,
    /// The fee added to the bill.
    pub fee: i64,
    /// What the bill asks now, the fee included.
    pub amount: i64,
    pub due_date: NaiveDate,
}

/// Something that happened to a member. Past tense; once appended, never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PurchaseCompleted(PurchaseCompleted),
    PaymentPromiseCreated(PaymentPromiseCreated),
    MemberBillIssued(MemberBillIssued),
    PaymentCompleted(PaymentCompleted),
    PaymentMethodChanged(PaymentMethodChanged),
    MonthlyBillIssued(MonthlyBillIssued),
    PurchaseCancelled(PurchaseCancelled),
    BillAdjusted(BillAdjusted),
    PaymentReceived(PaymentReceived),
    RefundIssued(RefundIssued),
    BillOverdue(BillOverdue),
    ReminderIssued(ReminderIssued),
    CreditLimitChanged(CreditLimitChanged),
    BankAccountSet(BankAccountSet),
    BankDebitFailed(BankDebitFailed),
}

/// Each event type once: its name (in `events.event_type`) and its JSON (in
/// `events.event_data`).
macro_rules! event_types {
    ($($name:ident),* $(,)?) => {
        impl Event {
            /// Every event type's name, as [`Event::event_type`] gives it.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($name),)*];

            /// The name stored in `events.event_type` and shown to watchers.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$name(_) => stringify!($name),)*
                }
            }

            /// The payload as the JSON object stored in `events.event_data`.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Self::$name(e) => serde_json::to_value(e),)*
                };
                // Plain structs of strings, numbers and dates always serialize.
                value.unwrap_or(serde_json::Value::Null)
            }

            /// Reads back what [`Event::to_json`] wrote.
            pub fn from_json(event_type: &str, data: serde_json::Value) -> Result<Self, String> {
                let event = match event_type {
                    $(stringify!($name) => serde_json::from_value(data).map(Self::$name),)*
                    other => return Err(format!("unknown event type {other:?}")),
                };
                event.map_err(|e| format!("{event_type}: {e}"))
            }
        }
    };
}

event_types!(
    PurchaseCompleted,
    PaymentPromiseCreated,
    MemberBillIssued,
    PaymentCompleted,
    PaymentMethodChanged,
    MonthlyBillIssued,
    PurchaseCancelled,
    BillAdjusted,
    PaymentReceived,
    RefundIssued,
    BillOverdue,
    ReminderIssued,
    CreditLimitChanged,
    BankAccountSet,
    BankDebitFailed,
);

/// An event as it stands in a member's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// 1, 2, 3... within the member's stream.
    pub version: i64,
    /// The key of the command that produced it: idempotent retries are recognised by it.
    pub idempotency_key: String,
    pub event: Event,
}
