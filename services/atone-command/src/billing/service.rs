use std::pin::Pin;

use atone_api::v1::billing_service_server::BillingService;
use atone_api::v1::{
    CloseBillingPeriodRequest, CloseBillingPeriodResponse, ExportBankDebitsRequest,
    ExportBankDebitsResponse, ImportBankDebitResultsRequest, ImportBankDebitResultsResponse,
    MarkOverdueBillsRequest, MarkOverdueBillsResponse, SkippedDebit,
};
use atone_auth::{Caller, Scope};
use atone_domain::{DomainError, Period};
use chrono::NaiveDate;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{BillingRuns, Consignor, Progress};
use crate::CommandError;

/// The gRPC face of [`BillingRuns`]: each run streams its progress, the last message with
/// `done`.
#[derive(Clone)]
pub struct BillingApi {
    runs: BillingRuns,
    /// Who draws bank debits; without it, no request file can be written.
    consignor: Option<std::sync::Arc<Consignor>>,
}

impl BillingApi {
    pub fn new(runs: BillingRuns, consignor: Option<Consignor>) -> Self {
        Self {
            runs,
            consignor: consignor.map(std::sync::Arc::new),
        }
    }
}

type ProgressStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn invalid(field: &'static str, reason: String) -> Status {
    CommandError::from(DomainError::InvalidArgument { field, reason }).into()
}

