//! The daily billing run inside `atone serve` / `atone command`: every day, at `run_at`
//! after midnight Japan time, one process (the holder of the `billing` lease) closes the
//! months that ended since the last run and runs the overdue check. The day last completed
//! is the lease's checkpoint, so a process that starts late, or after a crash, catches up.

use std::time::Duration;

use atone_domain::{JST, Period, business_date};
use atone_lease::{Held, LeaseHolder};
use atone_storage::leases::{self, Progress as LeaseProgress};
use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;

use super::BillingRuns;
use crate::CommandError;

/// The lease (and checkpoint) of the daily billing run.
pub const BILLING_SOURCE: &str = "billing";
pub const KIND_BILLING: &str = "billing-job";

/// When the daily run happens.
#[derive(Debug, Clone)]
pub struct BillingSchedule {
    /// Off: no daily run (BillingService still runs the jobs on demand).
    pub enabled: bool,
    /// How long after midnight, Japan time, the day's run starts.
    pub run_at: Duration,
    /// How often the clock is looked at.
    pub check_interval: Duration,
    /// How long the `billing` lease lasts unrenewed.
    pub lease_duration: Duration,
}

impl Default for BillingSchedule {
    fn default() -> Self {
        Self {
            enabled: true,
            run_at: Duration::from_secs(3600),
            check_interval: Duration::from_secs(10),
            lease_duration: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct BillingScheduler {
    runs: BillingRuns,
    lease: LeaseHolder,
    schedule: BillingSchedule,
}

impl BillingScheduler {
    pub fn new(runs: BillingRuns, lease: LeaseHolder, schedule: BillingSchedule) -> Self {
        Self {
            runs,
            lease,
            schedule,
        }
    }

    /// Runs each day's billing until `shutdown`. Failures are logged and tried again at the
    /// next look at the clock.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "daily billing run failed; trying again");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.schedule.check_interval) => {}
            }
        }
    }

    /// Runs today's billing if it is due, not done yet, and nobody else is running it.
    async fn tick(&self) -> Result<(), CommandError> {
        let now = self.runs.handler.clock().now();
        let today = business_date(now);
        if now < start_of_run(today, self.schedule.run_at) {
            return Ok(());
        }
        let db = self.lease.db();
        leases::ensure(db, BILLING_SOURCE, KIND_BILLING, &[]).await?;
        let last = leases::get(db, BILLING_SOURCE)
            .await?
            .and_then(|l| l.checkpoint)
            .and_then(|c| c.parse::<NaiveDate>().ok());
        if last.is_some_and(|day| day >= today) {
            return Ok(());
        }
        let Some(mut held) = self
            .lease
            .take_if_free(BILLING_SOURCE, KIND_BILLING)
            .await?
        else {
            return Ok(());
        };
        let result = self.run_day(today, last, &mut held).await;
        self.lease.release(held).await;
        result
    }

    /// The day's run, with the lease renewed while it lasts; the day is recorded done only
    /// if it all succeeded.
    async fn run_day(
        &self,
        today: NaiveDate,
        last: Option<NaiveDate>,
        held: &mut Held,
    ) -> Result<(), CommandError> {
        let work = self.work(today, last);
        tokio::pin!(work);
        let renew_every = self.lease.duration() / 3;
        loop {
            tokio::select! {
                result = &mut work => {
                    result?;
                    break;
                }
                () = tokio::time::sleep(renew_every) => {
                    if !self.lease.renew(held).await? {
                        tracing::warn!("billing lease lost during the run; another process goes on");
                        return Ok(());
                    }
                }
            }
        }
        let progress = LeaseProgress {
            checkpoint: Some(today.to_string()),
            ..LeaseProgress::default()
        };
        let fence = Some(self.lease.fence(held));
        leases::record_progress(self.lease.db(), BILLING_SOURCE, &progress, fence).await?;
        tracing::info!(%today, "daily billing run done");
        Ok(())
    }

    /// Closes every month that ended since the last run (the last one only, on a first run),
    /// then checks for overdue bills.
    async fn work(&self, today: NaiveDate, last: Option<NaiveDate>) -> Result<(), CommandError> {
        let this_month = Period::of(today);
        let mut period = last.map_or(this_month.previous(), Period::of);
        while period < this_month {
            self.runs.close(period, |_| {}).await?;
            period = period.next();
        }
        self.runs.mark_overdue(today, |_| {}).await?;
        Ok(())
    }
}

/// When the run of `day` starts: `run_at` after midnight in Japan.
fn start_of_run(day: NaiveDate, run_at: Duration) -> DateTime<Utc> {
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(JST).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc));
    midnight + chrono::Duration::from_std(run_at).unwrap_or(chrono::Duration::zero())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_day_s_run_starts_after_midnight_in_japan() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            start_of_run(day, Duration::from_secs(3600)),
            Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
        );
    }
}
