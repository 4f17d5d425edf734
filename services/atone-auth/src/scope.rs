use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Purchase, CancelPurchase (and member tokens for the members they sell to).
    Purchases,
    /// Bills: IssueImmediateBill, SetPaymentMethod, the monthly close, the overdue check.
    Billing,
    /// Payment calls: CompletePayment, ReceivePayment.
    Payments,
    /// Reading any member: GetMember, the lists, WatchMember.
    Read,
    /// Every event of every member: SubscribeEvents (integrations, the data warehouse).
    Events,
    /// Everything, including status, credit limits and refunds.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::Purchases,
        Scope::Billing,
        Scope::Payments,
        Scope::Read,
        Scope::Events,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchases => "purchases",
            Self::Billing => "billing",
            Self::Payments => "payments",
            Self::Read => "read",
            Self::Events => "events",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a scope (purchases, billing, payments, read, events, admin)")
            })
    }
}
