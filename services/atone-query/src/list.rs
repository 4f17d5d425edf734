//! `ListPaymentPromises` and `ListMemberBills`: a page of a member's rows, newest first,
//! read one way for both.

use std::future::Future;
use std::pin::Pin;

use atone_api::v1::{
    ListMemberBillsRequest, ListMemberBillsResponse, ListPaymentPromisesRequest,
    ListPaymentPromisesResponse,
};
use atone_auth::Caller;
use atone_domain::validate;
use atone_projection::{BillRow, PromiseRow};
use atone_storage::read_model::{self, Page};
use atone_storage::{DatabaseConnection, StorageError};
use tonic::{Request, Response, Status};

use crate::{QueryApi, QueryError, convert};

const DEFAULT_PAGE_SIZE: i32 = 50;
const MAX_PAGE_SIZE: i32 = 500;

/// A list request, checked.
pub struct PageRequest {
    user_id: String,
    size: u64,
    /// Rows created before this version; `None` for the first page.
    before: Option<i64>,
}

type Read<'a, R> = Pin<Box<dyn Future<Output = Result<Page<R>, StorageError>> + Send + 'a>>;

/// A list RPC: where its fields are, which rows it reads and what it answers.
pub trait Paged {
    type Row;
    type Response;

    fn user_id(&self) -> &str;
    fn page_size(&self) -> i32;
    fn page_token(&self) -> &str;
    fn min_version(&self) -> i64;
    fn read<'a>(db: &'a DatabaseConnection, page: &'a PageRequest) -> Read<'a, Self::Row>;
    fn response(rows: &[Self::Row], next_page_token: String) -> Self::Response;
}

/// One list RPC: its request, its response and the response's list field, the rows it
/// reads and how a row becomes a message.
macro_rules! paged {
    ($request:ty => $response:ident { $field:ident: $row:ty }, $read:path, $convert:path) => {
        impl Paged for $request {
            type Row = $row;
            type Response = $response;

            fn user_id(&self) -> &str {
                &self.user_id
            }
            fn page_size(&self) -> i32 {
                self.page_size
            }
            fn page_token(&self) -> &str {
                &self.page_token
            }
            fn min_version(&self) -> i64 {
                self.min_version
            }
            fn read<'a>(db: &'a DatabaseConnection, page: &'a PageRequest) -> Read<'a, $row> {
                Box::pin($read(db, &page.user_id, page.size, page.before))
            }
            fn response(rows: &[$row], next_page_token: String) -> $response {
                $response {
                    $field: rows.iter().map($convert).collect(),
                    next_page_token,
                }
            }
        }
    };
}

paged!(
    ListPaymentPromisesRequest => ListPaymentPromisesResponse { promises: PromiseRow },
    read_model::list_promises,
    convert::promise
);
paged!(
    ListMemberBillsRequest => ListMemberBillsResponse { bills: BillRow },
    read_model::list_bills,
    convert::bill
);

impl QueryApi {
    /// Every list RPC: check the request, wait for its min_version, read the page.
    pub(crate) async fn list<P: Paged>(
        &self,
        request: Request<P>,
    ) -> Result<Response<P::Response>, Status> {
        let deadline = self.deadline(&request);
        let caller = Caller::of(&request)?.clone();
        let r = request.into_inner();
        validate::user_id(r.user_id()).map_err(QueryError::from)?;
        caller.require_read(r.user_id())?;
        let page = PageRequest {
            user_id: r.user_id().to_owned(),
            size: page_size(r.page_size())?,
            before: page_token(r.page_token())?,
        };
        self.wait_for(&page.user_id, r.min_version(), deadline)
            .await?;
        let (rows, next) = P::read(self.feed.db(), &page)
            .await
            .map_err(QueryError::from)?;
        let token = next.map(|n| n.to_string()).unwrap_or_default();
        Ok(Response::new(P::response(&rows, token)))
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
