//! Calls cancelled mid-flight: clients whose deadlines (a few milliseconds) run out while
//! atone is reading or writing. Every database access survives its caller going away: the
//! pool stays whole, health stays SERVING, a command still succeeds, and SIGTERM ends the
//! process within its grace.

use std::time::Duration;

use atone_api::tonic::Request;
use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::*;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use atone_api::tonic::{Code, Status};
use atone_storage::entity::events;
use atone_testkit::history::{Invocation, Outcome, Stored, check};
use atone_testkit::*;
use sea_orm::EntityTrait;

const CLIENTS: usize = 16;
const CALLS_PER_CLIENT: usize = 300;
const GRACE: Duration = Duration::from_secs(3);

/// A request whose deadline is `micros` microseconds: it is sent as `grpc-timeout`, and
/// the client gives up after it too.
fn short<T>(message: T, micros: u64) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(Duration::from_micros(micros));
    request
}

/// One client's share of the flood: every read and command, each with a deadline of
/// 0.3–20 ms (a debug build's few milliseconds), many cancelled while atone is still at
/// its database.
async fn flood(channel: Channel, members: Vec<(String, String)>, seed: u64) -> Vec<Invocation> {
    let mut invocations = Vec::new();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut query = QueryServiceClient::new(channel.clone());
    let mut command = CommandServiceClient::new(channel);
    for i in 0..CALLS_PER_CLIENT {
        let (user, promise) = &members[rng.usize(..members.len())];
        let user = user.clone();
        let micros = rng.u64(300..20_000);
        let key = format!("flood-{seed}-{i}");
        // Any outcome may come (most are DEADLINE_EXCEEDED or CANCELLED); the history
        // checker holds each command to it, and the rest of the test looks at what is
        // left of atone.
        let member = user.clone();
        let command_key = key.clone();
        // Reads first (the calls that wedged a pool), then commands too.
        let kind = if i < CALLS_PER_CLIENT * 2 / 3 {
            i % 5
        } else {
            i % 9
        };
        let answered: Result<Option<i64>, Status> = match kind {
            0 => query
                .get_member(short(
                    GetMemberRequest {
                        user_id: user,
                        min_version: 0,
                    },
                    micros,
                ))
                .await
                .map(|_| None),
            1 => query
                .list_payment_promises(short(
                    ListPaymentPromisesRequest {
                        user_id: user,
                        ..Default::default()
                    },
                    micros,
                ))
                .await
                .map(|_| None),
            2 => query
                .list_member_bills(short(
                    ListMemberBillsRequest {
                        user_id: user,
                        ..Default::default()
                    },
                    micros,
                ))
                .await
                .map(|_| None),
            3 => query
                .list_member_events(short(
                    ListMemberEventsRequest {
                        user_id: user,
                        ..Default::default()
                    },
                    micros,
                ))
                .await
                .map(|_| None),
            4 => query
                .get_member(short(
                    GetMemberRequest {
                        user_id: user,
                        min_version: 1,
                    },
                    micros,
                ))
                .await
                .map(|_| None),
            5 => command
                .purchase(short(purchase(&user, 100, &key), micros))
                .await
                .map(|r| Some(r.into_inner().version)),
            6 => command
                .issue_immediate_bill(short(
                    IssueImmediateBillRequest {
                        user_id: user,
                        promise_id: promise.clone(),
                        amount: 0,
                        idempotency_key: key,
                    },
                    micros,
                ))
                .await
                .map(|r| Some(r.into_inner().version)),
            7 => command
                .receive_payment(short(
                    ReceivePaymentRequest {
                        user_id: user,
                        transaction_id: key,
                        amount: 100,
                        ..Default::default()
                    },
                    micros,
                ))
                .await
                .map(|r| Some(r.into_inner().version)),
            _ => command
                .set_payment_method(short(
                    SetPaymentMethodRequest {
                        user_id: user,
                        method: PaymentMethod::BankDebit as i32,
                        idempotency_key: key,
                    },
                    micros,
                ))
                .await
                .map(|r| Some(r.into_inner().version)),
        };
        if kind >= 5 {
            let outcome = match answered {
                Ok(version) => Outcome::Ok {
                    version: version.unwrap_or_default(),
                },
                Err(status)
                    if matches!(
                        status.code(),
                        Code::InvalidArgument
                            | Code::FailedPrecondition
                            | Code::NotFound
                            | Code::AlreadyExists
                    ) =>
                {
                    Outcome::Refused
                }
                Err(_) => Outcome::Unknown,
            };
            invocations.push(Invocation {
                member,
                key: command_key,
                outcome,
            });
        }
    }
    invocations
}

