//! 会員請求: the immediate bill, the monthly close (締め) and the daily overdue check (延滞).

use chrono::NaiveDate;
use uuid::Uuid;

use crate::command::{
    CloseMonth, ClosedBill, Context, Decision, IssueImmediateBill, MarkOverdue, Reply,
};
use crate::event::{
    AdjustmentReason, BillAdjusted, BillOverdue, Event, MemberBillIssued, MonthlyBillIssued,
    PaymentMethod, PaymentMode, ReminderIssued,
};
use crate::member::{Bill, Member, take};
use crate::{AmountOf, DomainError, Period, bill_due_date, business_date, monthly_bill_due_date};

impl Member {
    pub(crate) fn issue_immediate_bill(
        &self,
        user_id: &str,
        c: &IssueImmediateBill,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        if c.amount < 0 {
            return Err(DomainError::invalid(
                "amount",
                format!(
                    "{} is negative; give the promise's amount, or 0 to bill it whole",
                    c.amount
                ),
            ));
        }
        let promise =
            self.promises
                .get(&c.promise_id)
                .ok_or_else(|| DomainError::PromiseNotFound {
                    user_id: user_id.to_owned(),
                    promise_id: c.promise_id,
                })?;
        if let Some(bill_id) = promise.bill_id {
            return Err(DomainError::PromiseAlreadyBilled {
                promise_id: c.promise_id,
                bill_id,
            });
        }
        if promise.payment_mode != PaymentMode::Immediate {
            return Err(DomainError::PromiseNotImmediate {
                promise_id: c.promise_id,
            });
        }
        if promise.is_cancelled() {
            return Err(DomainError::AlreadyCancelled {
                order_id: promise.order_id,
            });
        }
        if c.amount != 0 && c.amount != promise.amount {
            return Err(DomainError::AmountMismatch {
                what: AmountOf::Promise,
                expected: promise.amount,
                given: c.amount,
            });
        }
        let bill_id = (ctx.new_id)();
        let issued_date = business_date(ctx.now);
        let due_date = bill_due_date(issued_date);
        let events = vec![Event::MemberBillIssued(MemberBillIssued {
            bill_id,
            promise_ids: vec![c.promise_id],
            amount: promise.amount,
            issued_date,
            due_date,
        })];
        let reply = Reply::IssueImmediateBill {
            bill_id,
            due_date,
            version: self.version + 1,
        };
        Ok(Decision::Append { events, reply })
    }

    /// Bills every 月まとめ払い promise of `period` still unbilled, in one bill: items, the
    /// bill-issuing fee for a convenience-store payer, less the member's balances. Once per
    /// (member, period): a second close answers the first bill.
    pub(crate) fn close_month(
        &self,
        c: &CloseMonth,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        let today = business_date(ctx.now);
        if c.period >= Period::of(today) {
            return Err(DomainError::PeriodNotEnded {
                period: c.period,
                today,
            });
        }
        if let Some(bill) = self
            .closed_periods
            .get(&c.period)
            .and_then(|id| self.closed(*id))
        {
            return Ok(Decision::AlreadyDone(Reply::CloseMonth {
                bill: Some(bill),
                version: self.version,
            }));
        }
        let promises: Vec<(Uuid, i64)> = self
            .promises
            .iter()
            .filter(|(_, p)| p.bill_id.is_none() && !p.is_cancelled())
            .filter(|(_, p)| p.period() == Some(c.period))
            .map(|(id, p)| (*id, p.amount))
            .collect();
        if promises.is_empty() {
            let reply = Reply::CloseMonth {
                bill: None,
                version: self.version,
            };
            return Ok(Decision::Append {
                events: Vec::new(),
                reply,
            });
        }
        let bill = self.monthly_bill(c.period, &promises, today, ctx);
        let reply = Reply::CloseMonth {
            bill: Some(ClosedBill {
                bill_id: bill.bill_id,
                amount: bill.amount,
                due_date: bill.due_date,
            }),
            version: self.version + 1,
        };
        Ok(Decision::Append {
            events: vec![Event::MonthlyBillIssued(bill)],
            reply,
        })
    }

    fn closed(&self, bill_id: Uuid) -> Option<ClosedBill> {
        self.bills.get(&bill_id).map(|b| ClosedBill {
            bill_id,
            amount: b.amount,
            due_date: b.due_date,
        })
    }

