//! The workload: concurrent clients doing the whole month over a set of members, every
//! command with an idempotency key. A call whose outcome is unknown (a deadline, a cut
//! connection, UNAVAILABLE) is sent again with the same key, perhaps to another process,
//! until it gets an answer or the client gives up; every invocation and its last outcome
//! go into the history.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::{Channel, Endpoint};
use atone_api::tonic::{Code, Request, Status};
use atone_api::v1::billing_service_client::BillingServiceClient;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::*;
use atone_testkit::history::Outcome;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

/// One command as the workload sent it: retries of a key are one call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Call {
    pub client: usize,
    pub member: String,
    pub key: String,
    pub command: &'static str,
    pub attempts: u32,
    /// Milliseconds since the run started: the first send, and the last answer.
    pub sent_ms: u64,
    pub answered_ms: u64,
    /// "ok", "refused" or "unknown", and the status of the last failed attempt.
    pub outcome: String,
    pub version: i64,
    pub status: String,
}

impl Call {
    pub fn outcome(&self) -> Outcome {
        match self.outcome.as_str() {
            "ok" => Outcome::Ok {
                version: self.version,
            },
            "refused" => Outcome::Refused,
            _ => Outcome::Unknown,
        }
    }
}

pub type History = Arc<Mutex<Vec<Call>>>;

