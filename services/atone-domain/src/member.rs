use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{Event, PaymentMethod, PaymentMode, RecordedEvent};
use crate::{Period, period_of_monthly_due_date};

/// A member's state, folded from their stream. Everything a command is checked against.
///
/// It is also stored as a snapshot (JSON): a snapshot of an older shape fails to read and
/// the stream is folded from the start instead, so no field has a serde default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The version of the last event applied; 0 for a member with no events.
    pub version: i64,
    /// Yen owed: what is left of every promise whose bill is not paid yet (fees aside).
    pub outstanding: i64,
    /// ご利用上限額 once the member has one: set by their first purchase (the limit it was
    /// checked against) or by `ChangeCreditLimit`. Until then the configured default holds.
    pub credit_limit: Option<i64>,
    pub payment_method: PaymentMethod,
    /// Yen owed to the member: cancellations of paid purchases.
    pub credit_balance: i64,
    /// Yen received that paid no bill (過入金).
    pub unapplied_balance: i64,
    pub promises: BTreeMap<Uuid, Promise>,
    pub bills: BTreeMap<Uuid, Bill>,
    /// The monthly bill of each period closed for the member.
    pub closed_periods: BTreeMap<Period, Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub order_id: Uuid,
    /// What is left to pay; 0 once the whole order is cancelled.
    pub amount: i64,
    pub cancelled_amount: i64,
    pub payment_mode: PaymentMode,
    pub due_date: NaiveDate,
    pub bill_id: Option<Uuid>,
}

impl Promise {
    pub fn is_cancelled(&self) -> bool {
        self.amount == 0
    }

    /// The month a 月まとめ払い promise is billed with; `None` for すぐ払い.
    pub fn period(&self) -> Option<Period> {
        (self.payment_mode == PaymentMode::Monthly)
            .then(|| period_of_monthly_due_date(self.due_date))
    }
}

/// Where a bill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillState {
    Unpaid,
    Paid,
    /// Every promise on it was cancelled.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// The period of a monthly bill; `None` for an immediate one.
    pub period: Option<Period>,
    /// What the bill asks the member to pay: items + fee - the balances applied at issue.
    pub amount: i64,
    /// Money received applied to it since (消込); [`Bill::left`] is what is left to pay.
    pub paid: i64,
    pub items_total: i64,
    pub fee: i64,
    /// How a monthly bill is paid: by bank debit until a debit of it fails; `None` for an
    /// immediate bill.
    pub method: Option<PaymentMethod>,
    /// The balances applied to it at issue.
    pub balance_applied: i64,
    pub promise_ids: Vec<Uuid>,
    pub due_date: NaiveDate,
    pub state: BillState,
    pub overdue: bool,
    pub adjusted: bool,
    pub reissue_fee_added: bool,
    /// The reminders sent, by days overdue.
    pub reminders: BTreeSet<i64>,
}

impl Bill {
    pub fn is_unpaid(&self) -> bool {
        self.state == BillState::Unpaid
    }

    /// Yen left to pay: 0 once the bill is paid or cancelled.
    pub fn left(&self) -> i64 {
        if self.is_unpaid() {
            self.amount - self.paid
        } else {
            0
        }
    }
}

