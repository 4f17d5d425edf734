use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a command was refused. Each variant names one broken rule or one bad input; the
/// services map them to gRPC status codes. A refusal for the member's state is kept under
/// the command's idempotency key ([`DomainError::is_kept`]), as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainError {
    /// A field of the request is malformed, missing or out of range, whatever the state.
    /// Never kept: the same request is refused the same way whenever it comes.
    #[error("{field}: {reason}")]
    #[serde(skip)]
    InvalidArgument { field: FieldName, reason: String },

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

    #[error("amount {given} does not match {what} of {expected} yen")]
    AmountMismatch {
        what: AmountOf,
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
    /// Whether the refusal is kept under the command's idempotency key: one that the
    /// member's state decided is, so that a retry gets it again and an earlier attempt of
    /// the command, still in flight, can no longer be carried out. A refusal of the request
    /// itself (malformed, or its key used for another request) or of the moment (a period
    /// not ended yet, a date in the future) is not: it holds whenever the request comes,
    /// or it does not depend on the member.
    pub fn is_kept(&self) -> bool {
        !matches!(
            self,
            Self::InvalidArgument { .. }
                | Self::IdempotencyKeyReused { .. }
                | Self::PeriodNotEnded { .. }
                | Self::DateInFuture { .. }
        )
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

/// The name of a request's field, as the proto spells it.
pub type FieldName = &'static str;

/// Whose amount a request's amount did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountOf {
    Bill,
    Promise,
}

impl std::fmt::Display for AmountOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bill => "what is left to pay on the bill",
            Self::Promise => "the promise's amount",
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::{Command, IssueRefund, MarkOverdue, Outcome, Period, Processed};

    fn every_refusal() -> Vec<DomainError> {
        let (id, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let date = NaiveDate::from_ymd_opt(2027, 1, 27).expect("a date");
        let user_id = "member".to_owned();
        vec![
            DomainError::invalid("amount", "must be positive"),
            DomainError::PromiseNotFound {
                user_id: user_id.clone(),
                promise_id: id,
            },
            DomainError::BillNotFound {
                user_id: user_id.clone(),
                bill_id: id,
            },
            DomainError::CreditLimitExceeded {
                limit: 50_000,
                outstanding: 45_000,
                amount: 6_000,
            },
            DomainError::PromiseAlreadyBilled {
                promise_id: id,
                bill_id: other,
            },
            DomainError::PromiseNotImmediate { promise_id: id },
            DomainError::AmountMismatch {
                what: AmountOf::Bill,
                expected: 5_209,
                given: 5_000,
            },
            DomainError::AmountMismatch {
                what: AmountOf::Promise,
                expected: 1,
                given: 2,
            },
            DomainError::BillAlreadyPaid { bill_id: id },
            DomainError::IdempotencyKeyReused {
                key: "k".into(),
                first: "Purchase".into(),
            },
            DomainError::OrderNotFound {
                user_id,
                order_id: id,
            },
            DomainError::AlreadyCancelled { order_id: id },
            DomainError::CancellationTooLarge {
                order_id: id,
                given: 3,
                remaining: 2,
            },
            DomainError::BillCancelled { bill_id: id },
            DomainError::MemberOverdue {
                bill_id: id,
                due_date: date,
            },
            DomainError::PeriodNotEnded {
                period: Period::of(date),
                today: date,
            },
            DomainError::DateInFuture {
                as_of: date,
                today: date,
            },
            DomainError::NothingToRefund,
            DomainError::RefundTooLarge {
                given: 10,
                available: 5,
            },
        ]
    }

    #[test]
    fn every_kept_refusal_reads_back_as_it_was_kept() {
        let request = Command::IssueRefund(IssueRefund { amount: 10 });
        let mut kept = 0;
        for refused in every_refusal() {
            let Some(processed) = Processed::refusal(&request, &refused) else {
                continue;
            };
            kept += 1;
            let json = serde_json::to_value(&processed).expect("a refusal serializes");
            assert!(json.get("refused").is_some(), "{json}");
            let back: Processed = serde_json::from_value(json).expect("and reads back");
            assert_eq!(back, processed);
            assert_eq!(back.outcome, Outcome::Refused(refused));
        }
        assert_eq!(kept, 15, "every refusal of the member's state is kept");
    }

    #[test]
    fn refusals_of_the_request_or_the_moment_are_not_kept() {
        let request = Command::IssueRefund(IssueRefund { amount: 10 });
        let not_kept: Vec<_> = every_refusal()
            .into_iter()
            .filter(|r| Processed::refusal(&request, r).is_none())
            .map(|r| {
                format!("{r:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            not_kept,
            [
                "InvalidArgument",
                "IdempotencyKeyReused",
                "PeriodNotEnded",
                "DateInFuture"
            ]
        );
        let overdue_run = Command::MarkOverdue(MarkOverdue {
            as_of: NaiveDate::from_ymd_opt(2027, 1, 27).expect("a date"),
        });
        assert_eq!(
            Processed::refusal(&overdue_run, &DomainError::NothingToRefund),
            None
        );
    }

    #[test]
    fn a_reply_kept_before_refusals_were_still_reads_back() {
        let stored = serde_json::json!({
            "request": {"SetPaymentMethod": {"method": "BANK_DEBIT"}},
            "reply": {"SetPaymentMethod": {"version": 3}},
        });
        let back: Result<Processed, _> = serde_json::from_value(stored.clone());
        let back = back.unwrap_or_else(|e| panic!("{stored}: {e}"));
        assert!(matches!(back.outcome, Outcome::Reply(_)), "{back:?}");
    }
}
