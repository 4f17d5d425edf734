//! Authentication and scopes over the real gRPC API: every RPC × every kind of caller, member
//! tokens, expired and tampered tokens, a revoked key, and nothing appended on a refusal.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::tonic::service::interceptor::InterceptedService;
use atone_api::tonic::transport::Channel;
use atone_api::v1::auth_service_client::AuthServiceClient;
use atone_api::v1::billing_service_client::BillingServiceClient;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::webhook_service_client::WebhookServiceClient;
use atone_api::v1::*;
use atone_auth::Scope;

use atone_testkit::*;

type Authed = InterceptedService<Channel, Bearer>;

/// The clients of every service, presenting one credential.
struct Clients {
    command: CommandServiceClient<Authed>,
    billing: BillingServiceClient<Authed>,
    query: QueryServiceClient<Authed>,
    projector: ProjectorServiceClient<Authed>,
    webhooks: WebhookServiceClient<Authed>,
    auth: AuthServiceClient<Authed>,
}

impl Clients {
    async fn new(app: &TestApp, bearer: Bearer) -> Self {
        let channel = app.channel().await;
        Self {
            command: CommandServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            billing: BillingServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            query: QueryServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            projector: ProjectorServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            webhooks: WebhookServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            auth: AuthServiceClient::with_interceptor(channel, bearer),
        }
    }
}

/// Every RPC of atone, with who may call it (besides admin, who may call all).
const RPCS: &[(&str, &[Scope], bool)] = &[
    // (rpc, scopes allowed, a member token for the member may call it)
    ("Purchase", &[Scope::Purchases], false),
    ("CancelPurchase", &[Scope::Purchases], false),
    ("IssueImmediateBill", &[Scope::Billing], false),
    ("SetPaymentMethod", &[Scope::Billing], false),
    ("CompletePayment", &[Scope::Payments], false),
    ("ReceivePayment", &[Scope::Payments], false),
    ("IssueRefund", &[], false),
    ("ChangeCreditLimit", &[], false),
    ("CloseBillingPeriod", &[Scope::Billing], false),
    ("MarkOverdueBills", &[Scope::Billing], false),
    ("SetBankAccount", &[Scope::Billing], false),
    ("ExportBankDebits", &[Scope::Billing], false),
    ("ImportBankDebitResults", &[Scope::Billing], false),
    ("GetMember", &[Scope::Read], true),
    ("ListPaymentPromises", &[Scope::Read], true),
    ("ListMemberBills", &[Scope::Read], true),
    ("WatchMember", &[Scope::Read], true),
    ("GetStatus", &[], false),
    ("ListDeadLetters", &[], false),
    ("RetryDeadLetters", &[], false),
    ("SkipDeadLetter", &[], false),
    ("ListMemberEvents", &[Scope::Read], true),
    ("SubscribeEvents", &[Scope::Events], false),
    ("AddWebhookEndpoint", &[], false),
    ("ListWebhookEndpoints", &[], false),
    ("DisableWebhookEndpoint", &[], false),
    ("ReplayWebhookEndpoint", &[], false),
    ("ListWebhookDeliveries", &[], false),
    ("IssueMemberToken", &[Scope::Purchases], false),
];

