use std::pin::Pin;
use std::time::Duration;

use atone_api::v1::query_service_server::QueryService;
use atone_api::v1::{
    self, GetMemberRequest, GetMemberResponse, ListMemberBillsRequest, ListMemberBillsResponse,
    ListPaymentPromisesRequest, ListPaymentPromisesResponse, SnapshotReason, WatchMemberRequest,
    WatchMemberResponse, watch_member_response::Kind,
};
use atone_domain::validate;
use atone_storage::change_feed::{self, FeedRow};
use atone_storage::read_model;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::feed::Subscription;
use crate::wait::{self, Deadline};
use crate::{Feed, QueryError};

const DEFAULT_PAGE_SIZE: i32 = 50;
const MAX_PAGE_SIZE: i32 = 500;
/// Rows read per query while a watcher catches up from the table.
const CATCH_UP_PAGE: u64 = 500;

#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// The credit limit shown for a member with no events yet.
    pub default_credit_limit: i64,
    /// The longest a read waits for min_version.
    pub max_wait: Duration,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            default_credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            max_wait: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct QueryApi {
    feed: Feed,
    config: QueryConfig,
    /// Ends every watch when the server shuts down, so shutdown does not wait on them.
    shutdown: CancellationToken,
}

impl QueryApi {
    pub fn new(feed: Feed, config: QueryConfig, shutdown: CancellationToken) -> Self {
        Self {
            feed,
            config,
            shutdown,
        }
    }

    fn deadline<T>(&self, request: &Request<T>) -> Deadline {
        let client = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(wait::parse_grpc_timeout);
        Deadline::new(self.config.max_wait, client)
    }

    async fn wait_for(
        &self,
        user_id: &str,
        min_version: i64,
        deadline: Deadline,
    ) -> Result<(), QueryError> {
        if min_version < 0 {
            return Err(QueryError::InvalidArgument {
                field: "min_version",
                reason: format!("{min_version} is negative"),
            });
        }
        if min_version > 0 {
            wait::until_version(&self.feed, user_id, min_version, deadline).await?;
        }
        Ok(())
    }

    async fn member(&self, user_id: &str) -> Result<v1::Member, QueryError> {
        Ok(
            read_model::get_member(self.feed.db(), user_id, self.config.default_credit_limit)
                .await?,
        )
    }
}

fn page_size(value: i32) -> Result<u64, QueryError> {
    match value {
        0 => Ok(DEFAULT_PAGE_SIZE as u64),
        1..=MAX_PAGE_SIZE => Ok(value as u64),
        _ => Err(QueryError::InvalidArgument {
            field: "page_size",
            reason: format!(
                "{value} is out of range; 1 to {MAX_PAGE_SIZE}, or 0 for {DEFAULT_PAGE_SIZE}"
            ),
        }),
    }
}

fn page_token(value: &str) -> Result<Option<i64>, QueryError> {
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(QueryError::InvalidArgument {
            field: "page_token",
            reason: "is not a next_page_token from a previous page".into(),
        }),
    }
}

fn cursor(value: &str) -> Result<Option<i64>, QueryError> {
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(QueryError::InvalidArgument {
            field: "cursor",
            reason: "is not a cursor from a WatchMemberResponse".into(),
        }),
    }
}

fn change_message(row: &FeedRow) -> WatchMemberResponse {
    WatchMemberResponse {
        cursor: row.version.to_string(),
        kind: Some(Kind::Change(row.change.clone())),
    }
}

