//! The subcommands that are clients of a running atone: `close` (BillingService) and
//! `dead-letters` (ProjectorService).

use anyhow::{Context, bail};
use atone_api::v1::billing_service_client::BillingServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::{
    CloseBillingPeriodRequest, DeadLetter, ListDeadLettersRequest, RetryDeadLettersRequest,
    SkipDeadLetterRequest,
};
use tonic::transport::Channel;

use crate::cli::{
    BankDebitAction, BankDebitArgs, CloseArgs, DeadLetterAction, DeadLettersArgs, EventsArgs,
    RemoteArgs,
};
use crate::oneshot::endpoint;

pub(crate) async fn connect(remote: &RemoteArgs) -> anyhow::Result<Channel> {
    endpoint(remote.addr, &remote.tls)?
        .connect()
        .await
        .with_context(|| format!("cannot reach atone at {}", remote.addr))
}

/// `message` as a request carrying the API key, if one is given.
pub(crate) fn request<T>(remote: &RemoteArgs, message: T) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    if let Some(key) = &remote.api_key {
        let value = format!("Bearer {key}")
            .parse()
            .context("the API key is not valid metadata")?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(request)
}

pub(crate) fn failed(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", status.code(), status.message())
}

/// `atone close`: streams BillingService/CloseBillingPeriod and prints its progress.
pub async fn close(args: &CloseArgs) -> anyhow::Result<()> {
    let channel = connect(&args.remote).await?;
    let message = CloseBillingPeriodRequest {
        period: args.period.clone(),
    };
    let mut progress = BillingServiceClient::new(channel)
        .close_billing_period(request(&args.remote, message)?)
        .await
        .map_err(failed)?
        .into_inner();
    while let Some(p) = progress.message().await.map_err(failed)? {
        println!(
            "{}: {}/{} members closed, {} bills issued{}",
            p.period,
            p.members_done,
            p.members_total,
            p.bills_issued,
            if p.done { " (done)" } else { "" }
        );
        if p.done {
            return Ok(());
        }
    }
    bail!("the close of {} ended before it was done", args.period)
}

/// `atone bank-debit export|import`.
pub async fn bank_debit(args: &BankDebitArgs) -> anyhow::Result<()> {
    use atone_api::v1::{ExportBankDebitsRequest, ImportBankDebitResultsRequest};
    let remote = args.action.remote();
    let mut client = BillingServiceClient::new(connect(remote).await?)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    match &args.action {
        BankDebitAction::Export { date, out, .. } => {
            let message = ExportBankDebitsRequest {
                debit_date: date.clone(),
            };
            let done = client
                .export_bank_debits(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            write_new(out, &done.file)?;
            println!(
                "{}: {} debits, {} yen, drawn on {date} (sha256 {})",
                out.display(),
                done.debits,
                done.total_amount,
                done.digest
            );
            for skipped in &done.skipped {
                println!(
                    "not in the file: {} bill {}: {}",
                    skipped.user_id, skipped.bill_id, skipped.reason
                );
            }
            Ok(())
        }
        BankDebitAction::Import { file, .. } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let done = client
                .import_bank_debit_results(request(
                    remote,
                    ImportBankDebitResultsRequest { file: bytes },
                )?)
                .await
                .map_err(failed)?
                .into_inner();
            println!(
                "{}: {} debits: {} debited ({} yen), {} failed, {} imported before",
                file.display(),
                done.debits,
                done.debited,
                done.debited_amount,
                done.failed,
                done.already_imported
            );
            Ok(())
        }
    }
}

/// Writes `bytes` to a new file at `path`; an existing file is left alone.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `atone dead-letters list|retry|skip`.
pub async fn dead_letters(args: &DeadLettersArgs) -> anyhow::Result<()> {
    let remote = args.action.remote();
    let mut client = ProjectorServiceClient::new(connect(remote).await?);
    match &args.action {
        DeadLetterAction::List { member, all, .. } => {
            let mut page_token = String::new();
            loop {
                let message = ListDeadLettersRequest {
                    user_id: member.clone().unwrap_or_default(),
                    include_resolved: *all,
                    page_size: 500,
                    page_token,
                };
                let page = client
                    .list_dead_letters(request(remote, message)?)
                    .await
                    .map_err(failed)?
                    .into_inner();
                for row in &page.dead_letters {
                    println!("{}", line(row));
                }
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                page_token = page.next_page_token;
            }
        }
        DeadLetterAction::Retry { member, .. } => {
            let message = RetryDeadLettersRequest {
                user_id: member.clone(),
            };
            let done = client
                .retry_dead_letters(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            println!(
                "{member}: {} events applied, {} still parked, read model at version {}",
                done.applied, done.still_parked, done.version
            );
            Ok(())
        }
        DeadLetterAction::Skip {
            member,
            version,
            reason,
            ..
        } => {
            let message = SkipDeadLetterRequest {
                user_id: member.clone(),
                version: *version,
                reason: reason.clone(),
            };
            let done = client
                .skip_dead_letter(request(remote, message)?)
                .await
                .map_err(failed)?
                .into_inner();
            println!(
                "{member}: version {version} skipped; {} events applied after it, {} still parked, read model at version {}",
                done.applied, done.still_parked, done.version
            );
            Ok(())
        }
    }
}

/// One dead letter on one line: member, version, type, status, when, why.
fn line(row: &DeadLetter) -> String {
    let at = row
        .parked_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    let resolved = if row.resolved_by.is_empty() {
        String::new()
    } else {
        format!(" (by {}: {})", row.resolved_by, row.note)
    };
    format!(
        "{}\tv{}\t{}\t{}\t{}\t{}{}",
        row.user_id, row.version, row.event_type, row.status, at, row.error, resolved
    )
}

/// `atone events USER`: QueryService/ListMemberEvents, every page.
pub async fn events(args: &EventsArgs) -> anyhow::Result<()> {
    use atone_api::convert::struct_json;
    use atone_api::v1::ListMemberEventsRequest;
    use atone_api::v1::query_service_client::QueryServiceClient;
    let mut client = QueryServiceClient::new(connect(&args.remote).await?);
    let mut after_version = args.after;
    let mut all = Vec::new();
    loop {
        let message = ListMemberEventsRequest {
            user_id: args.user_id.clone(),
            after_version,
            page_size: 500,
        };
        let page = client
            .list_member_events(request(&args.remote, message)?)
            .await
            .map_err(failed)?
            .into_inner();
        for e in page.events {
            let at = e
                .occurred_at
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
            let payload = e.payload.as_ref().map(struct_json).unwrap_or_default();
            if args.json {
                all.push(serde_json::json!({
                    "version": e.version, "eventType": e.event_type, "occurredAt": at,
                    "eventId": e.event_id, "correlationId": e.correlation_id,
                    "idempotencyKey": e.idempotency_key, "payload": payload,
                }));
            } else {
                println!("{:>4}  {at}  {:<22}  {payload}", e.version, e.event_type);
            }
        }
        if page.next_after_version == 0 {
            break;
        }
        after_version = page.next_after_version;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(())
}
