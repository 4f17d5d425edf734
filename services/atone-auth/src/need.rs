//! What each method needs of its caller, known from the method's path alone: the server
//! checks it from the headers before it reads or decodes a body, so a caller without the
//! scope holds nothing while it sends (or never finishes sending) its request. The
//! services check again, with the request in hand (a member token's member, say).

use tonic::Status;

use crate::{Caller, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Health and reflection: anyone.
    Open,
    /// Any authenticated caller (`WhoAmI`).
    Caller,
    /// An API key with this scope, or `admin`.
    Scope(Scope),
    /// Reading a member: the `read` scope, or a member token (whose member the service
    /// compares with the request's).
    Read,
}

impl Need {
    /// What `service`'s `method` needs; `None` for a method this table does not know (a
    /// test keeps every served method in it, and the server refuses an unknown one).
    pub fn of(service: &str, method: &str) -> Option<Need> {
        use Scope::*;
        Some(match (service, method) {
            (
                "grpc.health.v1.Health"
                | "grpc.reflection.v1.ServerReflection"
                | "grpc.reflection.v1alpha.ServerReflection",
                _,
            ) => Need::Open,
            ("atone.v1.AuthService", "WhoAmI") => Need::Caller,
            ("atone.v1.AuthService", "IssueMemberToken") => Need::Scope(Purchases),
            ("atone.v1.CommandService", "Purchase" | "CancelPurchase") => Need::Scope(Purchases),
            (
                "atone.v1.CommandService",
                "IssueImmediateBill" | "SetPaymentMethod" | "SetBankAccount",
            ) => Need::Scope(Billing),
            (
                "atone.v1.BillingService",
                "CloseBillingPeriod"
                | "MarkOverdueBills"
                | "ExportBankDebits"
                | "ImportBankDebitResults",
            ) => Need::Scope(Billing),
            ("atone.v1.CommandService", "CompletePayment" | "ReceivePayment") => {
                Need::Scope(Payments)
            }
            ("atone.v1.CommandService", "IssueRefund" | "ChangeCreditLimit") => Need::Scope(Admin),
            (
                "atone.v1.ProjectorService",
                "GetStatus" | "ListDeadLetters" | "RetryDeadLetters" | "SkipDeadLetter",
            ) => Need::Scope(Admin),
            (
                "atone.v1.QueryService",
                "GetMember"
                | "ListPaymentPromises"
                | "ListMemberBills"
                | "WatchMember"
                | "ListMemberEvents",
            ) => Need::Read,
            ("atone.v1.QueryService", "SubscribeEvents") => Need::Scope(Events),
            (
                "atone.v1.WebhookService",
                "AddWebhookEndpoint"
                | "ListWebhookEndpoints"
                | "DisableWebhookEndpoint"
                | "ReplayWebhookEndpoint"
                | "ListWebhookDeliveries",
            ) => Need::Scope(Admin),
            _ => return None,
        })
    }

    /// Whether `caller` may make the call, as far as the headers tell.
    pub fn allows(self, caller: &Caller) -> Result<(), Status> {
        match (self, caller) {
            (Need::Open | Need::Caller, _) | (Need::Read, Caller::Member { .. }) => Ok(()),
            (Need::Read, other) => other.require(Scope::Read),
            (Need::Scope(scope), other) => other.require(scope),
        }
    }
}
