//! Bodies held open: six HTTP/2 connections of 200 streams each, every one a POST that
//! declares 4 KiB and sends one byte: a tenth to JSON `GetMember` without a credential,
//! the rest to the webhook without a signature and to gRPC `GetMember` with a member
//! token (more than `--max-in-flight` of them). Credentials are checked from
//! the headers, one credential holds a bounded share, and bodies must arrive within the
//! body timeout: an admin's calls keep being answered at once, and health stays SERVING.

use std::time::{Duration, Instant};

use atone_api::tonic::Request;
use atone_api::v1::auth_service_client::AuthServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{GetMemberRequest, IssueMemberTokenRequest};
use atone_auth::Scope;
use atone_testkit::raw_h2::{self, RawH2};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use atone_testkit::*;

const CONNECTIONS: usize = 6;
const STREAMS: u32 = 200;
const BODY_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_bodies_leave_an_admin_and_health_their_room() {
    let keys = TestKeys::create();
    let configure = keys.configure();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        configure(s);
        s.server.body_timeout = BODY_TIMEOUT;
        // Far longer than the test: only the body timeout can free the held calls.
        s.server.request_timeout = Duration::from_secs(600);
    })
    .await;
    let channel = app.channel().await;
    let member = unique_user("held");
    let bought = atone_api::v1::command_service_client::CommandServiceClient::with_interceptor(
        channel.clone(),
        Bearer::new(keys.credential(Scope::Purchases)),
    )
    .purchase(purchase(&member, 1000, "held-1"))
    .await
    .expect("purchase")
    .into_inner();
    let token = AuthServiceClient::with_interceptor(
        channel.clone(),
        Bearer::new(keys.credential(Scope::Purchases)),
    )
    .issue_member_token(IssueMemberTokenRequest {
        user_id: member.clone(),
        ttl_seconds: 600,
    })
    .await
    .expect("a member token")
    .into_inner()
    .token;
    let bearer = format!("Bearer {token}");

    // The attack: 1,200 streams, each holding its body.
    let mut connections = Vec::new();
    for c in 0..CONNECTIONS {
        let mut h2 = RawH2::connect(app.addr).await;
        for s in 0..STREAMS {
            let id = 2 * s + 1;
            // A tenth JSON without a credential; the rest the webhook without a signature
            // and gRPC with the member token, half each.
            let kind = match (c + s as usize) % 10 {
                0 => 0,
                n => 1 + n % 2,
            };
            let (path, headers): (&str, Vec<(&str, &str)>) = match kind {
                0 => (
                    "/atone.v1.QueryService/GetMember",
                    vec![("content-type", "application/json")],
                ),
                1 => (
                    "/webhooks/payments",
                    vec![("content-type", "application/json")],
                ),
                _ => (
                    "/atone.v1.QueryService/GetMember",
                    vec![
                        ("content-type", "application/grpc"),
                        ("te", "trailers"),
                        ("authorization", bearer.as_str()),
                    ],
                ),
            };
            let mut headers = headers;
            headers.push(("content-length", "4096"));
            h2.open_with(id, path, &headers).await;
            h2.send(raw_h2::DATA, 0, id, &[0]).await;
        }
        connections.push(h2);
    }

    // Meanwhile an admin reads, call after call, and health answers SERVING.
    let mut admin = QueryServiceClient::with_interceptor(
        channel.clone(),
        Bearer::new(keys.credential(Scope::Admin)),
    );
    let mut health = HealthClient::new(channel.clone());
    let mut latencies = Vec::new();
    for i in 0..200 {
        let started = Instant::now();
        let member = admin
            .get_member(Request::new(GetMemberRequest {
                user_id: member.clone(),
                min_version: bought.version,
            }))
            .await
            .unwrap_or_else(|e| panic!("admin call {i} while bodies are held: {e:?}"))
            .into_inner();
        latencies.push(started.elapsed());
        assert!(member.member.is_some());
        if i % 20 == 0 {
            let status = health
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .expect("health answers")
                .into_inner()
                .status;
            assert_eq!(status, ServingStatus::Serving as i32, "health at call {i}");
        }
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!("admin GetMember p99 while 1,200 bodies are held: {p99:?}");
    assert!(
        p99 < Duration::from_millis(100),
        "the admin's p99 is {p99:?}"
    );

    // Every held stream is answered: the ones without a credential at once, the member's
    // within the body timeout (or at once, past the member's share).
    for (c, h2) in connections.iter_mut().enumerate() {
        let mut ended = std::collections::BTreeSet::new();
        h2.frame_where(BODY_TIMEOUT + Duration::from_secs(20), |frame| {
            if frame.ends_stream() {
                ended.insert(frame.stream_id);
            }
            ended.len() == STREAMS as usize
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "connection {c}: {} of {STREAMS} streams answered",
                ended.len()
            )
        });
    }
    app.stop().await;
}
