use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atone_api::convert::timestamp;
use atone_api::v1::projector_service_server::ProjectorService;
use atone_api::v1::{
    GetStatusRequest, GetStatusResponse, ListDeadLettersRequest, ListDeadLettersResponse,
    RetryDeadLettersRequest, RetryDeadLettersResponse, SkipDeadLetterRequest,
    SkipDeadLetterResponse, SourceStatus,
};
use atone_auth::{Caller, Scope};
use atone_storage::change_feed;
use atone_storage::leases::{self, KIND_INLINE, KIND_OUTBOX, KIND_RELAY, KIND_SHARD};
use atone_storage::projection::Readable;
use atone_storage::{DatabaseConnection, StorageError, dead_letters as parked, outbox};
use chrono::Utc;
use tonic::{Request, Response, Status};

use crate::dead_letters;
use crate::reconcile::KIND_RECONCILE;

/// Reports every source's checkpoint and lag, from the lease table, and handles dead
/// letters.
#[derive(Clone)]
pub struct ProjectorApi {
    db: DatabaseConnection,
    /// Open watches of the process, counted by QueryService.
    watchers: Arc<AtomicUsize>,
    /// What this build reads, for retries.
    readable: Readable,
}

impl ProjectorApi {
    pub fn new(db: DatabaseConnection, watchers: Arc<AtomicUsize>) -> Self {
        Self {
            db,
            watchers,
            readable: Readable::default(),
        }
    }

    /// The same, retrying as a build that reads only what `readable` says.
    pub fn reading(mut self, readable: Readable) -> Self {
        self.readable = readable;
        self
    }

    async fn status(&self) -> Result<Vec<SourceStatus>, StorageError> {
        let mut sources = Vec::new();
        // Sources of events only: the lease table also holds jobs' leases (the daily billing).
        let delivery = leases::all(&self.db).await?.into_iter().filter(|l| {
            [KIND_OUTBOX, KIND_RELAY, KIND_SHARD, KIND_RECONCILE].contains(&l.kind.as_str())
        });
        for lease in delivery {
            let mut status = SourceStatus {
                source_id: lease.source_id.clone(),
                kind: lease.kind.clone(),
                owner: lease.owner.clone().unwrap_or_default(),
                checkpoint: lease.checkpoint.clone().unwrap_or_default(),
                events_applied: lease.events_applied,
                lag_events: 0,
                lag_millis: lease.lag_millis,
                invalid_records: lease.invalid_records,
                finished: lease.finished,
                parent_ids: leases::parent_ids(&lease),
                lease_expires_at: lease.lease_expires_at.map(timestamp),
                updated_at: Some(timestamp(lease.updated_at)),
            };
            if lease.kind == KIND_OUTBOX || lease.kind == KIND_RELAY {
                // Both drain the outbox: what waits there is their lag.
                let (count, oldest) = outbox::backlog(&self.db).await?;
                status.lag_events = count as i64;
                status.lag_millis =
                    oldest.map_or(0, |at| (Utc::now() - at).num_milliseconds().max(0));
            } else if lease.kind == KIND_SHARD {
                // Kinesis reports how far behind in time, not in records.
                status.lag_events = -1;
            }
            sources.push(status);
        }
        // Inline projection keeps no lease: it is up to date with every commit.
        if let Some(applied) = change_feed::numbered_so_far(&self.db, KIND_INLINE).await? {
            sources.push(SourceStatus {
                source_id: KIND_INLINE.to_owned(),
                kind: KIND_INLINE.to_owned(),
                events_applied: applied,
                ..SourceStatus::default()
            });
        }
        Ok(sources)
    }
}

#[tonic::async_trait]
impl ProjectorService for ProjectorApi {
    async fn get_status(
        &self,
        request: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        let sources = self.status().await?;
        let watchers = self.watchers.load(Ordering::SeqCst) as i64;
        let (dead_letters, parked_members) = parked::counts(&self.db).await?;
        Ok(Response::new(GetStatusResponse {
            sources,
            watchers,
            dead_letters: dead_letters as i64,
            parked_members: parked_members as i64,
        }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<ListDeadLettersRequest>,
    ) -> Result<Response<ListDeadLettersResponse>, Status> {
        Caller::of(&request)?.require(Scope::Admin)?;
        Ok(Response::new(
            dead_letters::list(&self.db, request.get_ref()).await?,
        ))
    }

    async fn retry_dead_letters(
        &self,
        request: Request<RetryDeadLettersRequest>,
    ) -> Result<Response<RetryDeadLettersResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(Scope::Admin)?;
        let by = dead_letters::resolver(caller);
        let outcome =
            dead_letters::retry(&self.db, &self.readable, &request.get_ref().user_id, &by).await?;
        Ok(Response::new(RetryDeadLettersResponse {
            applied: outcome.applied.len() as i64,
            still_parked: outcome.parked.len() as i64,
            version: outcome.version,
        }))
    }

    async fn skip_dead_letter(
        &self,
        request: Request<SkipDeadLetterRequest>,
    ) -> Result<Response<SkipDeadLetterResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(Scope::Admin)?;
        let by = dead_letters::resolver(caller);
        let outcome = dead_letters::skip(&self.db, &self.readable, request.get_ref(), &by).await?;
        Ok(Response::new(SkipDeadLetterResponse {
            applied: outcome.applied.len() as i64,
            still_parked: outcome.parked.len() as i64,
            version: outcome.version,
        }))
    }
}