impl Member {
    /// Folds a whole stream, oldest first.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Self {
        let mut member = Self::default();
        for event in events {
            member.apply(event);
        }
        member
    }

    /// The limit a purchase is checked against.
    pub fn limit_or(&self, default: i64) -> i64 {
        self.credit_limit.unwrap_or(default)
    }

    /// The member's promise for `order_id`.
    pub fn promise_of_order(&self, order_id: Uuid) -> Option<(Uuid, &Promise)> {
        self.promises
            .iter()
            .find(|(_, p)| p.order_id == order_id)
            .map(|(id, p)| (*id, p))
    }

    /// An unpaid bill past its due date, if the member has one.
    pub fn overdue_bill(&self) -> Option<(Uuid, &Bill)> {
        self.bills
            .iter()
            .find(|(_, b)| b.overdue && b.is_unpaid())
            .map(|(id, b)| (*id, b))
    }

    /// The shape of the state as snapshots store it: a snapshot of another schema is not
    /// read but folded afresh from the events. Raise it with any change of the state's
    /// fields or of what they mean.
    pub const SCHEMA: i32 = 4;

    /// Folds one event into the state. Events are facts: this never fails.
    pub fn apply(&mut self, recorded: &RecordedEvent) {
        self.version = recorded.version;
        self.apply_event(&recorded.event);
        self.forget_settled();
    }

    /// Keeps the state bounded: of the bills settled (paid or cancelled) only the last
    /// [`SETTLED_KEPT`] stay, with their promises, and as many cancelled promises that
    /// never reached a bill. Open promises and bills, and the balances, are always kept.
    fn forget_settled(&mut self) {
        if self.bills.len() <= SETTLED_KEPT && self.promises.len() <= SETTLED_KEPT {
            return;
        }
        let settled: Vec<Uuid> = self
            .bills
            .iter()
            .filter(|(_, b)| !b.is_unpaid())
            .map(|(id, _)| *id)
            .collect();
        // Ids are UUIDv7: in map order, oldest first.
        for id in settled
            .iter()
            .take(settled.len().saturating_sub(SETTLED_KEPT))
        {
            if let Some(bill) = self.bills.remove(id) {
                for promise in &bill.promise_ids {
                    self.promises.remove(promise);
                }
            }
        }
        let cancelled: Vec<Uuid> = self
            .promises
            .iter()
            .filter(|(_, p)| p.is_cancelled() && p.bill_id.is_none())
            .map(|(id, _)| *id)
            .collect();
        for id in cancelled
            .iter()
            .take(cancelled.len().saturating_sub(SETTLED_KEPT))
        {
            self.promises.remove(id);
        }
    }

    /// Applies `amount` yen of money received to `bill_id`: once nothing is left to pay, the
    /// bill is paid.
    fn apply_money(&mut self, bill_id: Uuid, amount: i64) {
        let Some(bill) = self.bills.get_mut(&bill_id) else {
            return;
        };
        if !bill.is_unpaid() {
            return;
        }
        bill.paid += amount;
        if bill.left() <= 0 {
            self.settle(bill_id);
        }
    }

    /// Marks `bill` paid and frees the credit its promises used.
    pub(crate) fn settle(&mut self, bill_id: Uuid) {
        let Some(bill) = self.bills.get_mut(&bill_id) else {
            return;
        };
        if bill.state != BillState::Unpaid {
            return;
        }
        bill.state = BillState::Paid;
        self.outstanding -= bill.items_total;
    }
}

/// How many settled bills (and cancelled, never billed promises) a member's state keeps
/// for the decisions about them: paying a bill already paid is refused as such, and a
/// return after payment becomes credit. Older ones are forgotten by the state (never by
/// the event store or the read models): a command about one is refused as unknown.
pub const SETTLED_KEPT: usize = 50;

/// Taken from `available`, at most `wanted`: (taken, left).
pub(crate) fn take(available: i64, wanted: i64) -> (i64, i64) {
    let taken = available.clamp(0, wanted.max(0));
    (taken, available - taken)
}

