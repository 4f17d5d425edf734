//! Talking to atone as a client does: channels, requests, a watch.

use std::time::Duration;

use atone_api::tonic::Request;
use atone_api::tonic::transport::Channel;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{self, PaymentMode, PurchaseRequest, PurchaseResponse};

use crate::TestApp;

/// A channel to `endpoint` (`http://host:port`), connected.
pub async fn channel(endpoint: &str) -> Channel {
    Channel::from_shared(endpoint.to_owned())
        .expect("uri")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to atone at {endpoint}: {e}"))
}

pub fn purchase(user_id: &str, amount: i64, key: &str) -> PurchaseRequest {
    PurchaseRequest {
        user_id: user_id.into(),
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount,
        payment_mode: PaymentMode::Immediate as i32,
        idempotency_key: key.into(),
    }
}

/// `workers` clients at once, each buying `purchases` times for 7 members of its own
/// (`<prefix>-<worker>-<n>`); returns when every purchase is answered.
pub async fn buy_concurrently(app: &TestApp, prefix: &str, workers: usize, purchases: usize) {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let mut command = app.command().await;
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in 0..purchases {
                let user = format!("{prefix}-{w}-{}", i % 7);
                let key = uuid::Uuid::now_v7().to_string();
                command
                    .purchase(purchase(&user, 100 + i as i64, &key))
                    .await
                    .expect("a purchase");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a client");
    }
}

pub async fn buy(app: &TestApp, user_id: &str, amount: i64) -> PurchaseResponse {
    app.command()
        .await
        .purchase(purchase(user_id, amount, &uuid::Uuid::now_v7().to_string()))
        .await
        .expect("purchase")
        .into_inner()
}

pub async fn get_member(app: &TestApp, user_id: &str, min_version: i64) -> v1::Member {
    get_member_on(app.channel().await, user_id, min_version).await
}

/// GetMember over `channel`, once the read model reaches `min_version`.
pub async fn get_member_on(channel: Channel, user_id: &str, min_version: i64) -> v1::Member {
    QueryServiceClient::new(channel)
        .get_member(Request::new(v1::GetMemberRequest {
            user_id: user_id.into(),
            min_version,
        }))
        .await
        .expect("GetMember")
        .into_inner()
        .member
        .expect("member")
}

pub fn unique_user(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// A WatchMember stream.
pub struct Watcher {
    stream: atone_api::tonic::Streaming<v1::WatchMemberResponse>,
}

impl Watcher {
    pub async fn open(app: &TestApp, user_id: &str, cursor: &str) -> Self {
        let request = v1::WatchMemberRequest {
            user_id: user_id.into(),
            cursor: cursor.into(),
            min_version: 0,
        };
        let stream = app
            .query()
            .await
            .watch_member(request)
            .await
            .expect("WatchMember")
            .into_inner();
        Self { stream }
    }

    /// The next message, within 10 s.
    pub async fn next(&mut self) -> v1::WatchMemberResponse {
        tokio::time::timeout(Duration::from_secs(10), self.stream.message())
            .await
            .expect("a watch message within 10 s")
            .expect("the watch stream stays healthy")
            .expect("the watch stream stays open")
    }

    pub async fn next_snapshot(&mut self) -> (String, v1::Snapshot) {
        let message = self.next().await;
        match message.kind {
            Some(v1::watch_member_response::Kind::Snapshot(s)) => (message.cursor, s),
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    pub async fn next_change(&mut self) -> (String, v1::MemberChange) {
        let message = self.next().await;
        match message.kind {
            Some(v1::watch_member_response::Kind::Change(c)) => (message.cursor, c),
            other => panic!("expected a change, got {other:?}"),
        }
    }

    /// Asserts nothing more arrives within `quiet`.
    pub async fn assert_quiet(&mut self, quiet: Duration) {
        if let Ok(message) = tokio::time::timeout(quiet, self.stream.message()).await {
            panic!("expected no more messages, got {message:?}");
        }
    }
}

/// A 月まとめ払い purchase request.
pub fn monthly(user_id: &str, amount: i64, key: &str) -> PurchaseRequest {
    PurchaseRequest {
        payment_mode: PaymentMode::Monthly as i32,
        ..purchase(user_id, amount, key)
    }
}

/// Closes `period` through BillingService; returns every progress message, the last one
/// done.
pub async fn close_period(
    app: &TestApp,
    period: &str,
) -> Result<Vec<v1::CloseBillingPeriodResponse>, atone_api::tonic::Status> {
    let mut stream = v1::billing_service_client::BillingServiceClient::new(app.channel().await)
        .close_billing_period(v1::CloseBillingPeriodRequest {
            period: period.into(),
        })
        .await?
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

/// The member as GetMember shows them once `check` holds, polled for up to 10 s.
pub async fn member_when(
    app: &TestApp,
    user_id: &str,
    what: &str,
    check: impl Fn(&v1::Member) -> bool,
) -> v1::Member {
    crate::eventually(Duration::from_secs(10), what, || async {
        let member = get_member(app, user_id, 0).await;
        check(&member).then_some(member)
    })
    .await
}

/// The member's bill `bill_id` (panics if the member has none such: a test's failure).
pub fn bill_of<'a>(member: &'a v1::Member, bill_id: &str) -> &'a v1::MemberBill {
    member
        .bills
        .iter()
        .find(|b| b.bill_id == bill_id)
        .expect("the bill")
}

/// The member pays their monthly bills by bank debit from now on.
pub async fn pay_by_bank_debit(app: &TestApp, user_id: &str) {
    app.command()
        .await
        .set_payment_method(v1::SetPaymentMethodRequest {
            user_id: user_id.into(),
            method: v1::PaymentMethod::BankDebit as i32,
            idempotency_key: "method".into(),
        })
        .await
        .expect("bank debit");
}