/// Sends progress as the run goes, at most about a hundred messages a run, then the last one;
/// a failed run ends the stream with its status.
fn stream_run<T, F, Fut>(
    message: impl Fn(Progress, bool) -> T + Send + Sync + 'static,
    run: F,
) -> ProgressStream<T>
where
    T: Send + 'static,
    F: FnOnce(Box<dyn FnMut(Progress) + Send>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Progress, CommandError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(128);
    let progress_tx = tx.clone();
    let message = std::sync::Arc::new(message);
    let each = message.clone();
    let on_progress = Box::new(move |p: Progress| {
        let step = (p.members_total / 100).max(1);
        if p.members_done.is_multiple_of(step) {
            // A slow client misses some intermediate messages, never the last.
            let _ = progress_tx.try_send(Ok(each(p, false)));
        }
    });
    // The run goes on if the caller goes away (a later run would redo what it left). One
    // that panics ends the stream with an error, never with a silent end of stream.
    let running = tokio::spawn(run(on_progress));
    tokio::spawn(async move {
        let last = match running.await {
            Ok(Ok(done)) => Ok(message(done, true)),
            Ok(Err(e)) => Err(Status::from(e)),
            Err(e) => {
                tracing::error!(error = %e, "a billing run stopped before it finished");
                Err(Status::internal(
                    "the run stopped before it finished (atone's log says why); running it again carries on: a member done is not done twice",
                ))
            }
        };
        let _ = tx.send(last).await;
    });
    Box::pin(ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl BillingService for BillingApi {
    async fn export_bank_debits(
        &self,
        request: Request<ExportBankDebitsRequest>,
    ) -> Result<Response<ExportBankDebitsResponse>, Status> {
        Caller::of(&request)?.require(Scope::Billing)?;
        let text = request.into_inner().debit_date;
        let day = text.parse::<NaiveDate>().map_err(|_| {
            invalid(
                "debit_date",
                format!("{text:?} is not a date; write YYYY-MM-DD"),
            )
        })?;
        let Some(consignor) = &self.consignor else {
            return Err(Status::failed_precondition(
                "bank debit is not configured: start atone with --bank-debit-config FILE (the consignor's code, name and account)",
            ));
        };
        let done = self.runs.export_bank_debits(consignor, day).await?;
        Ok(Response::new(ExportBankDebitsResponse {
            file: done.file,
            digest: done.digest,
            debits: done.debits as i64,
            total_amount: done.total_amount,
            skipped: done
                .skipped
                .into_iter()
                .map(|b| SkippedDebit {
                    user_id: b.user_id,
                    bill_id: b.bill_id,
                    reason: "the member has no bank account (SetBankAccount)".to_owned(),
                })
                .collect(),
        }))
    }

    async fn import_bank_debit_results(
        &self,
        request: Request<ImportBankDebitResultsRequest>,
    ) -> Result<Response<ImportBankDebitResultsResponse>, Status> {
        Caller::of(&request)?.require(Scope::Billing)?;
        let file = request.into_inner().file;
        if file.is_empty() {
            return Err(invalid("file", "is required".to_owned()));
        }
        let done = self.runs.import_bank_debit_results(&file).await?;
        Ok(Response::new(ImportBankDebitResultsResponse {
            debits: done.debits as i64,
            debited: done.debited as i64,
            debited_amount: done.debited_amount,
            failed: done.failed as i64,
            already_imported: done.already_imported as i64,
        }))
    }

    type CloseBillingPeriodStream = ProgressStream<CloseBillingPeriodResponse>;

    async fn close_billing_period(
        &self,
        request: Request<CloseBillingPeriodRequest>,
    ) -> Result<Response<Self::CloseBillingPeriodStream>, Status> {
        Caller::of(&request)?.require(Scope::Billing)?;
        let text = request.into_inner().period;
        let period: Period = text.parse().map_err(|e| invalid("period", e))?;
        let today = self.runs.today();
        if period >= Period::of(today) {
            return Err(CommandError::from(DomainError::PeriodNotEnded { period, today }).into());
        }
        let runs = self.runs.clone();
        let message = move |p: Progress, done| CloseBillingPeriodResponse {
            period: period.to_string(),
            members_total: p.members_total as i64,
            members_done: p.members_done as i64,
            bills_issued: p.bills as i64,
            done,
        };
        let stream = stream_run(message, move |progress| async move {
            runs.close(period, progress).await
        });
        Ok(Response::new(stream))
    }

    type MarkOverdueBillsStream = ProgressStream<MarkOverdueBillsResponse>;

    async fn mark_overdue_bills(
        &self,
        request: Request<MarkOverdueBillsRequest>,
    ) -> Result<Response<Self::MarkOverdueBillsStream>, Status> {
        Caller::of(&request)?.require(Scope::Billing)?;
        let text = request.into_inner().as_of;
        let today = self.runs.today();
        let as_of = match text.as_str() {
            "" => today,
            day => day.parse::<NaiveDate>().map_err(|_| {
                invalid("as_of", format!("{day:?} is not a date; write YYYY-MM-DD"))
            })?,
        };
        if as_of > today {
            return Err(CommandError::from(DomainError::DateInFuture { as_of, today }).into());
        }
        let runs = self.runs.clone();
        let message = move |p: Progress, done| MarkOverdueBillsResponse {
            as_of: as_of.to_string(),
            members_total: p.members_total as i64,
            members_done: p.members_done as i64,
            bills_overdue: p.bills as i64,
            done,
        };
        let stream = stream_run(message, move |progress| async move {
            runs.mark_overdue(as_of, progress).await
        });
        Ok(Response::new(stream))
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    fn progress(done: u64) -> Progress {
        Progress {
            members_total: 2,
            members_done: done,
            bills: done,
        }
    }

    #[tokio::test]
    async fn a_run_s_last_message_says_done() {
        let stream = stream_run(
            |p, last| (p.members_done, last),
            |mut on_progress| async move {
                on_progress(progress(1));
                Ok(progress(2))
            },
        );
        let got: Vec<_> = stream.collect::<Vec<_>>().await;
        let got: Vec<(u64, bool)> = got.into_iter().map(|m| m.expect("a message")).collect();
        assert_eq!(got, [(1, false), (2, true)]);
    }

    #[tokio::test]
    async fn a_run_that_panics_ends_the_stream_with_an_error() {
        let stream = stream_run(
            |p, last| (p.members_done, last),
            |mut on_progress| async move {
                on_progress(progress(1));
                if progress(1).members_done == 1 {
                    panic!("a run that breaks");
                }
                Ok(progress(2))
            },
        );
        let got: Vec<_> = stream.collect::<Vec<_>>().await;
        assert_eq!(got.len(), 2, "{got:?}");
        let last = got[1].as_ref().expect_err("the stream ends with an error");
        assert_eq!(last.code(), tonic::Code::Internal, "{last:?}");
        assert!(
            last.message().contains("stopped before it finished"),
            "{last:?}"
        );
    }
}