impl Member {
    fn apply_event(&mut self, event: &Event) {
        match event {
            Event::PurchaseCompleted(e) => {
                self.credit_limit.get_or_insert(e.credit_limit);
            }
            Event::PaymentPromiseCreated(e) => {
                self.outstanding += e.amount;
                self.promises.insert(
                    e.promise_id,
                    Promise {
                        order_id: e.order_id,
                        amount: e.amount,
                        cancelled_amount: 0,
                        payment_mode: e.payment_mode,
                        due_date: e.due_date,
                        bill_id: None,
                    },
                );
            }
            Event::MemberBillIssued(e) => {
                self.bill_promises(e.bill_id, &e.promise_ids);
                self.bills.insert(
                    e.bill_id,
                    Bill::new(None, e.amount, e.amount, 0, 0, &e.promise_ids, e.due_date),
                );
            }
            Event::MonthlyBillIssued(e) => self.monthly_bill_issued(e),
            Event::PaymentCompleted(e) => self.apply_money(e.bill_id, e.amount),
            Event::PaymentReceived(e) => {
                for application in e.paid_bills() {
                    self.apply_money(application.bill_id, application.amount);
                }
                self.unapplied_balance += e.kept();
            }
            Event::PurchaseCancelled(e) => self.purchase_cancelled(e),
            Event::BillAdjusted(e) => self.bill_adjusted(e),
            Event::RefundIssued(e) => {
                self.credit_balance -= e.from_credit;
                self.unapplied_balance -= e.from_unapplied;
            }
            Event::BillOverdue(e) => {
                if let Some(bill) = self.bills.get_mut(&e.bill_id) {
                    bill.overdue = true;
                }
            }
            Event::ReminderIssued(e) => {
                if let Some(bill) = self.bills.get_mut(&e.bill_id) {
                    bill.reminders.insert(e.days_overdue);
                }
            }
            Event::PaymentMethodChanged(e) => self.payment_method = e.method,
            Event::CreditLimitChanged(e) => self.credit_limit = Some(e.limit),
            Event::BankAccountSet(_) => {}
            Event::BankDebitFailed(e) => {
                if let Some(bill) = self.bills.get_mut(&e.bill_id) {
                    bill.method = Some(PaymentMethod::ConvenienceStore);
                    bill.fee += e.fee;
                    bill.amount = e.amount;
                    bill.due_date = e.due_date;
                    // Due again: overdue, and reminded, from the new date on.
                    bill.overdue = false;
                    bill.reminders.clear();
                }
            }
        }
    }

    fn bill_promises(&mut self, bill_id: Uuid, promise_ids: &[Uuid]) {
        for promise_id in promise_ids {
            if let Some(promise) = self.promises.get_mut(promise_id) {
                promise.bill_id = Some(bill_id);
            }
        }
    }

    fn monthly_bill_issued(&mut self, e: &crate::MonthlyBillIssued) {
        self.bill_promises(e.bill_id, &e.promise_ids);
        self.credit_balance -= e.credit_applied;
        self.unapplied_balance -= e.unapplied_applied;
        self.closed_periods.insert(e.period, e.bill_id);
        let mut bill = Bill::new(
            Some(e.period),
            e.amount,
            e.items_total,
            e.fee,
            e.credit_applied + e.unapplied_applied,
            &e.promise_ids,
            e.due_date,
        );
        bill.method = Some(e.method);
        self.bills.insert(e.bill_id, bill);
        if e.amount == 0 {
            self.settle(e.bill_id);
        }
    }

    fn purchase_cancelled(&mut self, e: &crate::PurchaseCancelled) {
        let Some(promise) = self.promises.get_mut(&e.promise_id) else {
            return;
        };
        promise.amount = e.remaining_amount;
        promise.cancelled_amount += e.amount;
        self.outstanding -= e.amount - e.credited;
        self.credit_balance += e.credited;
    }

    fn bill_adjusted(&mut self, e: &crate::BillAdjusted) {
        self.credit_balance += e.credited;
        let Some(bill) = self.bills.get_mut(&e.bill_id) else {
            return;
        };
        bill.items_total = e.items_total;
        bill.fee = e.fee;
        // What was applied to the bill and no longer is, balances first, was credited.
        let (balance_kept, _) = take(bill.balance_applied, e.items_total + e.fee);
        bill.balance_applied = balance_kept;
        bill.paid = bill.paid.min(e.amount);
        bill.amount = e.amount;
        bill.adjusted = true;
        if e.reason == crate::AdjustmentReason::ReissueFee {
            bill.reissue_fee_added = true;
        }
        if e.cancelled {
            bill.state = BillState::Cancelled;
        } else if bill.left() <= 0 {
            // What is left on it was paid already, or its balances cover it whole.
            let bill_id = e.bill_id;
            self.settle(bill_id);
        }
    }
}

impl Bill {
    fn new(
        period: Option<Period>,
        amount: i64,
        items_total: i64,
        fee: i64,
        balance_applied: i64,
        promise_ids: &[Uuid],
        due_date: NaiveDate,
    ) -> Self {
        Self {
            period,
            amount,
            paid: 0,
            items_total,
            fee,
            method: None,
            balance_applied,
            promise_ids: promise_ids.to_vec(),
            due_date,
            state: BillState::Unpaid,
            overdue: false,
            adjusted: false,
            reissue_fee_added: false,
            reminders: BTreeSet::new(),
        }
    }
}
