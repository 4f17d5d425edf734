//! The month's jobs over every member: the monthly close (締め) and the daily overdue check
//! (延滞). Each is one command per member, decided like any other and idempotent by its key
//! (`close:YYYY-MM`, `overdue:YYYY-MM-DD`), so a run that stops halfway, or two runs at
//! once, change each member once.

mod bank_debit;
mod scheduler;
mod service;

use atone_domain::{CloseMonth, Command, MarkOverdue, Period, Reply, business_date};
use atone_storage::{event_store, read_model};
use chrono::NaiveDate;

pub use bank_debit::{Consignor, Exported, Imported};
pub use scheduler::{BillingSchedule, BillingScheduler};
pub use service::BillingApi;

use crate::{CommandError, CommandHandler};

/// Members read per query while a run goes through them.
const MEMBERS_PER_PAGE: u64 = 500;

/// How far a run got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub members_total: u64,
    pub members_done: u64,
    /// Bills this run issued (close) or found newly overdue (overdue check); a member the
    /// same run was done for before counts none.
    pub bills: u64,
}

/// Runs the month's jobs through the command handler.
#[derive(Clone)]
pub struct BillingRuns {
    handler: CommandHandler,
}

impl BillingRuns {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    pub fn today(&self) -> NaiveDate {
        business_date(self.handler.clock().now())
    }

    /// Closes `period` for every member with events; calls `progress` after each.
    pub async fn close(
        &self,
        period: Period,
        mut progress: impl FnMut(Progress),
    ) -> Result<Progress, CommandError> {
        let today = self.today();
        if period >= Period::of(today) {
            return Err(atone_domain::DomainError::PeriodNotEnded { period, today }.into());
        }
        let db = self.handler.store().db();
        let mut done = Progress {
            members_total: event_store::member_count(db).await?,
            ..Progress::default()
        };
        let key = format!("close:{period}");
        let command = Command::CloseMonth(CloseMonth { period });
        let mut after: Option<String> = None;
        loop {
            let page = event_store::members_after(db, after.as_deref(), MEMBERS_PER_PAGE).await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            for user_id in &page {
                let run = self.run_one(user_id, &key, command.clone()).await?;
                // Counted once: a close run again answers the bill it issued before.
                if let (Reply::CloseMonth { bill: Some(_), .. }, false) = (run.reply, run.replayed)
                {
                    done.bills += 1;
                }
                done.members_done += 1;
                done.members_total = done.members_total.max(done.members_done);
                progress(done);
            }
            after = Some(last);
        }
        tracing::info!(%period, members = done.members_done, bills = done.bills, "billing period closed");
        Ok(done)
    }

    /// The overdue check as of `as_of` for every member with a bill due before it.
    pub async fn mark_overdue(
        &self,
        as_of: NaiveDate,
        mut progress: impl FnMut(Progress),
    ) -> Result<Progress, CommandError> {
        let db = self.handler.store().db();
        let members = read_model::members_with_bills_due_before(db, as_of).await?;
        let mut done = Progress {
            members_total: members.len() as u64,
            ..Progress::default()
        };
        let key = format!("overdue:{as_of}");
        let command = Command::MarkOverdue(MarkOverdue { as_of });
        for user_id in &members {
            let run = self.run_one(user_id, &key, command.clone()).await?;
            if let (Reply::MarkOverdue { newly_overdue, .. }, false) = (run.reply, run.replayed) {
                done.bills += newly_overdue as u64;
            }
            done.members_done += 1;
            progress(done);
        }
        tracing::info!(%as_of, members = done.members_done, overdue = done.bills, "overdue check done");
        Ok(done)
    }

    async fn run_one(
        &self,
        user_id: &str,
        key: &str,
        command: Command,
    ) -> Result<crate::handler::Done, CommandError> {
        let correlation_id = key.to_owned();
        self.handler
            .carry_out(user_id, key, command, correlation_id)
            .await
    }
}
