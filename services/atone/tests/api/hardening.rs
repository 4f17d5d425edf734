//! What an outsider found by pushing on atone from outside, each kept from coming back:
//! refusals that flooded the log, metric series made up by callers, a webhook header that
//! multiplied the MAC work, contract answers that differed from the README, and a clock
//! ahead that forgot idempotency keys.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_testkit::raw_h2;
use tower::Service;

use crate::metrics::scrape;
use atone_testkit::*;

/// A refusal is logged at debug: a flood of them leaves no line in an INFO log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_logged_at_debug_only() {
    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let mut atone = Proc::start("serve", &role_args("serve", &database.url, None, &[])).await;
    let mut command = CommandServiceClient::new(atone.channel().await);
    let user = unique_user("refused");
    for i in 0..20 {
        // Over the default credit limit, then bad input, then an unknown promise.
        let over = command
            .purchase(purchase(&user, 1_000_000, &format!("over-{i}")))
            .await
            .expect_err("over the limit");
        assert_eq!(over.code(), Code::FailedPrecondition, "{over:?}");
        let bad = command
            .purchase(purchase(&user, -1, &format!("bad-{i}")))
            .await
            .expect_err("a negative amount");
        assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    }
    atone.terminate().await;
    eventually(Duration::from_secs(10), "the whole log is read", || async {
        atone.log_contains("\"stopped\"").then_some(())
    })
    .await;
    assert!(
        !atone.log_contains("refused"),
        "no refusal at INFO:\n{}",
        atone.log_tail(20)
    );
}

/// The value of the series `name` (no labels) in a scrape; 0 when it is not there.
fn value_of(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn with_metrics(settings: &mut atone::Settings) {
    settings.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
}

/// Made-up methods under a real service count under one `unknown` label: a caller cannot
/// add metric series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_add_no_metric_series() {
    let keys = TestKeys::create();
    let configure = keys.configure();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        configure(s);
        with_metrics(s);
    })
    .await;
    let metrics = app.metrics_addr.expect("metrics are served");
    let mut h2 = raw_h2::RawH2::connect(app.addr).await;
    // One made-up call first, so the `unknown` series exists before the count.
    h2.open(1, "/atone.v1.QueryService/warm-up", Some(b""))
        .await;
    eventually(
        Duration::from_secs(10),
        "the made-up call is counted",
        || async {
            // `unknown`, or on a build that labels by path, the path itself.
            let scrape = scrape(metrics).await;
            (scrape.contains(r#"method="unknown""#) || scrape.contains("warm-up")).then_some(())
        },
    )
    .await;
    let unknown = |scrape: &str| {
        scrape
            .lines()
            .filter(|l| l.starts_with("atone_rpc_requests_total") && l.contains("unknown"))
            .count()
    };
    let before = scrape(metrics).await;
    let mut made_up = Vec::new();
    for i in 0..1000u32 {
        let name = format!("m{}", uuid::Uuid::now_v7().simple());
        h2.open(
            3 + 2 * i,
            &format!("/atone.v1.QueryService/{name}"),
            Some(b""),
        )
        .await;
        made_up.push(name);
        if i % 100 == 99 {
            // Each answer read, so the server has counted the calls so far.
            let mut answered = 0;
            h2.frame_where(Duration::from_secs(10), |frame| {
                answered += usize::from(frame.ends_stream());
                answered == 100
            })
            .await
            .expect("100 answers");
        }
    }
    let after = scrape(metrics).await;
    assert_eq!(
        unknown(&after),
        unknown(&before),
        "one `unknown` series, as before"
    );
    for name in &made_up {
        assert!(!after.contains(name.as_str()), "{name} is not a label");
    }
}

/// The webhook's signature header is read before its body, with at most 8 `v1` entries:
/// 5,000 entries cost no more MACs than one (none: the header is refused), and a
/// signature that is checked costs one MAC per secret, however many entries it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_signatures_cost_no_more_macs_than_one() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        with_metrics(s);
        if let Some(command) = s.command.as_mut() {
            command.webhook_secrets = vec!["first-secret".into(), "second-secret".into()];
        }
    })
    .await;
    let metrics = app.metrics_addr.expect("metrics are served");
    let body = format!(
        r#"{{"event_id": "evt-1", "type": "payment.succeeded", "user_id": "u", "amount": 1, "paid_at": "2026-12-01T00:00:00Z", "pad": "{}"}}"#,
        "x".repeat(15_000)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let entry = format!("v1={}", "ab".repeat(32));
    let post = |entries: usize| {
        let header = format!("t={now},{}", vec![entry.as_str(); entries].join(","));
        let body = body.clone();
        let url = format!("{}/webhooks/payments", app.endpoint());
        async move {
            reqwest::Client::builder()
                .http1_only()
                .build()
                .expect("client")
                .post(url)
                .header("content-type", "application/json")
                .header("atone-signature", header)
                .body(body)
                .send()
                .await
                .expect("the webhook answers")
        }
    };
    let macs = || async { value_of(&scrape(metrics).await, "atone_webhook_macs_total") };
    let at_start = macs().await;
    let one = post(1).await;
    assert_eq!(one.status().as_u16(), 401);
    let after_one = macs().await;
    assert_eq!(after_one - at_start, 2.0, "one MAC per secret");
    let eight = post(8).await;
    assert_eq!(eight.status().as_u16(), 401);
    let after_eight = macs().await;
    assert_eq!(
        after_eight - after_one,
        2.0,
        "eight entries: still one MAC per secret"
    );
    let many = post(5_000).await;
    assert_eq!(many.status().as_u16(), 401);
    let text = many.text().await.expect("a body");
    assert!(text.contains("more than 8"), "{text}");
    assert_eq!(macs().await, after_eight, "5,000 entries: no MAC at all");
    assert_eq!(app.event_count().await, 0, "nothing recorded");
}

