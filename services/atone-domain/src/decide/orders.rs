//! 購入 and 返品 / 金額変更.

use uuid::Uuid;

use super::{positive_amount, zero_or_positive};
use crate::command::{CancelPurchase, Context, Decision, Purchase, Reply};
use crate::event::{
    AdjustmentReason, BillAdjusted, Event, PaymentPromiseCreated, PurchaseCancelled,
    PurchaseCompleted,
};
use crate::member::{Bill, BillState, Member, take};
use crate::{DomainError, business_date, promise_due_date, validate};

impl Member {
    pub(crate) fn purchase(
        &self,
        c: &Purchase,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        validate::product(&c.product_id, &c.product_name)?;
        positive_amount("amount", c.amount, "a purchase")?;
        if let Some((bill_id, bill)) = self.overdue_bill() {
            return Err(DomainError::MemberOverdue {
                bill_id,
                due_date: bill.due_date,
            });
        }
        let limit = self.limit_or(ctx.credit_limit);
        if self.outstanding + c.amount > limit {
            return Err(DomainError::CreditLimitExceeded {
                limit,
                outstanding: self.outstanding,
                amount: c.amount,
            });
        }
        let order_id = (ctx.new_id)();
        let promise_id = (ctx.new_id)();
        let due_date =
            promise_due_date(business_date(ctx.now), c.payment_mode, self.payment_method);
        let events = vec![
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id,
                product_id: c.product_id.clone(),
                product_name: c.product_name.clone(),
                amount: c.amount,
                payment_mode: c.payment_mode,
                credit_limit: limit,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id,
                order_id,
                product_id: c.product_id.clone(),
                product_name: c.product_name.clone(),
                amount: c.amount,
                payment_mode: c.payment_mode,
                due_date,
            }),
        ];
        let reply = Reply::Purchase {
            order_id,
            promise_id,
            due_date,
            version: self.version + 2,
        };
        Ok(Decision::Append { events, reply })
    }

    /// Before billing the promise shrinks (or goes); on an unpaid bill the bill is adjusted
    /// too; once paid, what was cancelled becomes the member's credit balance.
    pub(crate) fn cancel_purchase(
        &self,
        user_id: &str,
        c: &CancelPurchase,
    ) -> Result<Decision, DomainError> {
        zero_or_positive("amount", c.amount, "a cancellation")?;
        let (promise_id, promise) =
            self.promise_of_order(c.order_id)
                .ok_or_else(|| DomainError::OrderNotFound {
                    user_id: user_id.to_owned(),
                    order_id: c.order_id,
                })?;
        if promise.is_cancelled() {
            return Err(DomainError::AlreadyCancelled {
                order_id: c.order_id,
            });
        }
        let amount = if c.amount == 0 {
            promise.amount
        } else {
            c.amount
        };
        if amount > promise.amount {
            return Err(DomainError::CancellationTooLarge {
                order_id: c.order_id,
                given: amount,
                remaining: promise.amount,
            });
        }
        let bill = promise
            .bill_id
            .and_then(|id| self.bills.get(&id).map(|b| (id, b)));
        let paid = bill.is_some_and(|(_, b)| b.state == BillState::Paid);
        let remaining_amount = promise.amount - amount;
        let mut events = vec![Event::PurchaseCancelled(PurchaseCancelled {
            order_id: c.order_id,
            promise_id,
            amount,
            remaining_amount,
            credited: if paid { amount } else { 0 },
        })];
        if let Some((bill_id, bill)) = bill.filter(|(_, b)| b.is_unpaid()) {
            events.push(Event::BillAdjusted(shrunk(bill_id, bill, amount)));
        }
        let reply = Reply::CancelPurchase {
            promise_id,
            remaining_amount,
            version: self.version + events.len() as i64,
        };
        Ok(Decision::Append { events, reply })
    }
}

/// `bill` with `cancelled` yen fewer of items. With no items left it is cancelled, fee and
/// all. What was applied to it that it no longer needs, its balances first and then money
/// received, goes back to the member as credit; a bill whose payments cover what is left
/// is paid.
fn shrunk(bill_id: Uuid, bill: &Bill, cancelled: i64) -> BillAdjusted {
    let items_total = bill.items_total - cancelled;
    let fee = if items_total > 0 { bill.fee } else { 0 };
    let (needed, balance_credited) = take(bill.balance_applied, items_total + fee);
    let amount = items_total + fee - needed;
    let (_, paid_credited) = take(bill.paid, amount);
    BillAdjusted {
        bill_id,
        reason: AdjustmentReason::Cancellation,
        items_total,
        fee,
        amount,
        cancelled: items_total == 0,
        credited: balance_credited + paid_credited,
    }
}
