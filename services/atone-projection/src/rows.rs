//! The rows of the read models, as plain values: `members`, `payment_promises` and
//! `member_bills`, one struct each.

use std::collections::BTreeMap;

use atone_domain::{BankAccount, PaymentMethod, PaymentMode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Change;

/// The credit limit of a member no purchase or `ChangeCreditLimit` has set one for: the
/// command process's configured default applies, and that is what a read shows.
pub const LIMIT_NOT_SET: i64 = -1;

/// A member's totals: what `GetMember` shows as the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub user_id: String,
    /// [`LIMIT_NOT_SET`] until a purchase records the limit it was checked against, or
    /// `ChangeCreditLimit` sets one.
    pub credit_limit: i64,
    /// Yen owed: every promise whose bill is not paid yet.
    pub outstanding_amount: i64,
    /// The last version applied: events at or below it are in the read models.
    pub version: i64,
    pub payment_method: PaymentMethod,
    /// Yen owed to the member from cancellations of paid purchases.
    pub credit_balance: i64,
    /// Yen received that paid no bill (過入金).
    pub unapplied_balance: i64,
    /// Unpaid bills past their due date; while there is one the member cannot buy.
    pub overdue_bills: i64,
    /// The account bank-debit bills are drawn from, its number masked (`****567`).
    /// Change-feed rows written before it existed read as none.
    #[serde(default)]
    pub bank_account: Option<Box<BankAccount>>,
}

impl MemberRow {
    /// A member the read models have not seen yet.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            credit_limit: LIMIT_NOT_SET,
            outstanding_amount: 0,
            version: 0,
            payment_method: PaymentMethod::default(),
            credit_balance: 0,
            unapplied_balance: 0,
            overdue_bills: 0,
            bank_account: None,
        }
    }

    /// The limit that applies: the member's own, or `default` while none is set.
    pub fn credit_limit_or(&self, default: i64) -> i64 {
        if self.credit_limit == LIMIT_NOT_SET {
            default
        } else {
            self.credit_limit
        }
    }

    /// What the member may still buy for, with `default` as the limit while none is set;
    /// never negative, even if the limit was lowered.
    pub fn available_credit(&self, default: i64) -> i64 {
        (self.credit_limit_or(default) - self.outstanding_amount).max(0)
    }
}

/// Where a payment promise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromiseStatus {
    Unbilled,
    Billed,
    Paid,
    /// The whole order was cancelled.
    Cancelled,
}

impl PromiseStatus {
    /// The value stored in `payment_promises.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unbilled => "unbilled",
            Self::Billed => "billed",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Unbilled, Self::Billed, Self::Paid, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// Where a member bill stands (`member_bills.status`, as in the hands-on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    /// 未払い
    Unpaid,
    /// 支払済み
    Paid,
    /// 延滞: unpaid after its due date.
    Overdue,
    /// 調整済み: unpaid, its amount changed by a cancellation.
    Adjusted,
    /// Every promise on it was cancelled.
    Cancelled,
}

impl BillStatus {
    /// The value stored in `member_bills.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unpaid => "unpaid",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
            Self::Adjusted => "adjusted",
            Self::Cancelled => "cancelled",
        }
    }

    /// Still to be paid (unpaid, overdue or adjusted).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Unpaid | Self::Overdue | Self::Adjusted)
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Unpaid,
            Self::Paid,
            Self::Overdue,
            Self::Adjusted,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// How a bill came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillKind {
    /// すぐ払い: one promise, on its own.
    Immediate,
    /// 月まとめ払い: a month's promises together.
    Monthly,
}

impl BillKind {
    /// The value stored in `member_bills.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Monthly => "monthly",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Immediate, Self::Monthly]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseRow {
    pub id: String,
    pub order_id: String,
    pub user_id: String,
    pub product_id: String,
    pub product_name: String,
    /// What is left to pay after cancellations.
    pub amount: i64,
    pub cancelled_amount: i64,
    pub due_date: NaiveDate,
    pub payment_mode: PaymentMode,
    pub status: PromiseStatus,
    pub bill_id: Option<String>,
    pub purchased_at: DateTime<Utc>,
    /// The member version that created it: lists are ordered and paged by it.
    pub created_version: i64,
    pub updated_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillRow {
    pub id: String,
    pub user_id: String,
    pub kind: BillKind,
    /// `YYYY-MM` of a monthly bill.
    pub period: Option<String>,
    pub promise_ids: Vec<String>,
    /// What the bill asks: items + fee - balance applied.
    pub amount: i64,
    pub items_total: i64,
    pub fee: i64,
    pub balance_applied: i64,
    /// Money received applied to it (消込); `amount - paid_amount` is left to pay while it
    /// is open. Change-feed rows written before it existed read as 0.
    #[serde(default)]
    pub paid_amount: i64,
    pub status: BillStatus,
    /// How a monthly bill is paid (none for an immediate bill): bank debit until a debit
    /// of it fails. Change-feed rows written before it existed read as none.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// Why the bank could not draw it (`1: insufficient funds (資金不足)`), once a result
    /// file said so.
    #[serde(default)]
    pub debit_failure: Option<String>,
    pub issued_date: NaiveDate,
    pub due_date: NaiveDate,
    pub paid_date: Option<NaiveDate>,
    pub overdue_since: Option<NaiveDate>,
    pub reminders_sent: i64,
    pub created_version: i64,
    pub updated_version: i64,
}

/// The rows of one member a batch has in hand: the member row, and those promises and bills
/// that the batch's events need (see [`crate::Needs`]) or have written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRows {
    pub member: MemberRow,
    pub promises: BTreeMap<String, PromiseRow>,
    pub bills: BTreeMap<String, BillRow>,
}

impl MemberRows {
    /// A member with no rows yet.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            member: MemberRow::new(user_id),
            promises: BTreeMap::new(),
            bills: BTreeMap::new(),
        }
    }

    /// Takes in what one event changed, so the next event of the batch sees it.
    pub fn apply(&mut self, change: &Change) {
        self.member = change.member.clone();
        for promise in &change.promises {
            self.promises.insert(promise.id.clone(), promise.clone());
        }
        for bill in &change.bills {
            self.bills.insert(bill.id.clone(), bill.clone());
        }
    }
}