/// A request over the size limit is RESOURCE_EXHAUSTED whatever size its message declares,
/// over gRPC and JSON alike; the webhook answers 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_size_is_resource_exhausted_on_every_surface() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // Declared sizes past the limit, at tonic's 4 MiB and past it, in a body that ends
    // long before: the prefix alone is refused.
    for declared in [200 * 1024u32, 4 * 1024 * 1024 + 1, 64 * 1024 * 1024] {
        let mut body = vec![0u8];
        body.extend_from_slice(&declared.to_be_bytes());
        body.extend_from_slice(&[0x0a; 1000]);
        let request = atone_api::tonic::codegen::http::Request::post(format!(
            "{}/atone.v1.QueryService/GetMember",
            app.endpoint()
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(atone_api::tonic::body::Body::new(
            http_body_util::Full::new(bytes::Bytes::from(body)),
        ))
        .expect("a request");
        let mut channel = app.channel().await;
        let answer = tower::ServiceExt::ready(&mut channel)
            .await
            .expect("ready")
            .call(request)
            .await
            .expect("an answer");
        let status = answer
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // 8 is RESOURCE_EXHAUSTED (tonic's own limit would be 11, OUT_OF_RANGE).
        assert_eq!(
            status.as_deref(),
            Some("8"),
            "declared {declared}: {answer:?}"
        );
    }
    let client = reqwest::Client::new();
    let json = client
        .post(format!(
            "{}/atone.v1.QueryService/GetMember",
            app.endpoint()
        ))
        .header("content-type", "application/json")
        .body(format!(r#"{{"user_id": "{}"}}"#, "u".repeat(100 * 1024)))
        .send()
        .await
        .expect("JSON answers");
    assert_eq!(json.status().as_u16(), 429);
    let error: serde_json::Value =
        serde_json::from_str(&json.text().await.expect("a body")).expect("a JSON error");
    assert_eq!(error["code"], "resource_exhausted", "{error}");
    let webhook = client
        .post(format!("{}/webhooks/payments", app.endpoint()))
        .header("content-type", "application/json")
        .header(
            "atone-signature",
            format!(
                "t={},v1={}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_secs(),
                "00".repeat(32)
            ),
        )
        .body("x".repeat(100 * 1024))
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(webhook.status().as_u16(), 413);
}

/// A key is stamped and aged by one clock: with atone's clock far ahead of the machine's
/// (`--clock-offset 60d`), a key kept within the retention still answers its retry, so a
/// retried purchase makes no second order. A key older than the retention, by the same
/// clock, is forgotten: its going is the sign that a retention pass has run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_age_by_atone_s_clock_whatever_its_offset() {
    let offset = Duration::from_secs(60 * 24 * 3600);
    let clock = atone_command::SystemClock { offset };
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        s.clock = std::sync::Arc::new(clock);
        if let Some(command) = s.command.as_mut() {
            // A pass every 10 s.
            command.handler.idempotency_retention = Duration::from_secs(20);
        }
    })
    .await;
    let user = unique_user("offset");
    let mut command = app.command().await;
    let first = command
        .purchase(purchase(&user, 1000, "offset-key"))
        .await
        .expect("purchase")
        .into_inner();
    // A key a year old by atone's clock: the next pass forgets it.
    let old = atone_storage::entity::idempotency_keys::ActiveModel {
        user_id: sea_orm::ActiveValue::Set(user.clone()),
        idempotency_key: sea_orm::ActiveValue::Set("a-year-old".into()),
        processed: sea_orm::ActiveValue::Set(serde_json::json!(null)),
        created_at: sea_orm::ActiveValue::Set(
            atone_command::Clock::now(&clock) - chrono::Duration::days(365),
        ),
    };
    sea_orm::EntityTrait::insert(old)
        .exec_without_returning(&app.db)
        .await
        .expect("an old key");
    eventually(Duration::from_secs(30), "a retention pass", || async {
        let old = atone_storage::idempotency::earlier(&app.db, &user, "a-year-old").await;
        // The null above does not read as a reply: gone is what is looked for.
        matches!(old, Ok(None)).then_some(())
    })
    .await;
    let again = command
        .purchase(purchase(&user, 1000, "offset-key"))
        .await
        .expect("the retry")
        .into_inner();
    assert_eq!(again, first, "the retry answers the first purchase");
    assert_eq!(app.event_count().await, 2, "one order");
}

