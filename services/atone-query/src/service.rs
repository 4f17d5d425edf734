use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use atone_api::v1::query_service_server::QueryService;
use atone_api::v1::{
    self, GetMemberRequest, GetMemberResponse, ListMemberBillsRequest, ListMemberBillsResponse,
    ListMemberEventsRequest, ListMemberEventsResponse, ListPaymentPromisesRequest,
    ListPaymentPromisesResponse, SubscribeEventsRequest, SubscribeEventsResponse,
    WatchMemberRequest, WatchMemberResponse,
};
use atone_auth::Caller;
use atone_domain::validate;
use atone_storage::read_model;
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::slots::WatcherSlots;
use crate::wait::{self, Deadline};
use crate::{EventTail, Feed, QueryError, convert, watch};

#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// The credit limit shown for a member with no events yet.
    pub default_credit_limit: i64,
    /// The longest a read waits for min_version.
    pub max_wait: Duration,
    /// Watches one member may have open at once.
    pub max_watchers_per_member: usize,
    /// Watches the process may have open at once.
    pub max_watchers: usize,
    /// Settled (paid or cancelled) promises and bills a GetMember or a watch's snapshot
    /// carries, newest first; the lists page through the rest.
    pub max_settled_items: u64,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            default_credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            max_wait: Duration::from_secs(5),
            max_watchers_per_member: 16,
            max_watchers: 10_000,
            max_settled_items: 100,
        }
    }
}

#[derive(Clone)]
pub struct QueryApi {
    pub(crate) feed: Feed,
    config: QueryConfig,
    /// Ends every watch when the server shuts down, so shutdown does not wait on them.
    pub(crate) shutdown: CancellationToken,
    pub(crate) slots: Arc<WatcherSlots>,
    events: EventTail,
}

impl QueryApi {
    /// The limit shown for a member without one of its own (`--credit-limit`).
    pub(crate) fn default_credit_limit(&self) -> i64 {
        self.config.default_credit_limit
    }

    /// `watchers` counts the open watches (GetStatus shows it).
    pub fn new(
        feed: Feed,
        events: EventTail,
        config: QueryConfig,
        shutdown: CancellationToken,
        watchers: Arc<AtomicUsize>,
    ) -> Self {
        let slots = WatcherSlots::new(
            watchers,
            config.max_watchers,
            config.max_watchers_per_member,
        );
        Self {
            feed,
            config,
            shutdown,
            slots,
            events,
        }
    }

    pub(crate) fn deadline<T>(&self, request: &Request<T>) -> Deadline {
        let client = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(wait::parse_grpc_timeout);
        Deadline::new(self.config.max_wait, client)
    }

    pub(crate) async fn wait_for(
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

    pub(crate) async fn member(&self, user_id: &str) -> Result<v1::Member, QueryError> {
        let view =
            read_model::get_member(self.feed.db(), user_id, self.config.max_settled_items).await?;
        Ok(convert::member(
            &view,
            user_id,
            self.config.default_credit_limit,
        ))
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

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchMemberResponse, Status>> + Send>>;
type EventStream = Pin<Box<dyn Stream<Item = Result<SubscribeEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl QueryService for QueryApi {
    async fn get_member(
        &self,
        request: Request<GetMemberRequest>,
    ) -> Result<Response<GetMemberResponse>, Status> {
        let deadline = self.deadline(&request);
        let caller = Caller::of(&request)?.clone();
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        caller.require_read(&r.user_id)?;
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
        self.list(request).await
    }

    async fn list_member_bills(
        &self,
        request: Request<ListMemberBillsRequest>,
    ) -> Result<Response<ListMemberBillsResponse>, Status> {
        self.list(request).await
    }

    async fn list_member_events(
        &self,
        request: Request<ListMemberEventsRequest>,
    ) -> Result<Response<ListMemberEventsResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        caller.require_read(&r.user_id)?;
        Ok(Response::new(crate::log::page(self.feed.db(), &r).await?))
    }

    type WatchMemberStream = WatchStream;

    async fn watch_member(
        &self,
        request: Request<WatchMemberRequest>,
    ) -> Result<Response<Self::WatchMemberStream>, Status> {
        let deadline = self.deadline(&request);
        let caller = Caller::of(&request)?.clone();
        let r = request.into_inner();
        validate::user_id(&r.user_id).map_err(QueryError::from)?;
        caller.require_read(&r.user_id)?;
        let cursor = cursor(&r.cursor)?;
        let slot = self.slots.take(&r.user_id)?;
        // Subscribed before anything is read, so no change falls between the first message
        // and the live ones.
        let subscription = self.feed.subscribe(&r.user_id);
        // A cursor is a version the client has seen: the read model must have it too.
        let wait_version = r.min_version.max(cursor.unwrap_or(0));
        self.wait_for(&r.user_id, wait_version, deadline).await?;

        let messages = watch::spawn(self.clone(), r.user_id, cursor, subscription, slot);
        Ok(Response::new(Box::pin(messages)))
    }

    type SubscribeEventsStream = EventStream;

    async fn subscribe_events(
        &self,
        request: Request<SubscribeEventsRequest>,
    ) -> Result<Response<Self::SubscribeEventsStream>, Status> {
        Caller::of(&request)?.require(atone_auth::Scope::Events)?;
        let events = self.events.subscribe(request.into_inner()).await?;
        Ok(Response::new(Box::pin(events)))
    }
}