async fn cancelled_calls_leave_atone_whole(backend: Backend) {
    let database = TestDatabase::migrated(backend).await;
    let grace = format!("{}s", GRACE.as_secs());
    let mut atone = Proc::start(
        "serve",
        &role_args("serve", &database.url, None, &["--shutdown-grace", &grace]),
    )
    .await;
    let channel = atone.channel().await;
    let mut command = CommandServiceClient::new(channel.clone());
    let mut members = Vec::new();
    for i in 0..20 {
        let user = unique_user(&format!("flooded-{i}"));
        let bought = command
            .purchase(purchase(&user, 1000, &format!("setup-{user}")))
            .await
            .expect("purchase")
            .into_inner();
        members.push((user, bought.promise_id));
    }

    let mut clients = tokio::task::JoinSet::new();
    let mut invocations = Vec::new();
    for c in 0..CLIENTS {
        // A connection per client, as separate callers would have.
        let channel = atone.channel().await;
        clients.spawn(flood(channel, members.clone(), c as u64));
    }
    while let Some(done) = clients.join_next().await {
        invocations.extend(done.expect("a flooding client"));
    }

    // The pool is whole: once the calls whose clients left have finished (they run to
    // their end, within the in-flight limit), more reads at once than the pool has
    // connections all succeed.
    eventually(
        Duration::from_secs(60),
        "reads after the flood succeed",
        || {
            let (channel, members) = (channel.clone(), members.clone());
            async move {
                let mut reads = tokio::task::JoinSet::new();
                for (user, _) in members {
                    let channel = channel.clone();
                    reads.spawn(async move {
                        QueryServiceClient::new(channel)
                            .list_member_events(ListMemberEventsRequest {
                                user_id: user,
                                ..Default::default()
                            })
                            .await
                    });
                }
                let mut failed = Vec::new();
                while let Some(read) = reads.join_next().await {
                    if let Err(status) = read.expect("a read") {
                        failed.push(status);
                    }
                }
                failed.is_empty().then_some(())
            }
        },
    )
    .await;
    // Health follows the database: SERVING again once its ping is answered (a flood may
    // keep every connection busy past the ping's timeout for a moment).
    eventually(Duration::from_secs(30), "health SERVING", || {
        let channel = channel.clone();
        async move {
            let health = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .ok()?
                .into_inner();
            (health.status == ServingStatus::Serving as i32).then_some(())
        }
    })
    .await;
    let user = unique_user("after-the-flood");
    let bought = command
        .purchase(purchase(&user, 500, "after"))
        .await
        .expect("a purchase after the flood succeeds")
        .into_inner();
    let member = get_member_on(channel.clone(), &user, bought.version).await;
    assert_eq!(member.summary.expect("summary").outstanding_amount, 500);

    // Every command acknowledged was applied once, every one cut off at most once, every
    // one refused never.
    let db = database.connect().await;
    let stored: Vec<Stored> = events::Entity::find()
        .all(&db)
        .await
        .expect("the events")
        .into_iter()
        .map(|e| Stored {
            member: e.user_id,
            version: e.version,
            key: e.idempotency_key,
        })
        .collect();
    assert!(invocations.len() > 100, "{} commands", invocations.len());
    assert_eq!(
        check(&invocations, &stored, &[]),
        vec![],
        "the history holds"
    );

    // SIGTERM ends it within its grace (and a little for the process to exit).
    atone.terminate_within(GRACE + Duration::from_secs(5)).await;
}

on_each_backend!(cancelled_calls_leave_atone_whole);
