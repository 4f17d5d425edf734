use uuid::Uuid;

/// Why a command was refused. Each variant names one broken rule or one bad input; the
/// services map them to gRPC status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field of the request is malformed, missing or out of range, whatever the state.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },

    #[error("payment promise {promise_id} not found for user {user_id}")]
    PromiseNotFound { user_id: String, promise_id: Uuid },

    #[error("member bill {bill_id} not found for user {user_id}")]
    BillNotFound { user_id: String, bill_id: Uuid },

    #[error(
        "credit limit exceeded: {amount} yen would take the unpaid total from {outstanding} to {} yen, over the limit of {limit} yen",
        outstanding + amount
    )]
    CreditLimitExceeded {
        limit: i64,
        outstanding: i64,
        amount: i64,
    },

    #[error("payment promise {promise_id} is already billed on bill {bill_id}")]
    PromiseAlreadyBilled { promise_id: Uuid, bill_id: Uuid },

    #[error(
        "payment promise {promise_id} is a monthly (月まとめ払い) promise; only immediate (すぐ払い) promises get an immediate bill"
    )]
    PromiseNotImmediate { promise_id: Uuid },

    #[error("amount {given} does not match the {what}'s amount of {expected} yen")]
    AmountMismatch {
        what: &'static str,
        expected: i64,
        given: i64,
    },

    #[error("member bill {bill_id} is already paid")]
    BillAlreadyPaid { bill_id: Uuid },

    #[error("idempotency key {key:?} was already used for a different request ({first})")]
    IdempotencyKeyReused { key: String, first: String },

    #[error("order {order_id} not found for user {user_id}")]
    OrderNotFound { user_id: String, order_id: Uuid },

    #[error("order {order_id} is already cancelled")]
    AlreadyCancelled { order_id: Uuid },

    #[error(
        "cannot cancel {given} yen of order {order_id}: {remaining} yen of it is left to cancel"
    )]
    CancellationTooLarge {
        order_id: Uuid,
        given: i64,
        remaining: i64,
    },

    #[error("member bill {bill_id} was cancelled: every purchase on it was cancelled")]
    BillCancelled { bill_id: Uuid },

    #[error(
        "member has an overdue bill {bill_id} (due {due_date}); purchases are refused until it is paid"
    )]
    MemberOverdue {
        bill_id: Uuid,
        due_date: chrono::NaiveDate,
    },

    #[error("billing period {period} has not ended yet (today is {today} in Japan)")]
    PeriodNotEnded {
        period: crate::Period,
        today: chrono::NaiveDate,
    },

    #[error("{as_of} is after today ({today} in Japan)")]
    DateInFuture {
        as_of: chrono::NaiveDate,
        today: chrono::NaiveDate,
    },

    #[error("nothing to refund: the member's credit and unapplied balances are 0")]
    NothingToRefund,

    #[error("cannot refund {given} yen: the member's balances hold {available} yen")]
    RefundTooLarge { given: i64, available: i64 },
}

impl DomainError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}