pub fn channels(endpoints: &[String]) -> anyhow::Result<Vec<Channel>> {
    endpoints
        .iter()
        .map(|e| {
            Ok(Endpoint::from_shared(e.clone())?
                .connect_timeout(Duration::from_secs(1))
                .tcp_nodelay(true)
                .connect_lazy())
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Order {
    order_id: String,
    promise_id: String,
    amount: i64,
    immediate: bool,
    billed: bool,
}

/// What a client knows of one of its members, from the replies it got.
#[derive(Debug, Default, Clone)]
struct Known {
    orders: Vec<Order>,
    /// Unpaid bills: (bill id, yen left to pay).
    bills: Vec<(String, i64)>,
    version: i64,
}

enum Reply {
    Version(i64),
    Purchased(PurchaseResponse),
    Billed(IssueImmediateBillResponse),
    Cancelled(CancelPurchaseResponse),
}

impl Reply {
    fn version(&self) -> i64 {
        match self {
            Reply::Version(v) => *v,
            Reply::Purchased(r) => r.version,
            Reply::Billed(r) => r.version,
            Reply::Cancelled(r) => r.version,
        }
    }
}

/// A command to send (again): cloned for every attempt.
#[derive(Clone)]
enum Cmd {
    Purchase(PurchaseRequest),
    Bill(IssueImmediateBillRequest),
    Complete(CompletePaymentRequest),
    Receive(ReceivePaymentRequest),
    Cancel(CancelPurchaseRequest),
    Refund(IssueRefundRequest),
    Method(SetPaymentMethodRequest),
    Limit(ChangeCreditLimitRequest),
}

impl Cmd {
    fn name(&self) -> &'static str {
        match self {
            Cmd::Purchase(_) => "Purchase",
            Cmd::Bill(_) => "IssueImmediateBill",
            Cmd::Complete(_) => "CompletePayment",
            Cmd::Receive(_) => "ReceivePayment",
            Cmd::Cancel(_) => "CancelPurchase",
            Cmd::Refund(_) => "IssueRefund",
            Cmd::Method(_) => "SetPaymentMethod",
            Cmd::Limit(_) => "ChangeCreditLimit",
        }
    }

    async fn send(self, channel: Channel, deadline: Duration) -> Result<Reply, Status> {
        let mut c = CommandServiceClient::new(channel);
        fn req<T>(m: T, d: Duration) -> Request<T> {
            let mut r = Request::new(m);
            r.set_timeout(d);
            r
        }
        Ok(match self {
            Cmd::Purchase(m) => Reply::Purchased(c.purchase(req(m, deadline)).await?.into_inner()),
            Cmd::Bill(m) => {
                Reply::Billed(c.issue_immediate_bill(req(m, deadline)).await?.into_inner())
            }
            Cmd::Complete(m) => Reply::Version(
                c.complete_payment(req(m, deadline))
                    .await?
                    .into_inner()
                    .version,
            ),
            Cmd::Receive(m) => Reply::Version(
                c.receive_payment(req(m, deadline))
                    .await?
                    .into_inner()
                    .version,
            ),
            Cmd::Cancel(m) => {
                Reply::Cancelled(c.cancel_purchase(req(m, deadline)).await?.into_inner())
            }
            Cmd::Refund(m) => {
                Reply::Version(c.issue_refund(req(m, deadline)).await?.into_inner().version)
            }
            Cmd::Method(m) => Reply::Version(
                c.set_payment_method(req(m, deadline))
                    .await?
                    .into_inner()
                    .version,
            ),
            Cmd::Limit(m) => Reply::Version(
                c.change_credit_limit(req(m, deadline))
                    .await?
                    .into_inner()
                    .version,
            ),
        })
    }
}

/// A status that says the command was not carried out; any other may hide a command that
/// was (or will be) applied.
fn refused(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::NotFound
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unauthenticated
    )
}

pub struct Workload {
    pub members: Vec<String>,
    pub commands: Vec<Channel>,
    pub queries: Vec<Channel>,
    pub history: History,
    pub clock: Clock,
    /// atone's clock offset (seconds), for the period a close asks for.
    pub offset: Arc<AtomicI64>,
    /// Attempts of one call before the client gives up (the outcome stays unknown).
    pub max_attempts: u32,
}

impl Workload {
    /// Runs `clients` clients until `stop`; each finishes the call it is in (with its
    /// retries) before it returns.
    pub async fn run(self: Arc<Self>, clients: usize, seed: u64, stop: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..clients {
            let mine: Vec<String> = self
                .members
                .iter()
                .skip(client)
                .step_by(clients)
                .cloned()
                .collect();
            let this = self.clone();
            let stop = stop.clone();
            let rng = fastrand::Rng::with_seed(seed.wrapping_mul(1000).wrapping_add(client as u64));
            tasks.spawn(async move { this.client(client, mine, rng, stop).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn client(
        &self,
        client: usize,
        members: Vec<String>,
        mut rng: fastrand::Rng,
        stop: CancellationToken,
    ) {
        if members.is_empty() {
            return;
        }
        let mut known: Vec<Known> = vec![Known::default(); members.len()];
        let mut step = 0u64;
        while !stop.is_cancelled() {
            step += 1;
            let m = rng.usize(..members.len());
            let user = &members[m];
            let key = format!("c{client}-{step}");
            if client == 0 && rng.u32(..100) < 2 {
                self.billing(&mut rng).await;
                continue;
            }
            let roll = rng.u32(..100);
            if roll < 10 {
                self.refresh(user, &mut known[m], &mut rng).await;
                continue;
            }
            let Some(cmd) = choose(&mut rng, roll, user, &key, &known[m]) else {
                continue;
            };
            let (call, reply) = self.call(client, user, key, cmd.clone(), &mut rng).await;
            if let Some(reply) = reply {
                learn(&mut known[m], &cmd, &reply);
            }
            if let Ok(mut history) = self.history.lock() {
                history.push(call);
            }
        }
    }

    /// Sends `cmd` until it is answered, or `max_attempts` went unanswered.
    async fn call(
        &self,
        client: usize,
        user: &str,
        key: String,
        cmd: Cmd,
        rng: &mut fastrand::Rng,
    ) -> (Call, Option<Reply>) {
        let sent_ms = self.clock.ms();
        let mut call = Call {
            client,
            member: user.to_owned(),
            key,
            command: cmd.name(),
            attempts: 0,
            sent_ms,
            answered_ms: sent_ms,
            outcome: "unknown".into(),
            version: 0,
            status: String::new(),
        };
        let mut reply = None;
        while call.attempts < self.max_attempts {
            call.attempts += 1;
            // One attempt in twenty has a deadline of a few milliseconds.
            let deadline = if rng.u32(..20) == 0 {
                Duration::from_millis(rng.u64(1..30))
            } else {
                Duration::from_secs(10)
            };
            let channel = self.commands[rng.usize(..self.commands.len())].clone();
            let answer = cmd.clone().send(channel, deadline).await;
            call.answered_ms = self.clock.ms();
            match answer {
                Ok(r) => {
                    call.outcome = "ok".into();
                    call.version = r.version();
                    reply = Some(r);
                    break;
                }
                Err(status) if refused(&status) => {
                    call.outcome = "refused".into();
                    call.status = format!("{:?}: {}", status.code(), status.message());
                    break;
                }
                Err(status) => {
                    call.status = format!("{:?}: {}", status.code(), status.message());
                    let backoff = 50u64 << call.attempts.min(4);
                    tokio::time::sleep(Duration::from_millis(rng.u64(backoff / 2..=backoff))).await;
                }
            }
        }
        (call, reply)
    }

    /// Learns the member's unpaid bills (monthly ones come from closes, not from replies).
    async fn refresh(&self, user: &str, known: &mut Known, rng: &mut fastrand::Rng) {
        let channel = self.queries[rng.usize(..self.queries.len())].clone();
        let mut request = Request::new(ListMemberBillsRequest {
            user_id: user.to_owned(),
            page_size: 100,
            page_token: String::new(),
            min_version: 0,
        });
        request.set_timeout(Duration::from_secs(5));
        if let Ok(bills) = QueryServiceClient::new(channel)
            .list_member_bills(request)
            .await
        {
            known.bills = bills
                .into_inner()
                .bills
                .into_iter()
                .filter(|b| {
                    [
                        BillStatus::Unpaid,
                        BillStatus::Overdue,
                        BillStatus::Adjusted,
                    ]
                    .map(|s| s as i32)
                    .contains(&b.status)
                })
                .map(|b| (b.bill_id, b.left_to_pay))
                .collect();
        }
    }

    /// The month's jobs on demand: the close of the month before atone's today, and the
    /// overdue check. Their outcome is not part of the history (they carry no key of a
    /// client's); what they append is checked with everything else.
    async fn billing(&self, rng: &mut fastrand::Rng) {
        let channel = self.commands[rng.usize(..self.commands.len())].clone();
        let mut billing = BillingServiceClient::new(channel);
        let now = chrono::Utc::now()
            + chrono::Duration::seconds(self.offset.load(Ordering::SeqCst))
            + chrono::Duration::hours(9);
        let previous = now.date_naive()
            - chrono::Duration::days(i64::from(chrono::Datelike::day(&now.date_naive())));
        let period = previous.format("%Y-%m").to_string();
        let mut request = Request::new(CloseBillingPeriodRequest { period });
        request.set_timeout(Duration::from_secs(30));
        if let Ok(stream) = billing.close_billing_period(request).await {
            let mut stream = stream.into_inner();
            while let Ok(Some(_)) = stream.message().await {}
        }
        let mut request = Request::new(MarkOverdueBillsRequest {
            as_of: String::new(),
        });
        request.set_timeout(Duration::from_secs(30));
        if let Ok(stream) = billing.mark_overdue_bills(request).await {
            let mut stream = stream.into_inner();
            while let Ok(Some(_)) = stream.message().await {}
        }
    }
}

/// The next command for a member, from what the client knows of them.
fn choose(rng: &mut fastrand::Rng, roll: u32, user: &str, key: &str, known: &Known) -> Option<Cmd> {
    let user_id = user.to_owned();
    let idempotency_key = key.to_owned();
    let amount = rng.i64(1..=30) * 100;
    Some(match roll {
        10..40 => Cmd::Purchase(PurchaseRequest {
            user_id,
            product_id: format!("p-{}", rng.u32(..20)),
            product_name: String::new(),
            amount,
            payment_mode: if rng.bool() {
                PaymentMode::Immediate
            } else {
                PaymentMode::Monthly
            } as i32,
            idempotency_key,
        }),
        40..55 => {
            let unbilled: Vec<&Order> = known
                .orders
                .iter()
                .filter(|o| o.immediate && !o.billed && o.amount > 0)
                .collect();
            let order = unbilled.get(rng.usize(..unbilled.len().max(1)))?;
            Cmd::Bill(IssueImmediateBillRequest {
                user_id,
                promise_id: order.promise_id.clone(),
                amount: 0,
                idempotency_key,
            })
        }
        55..75 => {
            let (bill_id, bill_amount) = known
                .bills
                .get(rng.usize(..known.bills.len().max(1)))?
                .clone();
            if rng.bool() {
                Cmd::Complete(CompletePaymentRequest {
                    user_id,
                    bill_id,
                    amount: bill_amount,
                    idempotency_key,
                })
            } else {
                // One payment in ten is for more: the rest is kept as unapplied money (or pays
                // another open bill); one in ten for half: the bill is paid in part (消込).
                let amount = match rng.u32(..10) {
                    0 => bill_amount + 100,
                    1 => bill_amount / 2,
                    _ => bill_amount,
                };
                Cmd::Receive(ReceivePaymentRequest {
                    user_id,
                    transaction_id: idempotency_key,
                    bill_id,
                    amount: amount.max(1),
                    received_at: None,
                })
            }
        }
        75..85 => {
            let order = known.orders.get(rng.usize(..known.orders.len().max(1)))?;
            Cmd::Cancel(CancelPurchaseRequest {
                user_id,
                order_id: order.order_id.clone(),
                amount: if rng.bool() {
                    0
                } else {
                    (order.amount / 2).max(1)
                },
                idempotency_key,
            })
        }
        85..90 => Cmd::Refund(IssueRefundRequest {
            user_id,
            amount: 0,
            idempotency_key,
        }),
        90..95 => Cmd::Method(SetPaymentMethodRequest {
            user_id,
            method: if rng.bool() {
                PaymentMethod::BankDebit
            } else {
                PaymentMethod::ConvenienceStore
            } as i32,
            idempotency_key,
        }),
        _ => Cmd::Limit(ChangeCreditLimitRequest {
            user_id,
            limit: rng.i64(10..=100) * 1000,
            idempotency_key,
        }),
    })
}

/// What a reply tells the client about its member.
fn learn(known: &mut Known, cmd: &Cmd, reply: &Reply) {
    known.version = known.version.max(reply.version());
    match (cmd, reply) {
        (Cmd::Purchase(p), Reply::Purchased(r)) => known.orders.push(Order {
            order_id: r.order_id.clone(),
            promise_id: r.promise_id.clone(),
            amount: p.amount,
            immediate: p.payment_mode == PaymentMode::Immediate as i32,
            billed: false,
        }),
        (Cmd::Bill(b), Reply::Billed(r)) => {
            if let Some(order) = known
                .orders
                .iter_mut()
                .find(|o| o.promise_id == b.promise_id)
            {
                order.billed = true;
                known.bills.push((r.bill_id.clone(), order.amount));
            }
        }
        (Cmd::Complete(c), _) => known.bills.retain(|(id, _)| *id != c.bill_id),
        (Cmd::Receive(c), _) => known.bills.retain(|(id, _)| *id != c.bill_id),
        (Cmd::Cancel(c), Reply::Cancelled(r)) => {
            if r.remaining_amount == 0 {
                known.orders.retain(|o| o.order_id != c.order_id);
            } else if let Some(order) = known.orders.iter_mut().find(|o| o.order_id == c.order_id) {
                order.amount = r.remaining_amount;
            }
        }
        _ => {}
    }
    // A member with many settled orders: keep the newest.
    if known.orders.len() > 50 {
        known.orders.remove(0);
    }
}