fn snapshot_message(member: v1::Member, reason: SnapshotReason) -> WatchMemberResponse {
    let version = member.summary.as_ref().map_or(0, |s| s.version);
    WatchMemberResponse {
        cursor: version.to_string(),
        kind: Some(Kind::Snapshot(v1::Snapshot {
            member: Some(member),
            reason: reason as i32,
        })),
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchMemberResponse, Status>> + Send>>;

#[tonic::async_trait]
impl QueryService for QueryApi {
    async fn get_member(
        &self,
        request: Request<GetMemberRequest>,
    ) -> Result<Response<GetMemberResponse>, Status> {
        let deadline = self.deadline(&request);
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        self.wait_for(&r.user_id, r.min_version, deadline).await?;
        let member = self.member(&r.user_id).await?;
        Ok(Response::new(GetMemberResponse {
            member: Some(member),
        }))
    }

    async fn list_payment_promises(
        &self,
        request: Request<ListPaymentPromisesRequest>,
    ) -> Result<Response<ListPaymentPromisesResponse>, Status> {
        let deadline = self.deadline(&request);
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        let size = page_size(r.page_size)?;
        let before = page_token(&r.page_token)?;
        self.wait_for(&r.user_id, r.min_version, deadline).await?;
        let (promises, next) = read_model::list_promises(self.feed.db(), &r.user_id, size, before)
            .await
            .map_err(QueryError::from)?;
        Ok(Response::new(ListPaymentPromisesResponse {
            promises,
            next_page_token: next.map(|n| n.to_string()).unwrap_or_default(),
        }))
    }

    async fn list_member_bills(
        &self,
        request: Request<ListMemberBillsRequest>,
    ) -> Result<Response<ListMemberBillsResponse>, Status> {
        let deadline = self.deadline(&request);
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        let size = page_size(r.page_size)?;
        let before = page_token(&r.page_token)?;
        self.wait_for(&r.user_id, r.min_version, deadline).await?;
        let (bills, next) = read_model::list_bills(self.feed.db(), &r.user_id, size, before)
            .await
            .map_err(QueryError::from)?;
        Ok(Response::new(ListMemberBillsResponse {
            bills,
            next_page_token: next.map(|n| n.to_string()).unwrap_or_default(),
        }))
    }

    type WatchMemberStream = WatchStream;

    async fn watch_member(
        &self,
        request: Request<WatchMemberRequest>,
    ) -> Result<Response<Self::WatchMemberStream>, Status> {
        let deadline = self.deadline(&request);
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        let cursor = cursor(&r.cursor)?;
        // Subscribed before anything is read, so no change falls between the first message
        // and the live ones.
        let subscription = self.feed.subscribe(&r.user_id);
        // A cursor is a version the client has seen: the read model must have it too.
        let wait_version = r.min_version.max(cursor.unwrap_or(0));
        self.wait_for(&r.user_id, wait_version, deadline).await?;

        let (tx, rx) = mpsc::channel(64);
        let watch = Watch {
            api: self.clone(),
            user_id: r.user_id,
            tx,
            last: 0,
        };
        tokio::spawn(watch.run(cursor, subscription));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// One client's watch: sends each change of the member once, in version order.
struct Watch {
    api: QueryApi,
    user_id: String,
    tx: mpsc::Sender<Result<WatchMemberResponse, Status>>,
    /// The version of the last message sent.
    last: i64,
}

/// Why a watch ends.
enum End {
    /// The client went away, or the server is shutting down.
    Quietly,
    Failed(QueryError),
}

impl From<QueryError> for End {
    fn from(e: QueryError) -> Self {
        Self::Failed(e)
    }
}

impl Watch {
    async fn run(mut self, cursor: Option<i64>, mut subscription: Subscription) {
        let result = self.stream(cursor, &mut subscription).await;
        if let Err(End::Failed(e)) = result {
            tracing::warn!(user_id = %self.user_id, error = %e, "watch ended by an error");
            let _ = self.tx.send(Err(e.into())).await;
        }
    }

    async fn stream(
        &mut self,
        cursor: Option<i64>,
        subscription: &mut Subscription,
    ) -> Result<(), End> {
        match cursor {
            Some(cursor) => {
                self.last = cursor;
                self.catch_up().await?;
            }
            None => self.snapshot(SnapshotReason::Initial).await?,
        }
        loop {
            let next = tokio::select! {
                () = self.api.shutdown.cancelled() => return Err(End::Quietly),
                () = self.tx.closed() => return Err(End::Quietly),
                next = subscription.recv() => next,
            };
            match next {
                None => return Err(End::Quietly),
                Some(Ok(row)) if row.version <= self.last => {}
                Some(Ok(row)) if row.version == self.last + 1 => {
                    self.send(change_message(&row)).await?
                }
                // A version jump, or changes dropped while this watcher was slow: the table
                // has them all.
                Some(Ok(_)) | Some(Err(_)) => self.catch_up().await?,
            }
        }
    }

    async fn send(&mut self, message: WatchMemberResponse) -> Result<(), End> {
        let version = match &message.kind {
            Some(Kind::Change(change)) => change.version,
            Some(Kind::Snapshot(s)) => s
                .member
                .as_ref()
                .and_then(|m| m.summary.as_ref())
                .map_or(0, |s| s.version),
            None => self.last,
        };
        self.tx.send(Ok(message)).await.map_err(|_| End::Quietly)?;
        self.last = version;
        Ok(())
    }

    async fn snapshot(&mut self, reason: SnapshotReason) -> Result<(), End> {
        let member = self.api.member(&self.user_id).await?;
        self.send(snapshot_message(member, reason)).await
    }

    /// Sends every change after `last` from the table. If the feed no longer holds the
    /// next one, sends a fresh snapshot instead: never a silent gap.
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            let rows = change_feed::read_member(
                self.api.feed.db(),
                &self.user_id,
                self.last,
                CATCH_UP_PAGE,
            )
            .await
            .map_err(QueryError::from)?;
            let Some(first) = rows.first() else {
                let current = read_model::member_version(self.api.feed.db(), &self.user_id)
                    .await
                    .map_err(QueryError::from)?;
                if current > self.last {
                    return self.snapshot(SnapshotReason::CursorExpired).await;
                }
                return Ok(());
            };
            if first.version != self.last + 1 {
                return self.snapshot(SnapshotReason::CursorExpired).await;
            }
            let full = rows.len() as u64 == CATCH_UP_PAGE;
            for row in &rows {
                self.send(change_message(row)).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}