    fn monthly_bill(
        &self,
        period: Period,
        promises: &[(Uuid, i64)],
        today: NaiveDate,
        ctx: &mut Context<'_>,
    ) -> MonthlyBillIssued {
        let items_total: i64 = promises.iter().map(|(_, amount)| amount).sum();
        let fee = match self.payment_method {
            PaymentMethod::ConvenienceStore => ctx.bill_fee,
            PaymentMethod::BankDebit => 0,
        };
        let (credit_applied, _) = take(self.credit_balance, items_total + fee);
        let (unapplied_applied, _) =
            take(self.unapplied_balance, items_total + fee - credit_applied);
        MonthlyBillIssued {
            bill_id: (ctx.new_id)(),
            period,
            promise_ids: promises.iter().map(|(id, _)| *id).collect(),
            items_total,
            fee,
            credit_applied,
            unapplied_applied,
            amount: items_total + fee - credit_applied - unapplied_applied,
            method: self.payment_method,
            issued_date: today,
            due_date: monthly_due_date(period, self.payment_method, today, ctx),
        }
    }

    /// Marks overdue every unpaid bill whose due date is before `as_of` (adding the
    /// re-issue fee once), and sends each reminder due by then.
    pub(crate) fn mark_overdue(
        &self,
        c: &MarkOverdue,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        let today = business_date(ctx.now);
        if c.as_of > today {
            return Err(DomainError::DateInFuture {
                as_of: c.as_of,
                today,
            });
        }
        let mut events = Vec::new();
        let mut newly_overdue = 0;
        for (bill_id, bill) in self.bills.iter().filter(|(_, b)| b.is_unpaid()) {
            let days_overdue = (c.as_of - bill.due_date).num_days();
            if days_overdue < 1 {
                continue;
            }
            if !bill.overdue {
                newly_overdue += 1;
                events.extend(overdue(*bill_id, bill, ctx.reissue_fee));
            }
            for &day in ctx.reminder_days {
                if day <= days_overdue && !bill.reminders.contains(&day) {
                    events.push(Event::ReminderIssued(ReminderIssued {
                        bill_id: *bill_id,
                        days_overdue: day,
                        date: c.as_of,
                    }));
                }
            }
        }
        let reply = Reply::MarkOverdue {
            newly_overdue,
            version: self.version + events.len() as i64,
        };
        Ok(Decision::Append { events, reply })
    }
}

/// When the bill of `period`, issued on `issued`, falls due.
///
/// - At a convenience store (open every day): the 10th of the next month. A close that
///   comes later than that (a process down for weeks) gives the member the fourteen days an
///   immediate bill has, never a bill overdue as it is issued.
/// - By bank debit: the 27th of the next month, or the next business day if banks are
///   closed on it. The bank needs the request `ctx.debit_notice_days` business days ahead:
///   a bill issued later than that is drawn on the next month's debit day instead.
fn monthly_due_date(
    period: Period,
    method: PaymentMethod,
    issued: NaiveDate,
    ctx: &Context<'_>,
) -> NaiveDate {
    match method {
        PaymentMethod::ConvenienceStore => {
            let regular = monthly_bill_due_date(period, method);
            if issued < regular {
                regular
            } else {
                bill_due_date(issued)
            }
        }
        PaymentMethod::BankDebit => {
            let mut month = period.next();
            let mut debit = ctx.calendar.on_or_after(month.day(27));
            // The notice is at most a few weeks (the configuration says so): a month or two.
            for _ in 0..24 {
                if ctx.calendar.business_days_between(issued, debit) >= ctx.debit_notice_days {
                    break;
                }
                month = month.next();
                debit = ctx.calendar.on_or_after(month.day(27));
            }
            debit
        }
    }
}

/// The events of `bill` becoming overdue: the mark, and the re-issue fee if there is one.
fn overdue(bill_id: Uuid, bill: &Bill, reissue_fee: i64) -> Vec<Event> {
    let mut events = vec![Event::BillOverdue(BillOverdue {
        bill_id,
        since: bill.due_date.succ_opt().unwrap_or(bill.due_date),
    })];
    if reissue_fee > 0 && !bill.reissue_fee_added {
        events.push(Event::BillAdjusted(BillAdjusted {
            bill_id,
            reason: AdjustmentReason::ReissueFee,
            items_total: bill.items_total,
            fee: bill.fee + reissue_fee,
            amount: bill.amount + reissue_fee,
            cancelled: false,
            credited: 0,
        }));
    }
    events
}