/// A close answers what that call issued: closing a month again, or closing it on a second
/// process, reports no bill that an earlier run issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_reports_the_bills_that_call_issued() {
    let clock = atone_command::ManualClock::new(jst(2026, 11, 15, 12, 0, 0));
    let app = TestApp::spawn_with(Backend::Sqlite, with_clock(&clock, false)).await;
    let mut command = app.command().await;
    for i in 0..3 {
        command
            .purchase(monthly(&unique_user(&format!("closed-{i}")), 1000, "m-1"))
            .await
            .expect("a monthly purchase");
    }
    clock.set(jst(2026, 12, 1, 9, 0, 0));
    let issued = |progress: &[atone_api::v1::CloseBillingPeriodResponse]| {
        let last = progress.last().expect("a last message");
        assert!(last.done);
        last.bills_issued
    };
    let first = close_period(&app, "2026-11").await.expect("close November");
    assert_eq!(issued(&first), 3, "three bills");
    let again = close_period(&app, "2026-11").await.expect("close again");
    assert_eq!(issued(&again), 0, "none issued by the second call");
    assert_eq!(again.last().map(|p| p.members_done), Some(3));
}

/// Before a first purchase a member reads the limit that applies to them: the default,
/// as a purchase would be checked against, in GetMember and in a watch's change alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reads_the_default_limit_before_a_first_purchase() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        if let Some(command) = s.command.as_mut() {
            command.handler.credit_limit = 70_000;
        }
        if let Some(query) = s.query.as_mut() {
            query.api.default_credit_limit = 70_000;
        }
    })
    .await;
    let user = unique_user("no-purchase-yet");
    let mut watcher = Watcher::open(&app, &user, "").await;
    watcher.next_snapshot().await;
    let set = app
        .command()
        .await
        .set_payment_method(atone_api::v1::SetPaymentMethodRequest {
            user_id: user.clone(),
            method: atone_api::v1::PaymentMethod::BankDebit as i32,
            idempotency_key: "method-1".into(),
        })
        .await
        .expect("a payment method")
        .into_inner();
    let summary = get_member(&app, &user, set.version)
        .await
        .summary
        .expect("summary");
    assert_eq!(summary.credit_limit, 70_000, "{summary:?}");
    assert_eq!(summary.available_credit, 70_000, "{summary:?}");
    let (_, change) = watcher.next_change().await;
    let pushed = change.summary.expect("summary");
    assert_eq!(pushed.credit_limit, 70_000, "{pushed:?}");
    // A purchase up to that limit passes, as the reading said.
    buy(&app, &user, 70_000).await;
}

/// A 月まとめ払い promise is due with its month's bill: switching to bank debit moves it to
/// the 27th, and the close's bill shows the same date.
async fn a_monthly_promise_follows_the_payment_method(backend: Backend) {
    let clock = atone_command::ManualClock::new(jst(2026, 11, 15, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, false)).await;
    let user = unique_user("method");
    let mut command = app.command().await;
    command
        .purchase(monthly(&user, 1000, "m-1"))
        .await
        .expect("a monthly purchase");
    let set = command
        .set_payment_method(atone_api::v1::SetPaymentMethodRequest {
            user_id: user.clone(),
            method: atone_api::v1::PaymentMethod::BankDebit as i32,
            idempotency_key: "method-1".into(),
        })
        .await
        .expect("bank debit")
        .into_inner();
    let member = get_member(&app, &user, set.version).await;
    assert_eq!(member.promises[0].due_date, "2026-12-27", "{member:?}");
    clock.set(jst(2026, 12, 1, 9, 0, 0));
    close_period(&app, "2026-11").await.expect("close November");
    let member = get_member(&app, &user, set.version + 1).await;
    assert_eq!(member.bills[0].due_date, member.promises[0].due_date);
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
}

on_each_backend!(a_monthly_promise_follows_the_payment_method);