/// Calls `rpc` about `user` (with inputs that pass authorization and then may fail for other
/// reasons) and returns the status code: Ok for a success.
async fn call(c: &mut Clients, rpc: &str, user: &str) -> Code {
    let key = uuid::Uuid::now_v7().to_string();
    let some_id = uuid::Uuid::now_v7().to_string();
    let user = user.to_owned();
    let result = match rpc {
        "Purchase" => c
            .command
            .purchase(purchase(&user, 100, &key))
            .await
            .map(drop),
        "CancelPurchase" => c
            .command
            .cancel_purchase(CancelPurchaseRequest {
                user_id: user,
                order_id: some_id,
                amount: 0,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "IssueImmediateBill" => c
            .command
            .issue_immediate_bill(IssueImmediateBillRequest {
                user_id: user,
                promise_id: some_id,
                amount: 0,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "SetPaymentMethod" => c
            .command
            .set_payment_method(SetPaymentMethodRequest {
                user_id: user,
                method: PaymentMethod::BankDebit as i32,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "CompletePayment" => c
            .command
            .complete_payment(CompletePaymentRequest {
                user_id: user,
                bill_id: some_id,
                amount: 100,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "ReceivePayment" => c
            .command
            .receive_payment(ReceivePaymentRequest {
                user_id: user,
                transaction_id: key,
                bill_id: String::new(),
                amount: 100,
                received_at: None,
            })
            .await
            .map(drop),
        "IssueRefund" => c
            .command
            .issue_refund(IssueRefundRequest {
                user_id: user,
                amount: 0,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "ChangeCreditLimit" => c
            .command
            .change_credit_limit(ChangeCreditLimitRequest {
                user_id: user,
                limit: 60_000,
                idempotency_key: key,
            })
            .await
            .map(drop),
        "CloseBillingPeriod" => c
            .billing
            .close_billing_period(CloseBillingPeriodRequest {
                period: "2020-01".into(),
            })
            .await
            .map(drop),
        "MarkOverdueBills" => c
            .billing
            .mark_overdue_bills(MarkOverdueBillsRequest {
                as_of: "2020-01-01".into(),
            })
            .await
            .map(drop),
        "SetBankAccount" => c
            .command
            .set_bank_account(SetBankAccountRequest {
                user_id: user,
                account: Some(BankAccount {
                    bank_code: "0001".into(),
                    branch_code: "001".into(),
                    account_number: "1234567".into(),
                    holder: "ﾃｽﾄ".into(),
                    ..Default::default()
                }),
                idempotency_key: key,
            })
            .await
            .map(drop),
        "ExportBankDebits" => c
            .billing
            .export_bank_debits(ExportBankDebitsRequest {
                debit_date: "2020-01-27".into(),
            })
            .await
            .map(drop),
        "ImportBankDebitResults" => c
            .billing
            .import_bank_debit_results(ImportBankDebitResultsRequest {
                file: b"not a result file".to_vec(),
            })
            .await
            .map(drop),
        "GetMember" => c
            .query
            .get_member(GetMemberRequest {
                user_id: user,
                min_version: 0,
            })
            .await
            .map(drop),
        "ListPaymentPromises" => c
            .query
            .list_payment_promises(ListPaymentPromisesRequest {
                user_id: user,
                ..Default::default()
            })
            .await
            .map(drop),
        "ListMemberBills" => c
            .query
            .list_member_bills(ListMemberBillsRequest {
                user_id: user,
                ..Default::default()
            })
            .await
            .map(drop),
        "WatchMember" => c
            .query
            .watch_member(WatchMemberRequest {
                user_id: user,
                ..Default::default()
            })
            .await
            .map(drop),
        "GetStatus" => c.projector.get_status(GetStatusRequest {}).await.map(drop),
        "ListDeadLetters" => c
            .projector
            .list_dead_letters(ListDeadLettersRequest {
                user_id: user,
                ..Default::default()
            })
            .await
            .map(drop),
        "RetryDeadLetters" => c
            .projector
            .retry_dead_letters(RetryDeadLettersRequest { user_id: user })
            .await
            .map(drop),
        "SkipDeadLetter" => c
            .projector
            .skip_dead_letter(SkipDeadLetterRequest {
                user_id: user,
                version: 1,
                reason: "test".into(),
            })
            .await
            .map(drop),
        "ListMemberEvents" => c
            .query
            .list_member_events(ListMemberEventsRequest {
                user_id: user,
                ..Default::default()
            })
            .await
            .map(drop),
        "SubscribeEvents" => c
            .query
            .subscribe_events(SubscribeEventsRequest::default())
            .await
            .map(drop),
        "AddWebhookEndpoint" => c
            .webhooks
            .add_webhook_endpoint(AddWebhookEndpointRequest {
                endpoint_id: format!("e-{}", &key[..8]),
                url: "http://127.0.0.1:9/hook".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "ListWebhookEndpoints" => c
            .webhooks
            .list_webhook_endpoints(ListWebhookEndpointsRequest {})
            .await
            .map(drop),
        "DisableWebhookEndpoint" => c
            .webhooks
            .disable_webhook_endpoint(DisableWebhookEndpointRequest {
                endpoint_id: "nobody".into(),
            })
            .await
            .map(drop),
        "ReplayWebhookEndpoint" => c
            .webhooks
            .replay_webhook_endpoint(ReplayWebhookEndpointRequest {
                endpoint_id: "nobody".into(),
                after_position: 0,
            })
            .await
            .map(drop),
        "ListWebhookDeliveries" => c
            .webhooks
            .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                endpoint_id: "nobody".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "IssueMemberToken" => c
            .auth
            .issue_member_token(IssueMemberTokenRequest {
                user_id: user,
                ttl_seconds: 60,
            })
            .await
            .map(drop),
        other => panic!("no such RPC in the table: {other}"),
    };
    result.map_or_else(|status| status.code(), |()| Code::Ok)
}

fn refused(code: Code) -> bool {
    matches!(code, Code::PermissionDenied | Code::Unauthenticated)
}

async fn member_token(app: &TestApp, keys: &TestKeys, user: &str, ttl_seconds: i64) -> String {
    let mut clients = Clients::new(app, Bearer::new(keys.credential(Scope::Purchases))).await;
    clients
        .auth
        .issue_member_token(IssueMemberTokenRequest {
            user_id: user.into(),
            ttl_seconds,
        })
        .await
        .expect("a member token")
        .into_inner()
        .token
}

async fn each_scope_allows_exactly_its_calls(backend: Backend) {
    let keys = TestKeys::create();
    let app = TestApp::spawn_with(backend, keys.configure()).await;
    let user = unique_user("scoped");
    let other = unique_user("other");
    let mut callers: Vec<(String, Bearer)> = Scope::ALL
        .iter()
        .map(|s| (format!("{s} key"), Bearer::new(keys.credential(*s))))
        .collect();
    callers.push((
        "member token".into(),
        Bearer::new(&member_token(&app, &keys, &user, 0).await),
    ));
    callers.push((
        "another member's token".into(),
        Bearer::new(&member_token(&app, &keys, &other, 0).await),
    ));
    callers.push(("no credential".into(), Bearer::none()));

    let mut table = String::new();
    for (who, bearer) in callers {
        let mut clients = Clients::new(&app, bearer).await;
        for (rpc, scopes, member_may) in RPCS {
            let before = app.event_count().await;
            let code = call(&mut clients, rpc, &user).await;
            let allowed = match who.as_str() {
                "admin key" => true,
                "member token" => *member_may,
                "another member's token" | "no credential" => false,
                key => scopes.iter().any(|s| key == format!("{s} key")),
            };
            table += &format!("{who:>24} {rpc:<20} {code:?}\n");
            assert_eq!(
                !refused(code),
                allowed,
                "{who} calling {rpc}: {code:?}\n{table}"
            );
            if !allowed {
                let expected = if who == "no credential" {
                    Code::Unauthenticated
                } else {
                    Code::PermissionDenied
                };
                assert_eq!(code, expected, "{who} calling {rpc}");
                assert_eq!(
                    app.event_count().await,
                    before,
                    "{who} calling {rpc} appended"
                );
            }
        }
        // WhoAmI answers every credential, and nobody without one.
        let whoami = clients.auth.who_am_i(WhoAmIRequest {}).await;
        assert_eq!(
            whoami.is_ok(),
            who != "no credential",
            "{who}: WhoAmI {whoami:?}"
        );
    }
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(each_scope_allows_exactly_its_calls);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_tampered_tokens_are_unauthenticated() {
    let keys = TestKeys::create();
    let app = TestApp::spawn_with(Backend::Sqlite, keys.configure()).await;
    let user = unique_user("tokens");
    let token = member_token(&app, &keys, &user, 1).await;
    let mut tampered = token.clone();
    let at = tampered.rfind('.').expect("a JWT") + 3;
    let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, flipped);
    let mut clients = Clients::new(&app, Bearer::new(&tampered)).await;
    let code = call(&mut clients, "GetMember", &user).await;
    assert_eq!(code, Code::Unauthenticated, "a tampered token");

    let mut clients = Clients::new(&app, Bearer::new(&token)).await;
    assert_eq!(call(&mut clients, "GetMember", &user).await, Code::Ok);
    // Tokens are checked to the second: one second on, it has expired.
    eventually(
        Duration::from_secs(5),
        "the one-second token to expire",
        || {
            let mut query = clients.query.clone();
            let user = user.clone();
            async move {
                let result = query
                    .get_member(GetMemberRequest {
                        user_id: user,
                        min_version: 0,
                    })
                    .await;
                matches!(result, Err(s) if s.code() == Code::Unauthenticated).then_some(())
            }
        },
    )
    .await;
    let mut garbage = Clients::new(&app, Bearer::new("not-a-credential")).await;
    assert_eq!(
        call(&mut garbage, "GetMember", &user).await,
        Code::Unauthenticated
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_working_when_the_file_is_read_again() {
    let keys = TestKeys::create();
    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let path = keys.path.display().to_string();
    let args = role_args("serve", &database.url, None, &["--api-keys", &path]);
    let atone = Proc::start("atone serve with keys", &args).await;
    let channel = atone.channel().await;
    let mut client = CommandServiceClient::with_interceptor(
        channel,
        Bearer::new(keys.credential(Scope::Purchases)),
    );
    let user = unique_user("revoked");
    client
        .purchase(purchase(&user, 100, "before"))
        .await
        .expect("the key works");

    keys.revoke(Scope::Purchases);
    signal(atone.pid(), "-HUP");
    let who = AuthServiceClient::with_interceptor(
        atone.channel().await,
        Bearer::new(keys.credential(Scope::Purchases)),
    );
    eventually(Duration::from_secs(10), "the key to be refused", || {
        let mut who = who.clone();
        async move {
            matches!(who.who_am_i(WhoAmIRequest {}).await, Err(s) if s.code() == Code::Unauthenticated)
                .then_some(())
        }
    })
    .await;
    let status = client
        .purchase(purchase(&user, 100, "after"))
        .await
        .expect_err("a revoked key");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("not a valid API key"),
        "{status:?}"
    );
    let db = database.connect().await;
    assert_eq!(events_of_type(&db, "PurchaseCompleted").await.len(), 1);
    assert!(atone.log_contains("API keys read again"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atone_refuses_to_serve_the_network_without_authentication() {
    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let settings = atone::Settings {
        listen: "0.0.0.0:0".parse().expect("address"),
        ..atone::Settings::on_database(database.url.clone())
    };
    let refused = atone::Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("--api-keys") && message.contains("--insecure-no-auth"),
        "{message}"
    );
    let mut insecure = settings;
    insecure.auth.insecure_no_auth = true;
    let app = atone::Application::build(insecure)
        .await
        .expect("with --insecure-no-auth it starts");
    drop(app);
}

/// `atone init-auth` makes an admin key and a token secret once; atone started on them (as
/// docker-compose.yml does) takes the key and mints member tokens with the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_auth_makes_a_key_and_a_token_secret_once_and_atone_runs_on_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let auth_dir = dir.path().join("auth");
    let init = || {
        std::process::Command::new(atone_binary())
            .args(["init-auth", "--dir"])
            .arg(&auth_dir)
            .output()
            .expect("atone init-auth")
    };
    let first = init();
    assert!(first.status.success(), "{first:?}");
    let credential = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    assert!(
        credential.starts_with("admin."),
        "the credential is printed: {credential:?}"
    );
    let keys = auth_dir.join("api-keys.json");
    let secret = auth_dir.join("token-secret");
    for file in [&keys, &secret] {
        let mode = std::fs::metadata(file).expect("made").permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "{} is its owner's only",
            file.display()
        );
    }
    let keys_text = std::fs::read_to_string(&keys).expect("keys");
    let secret_part = credential
        .split_once('.')
        .map(|(_, s)| s)
        .unwrap_or_default();
    assert!(
        !keys_text.contains(secret_part),
        "the file holds a hash, not the secret"
    );
    let again = init();
    assert!(again.status.success(), "{again:?}");
    assert!(again.stdout.is_empty(), "nothing new made, nothing printed");
    assert_eq!(std::fs::read_to_string(&keys).expect("keys"), keys_text);

    let database = TestDatabase::migrated(Backend::Sqlite).await;
    let (keys, secret) = (keys.display().to_string(), secret.display().to_string());
    let args = role_args(
        "serve",
        &database.url,
        None,
        &["--api-keys", &keys, "--token-secret-file", &secret],
    );
    let atone = Proc::start("atone serve on init-auth's files", &args).await;
    let mut auth =
        AuthServiceClient::with_interceptor(atone.channel().await, Bearer::new(&credential));
    let who = auth
        .who_am_i(WhoAmIRequest {})
        .await
        .expect("the admin key")
        .into_inner();
    assert_eq!(
        (who.kind.as_str(), who.scopes),
        ("api-key", vec!["admin".to_owned()])
    );
    let token = auth
        .issue_member_token(IssueMemberTokenRequest {
            user_id: "init-auth-member".into(),
            ttl_seconds: 60,
        })
        .await
        .expect("a member token, signed with the secret file")
        .into_inner()
        .token;
    let mut member =
        AuthServiceClient::with_interceptor(atone.channel().await, Bearer::new(&token));
    let who = member
        .who_am_i(WhoAmIRequest {})
        .await
        .expect("the token")
        .into_inner();
    assert_eq!(
        (who.kind.as_str(), who.id.as_str()),
        ("member", "init-auth-member")
    );
}
