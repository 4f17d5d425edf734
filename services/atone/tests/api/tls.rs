//! TLS on the one port (gRPC, the page and the webhook), mutual TLS, and TLS to MySQL.

use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::*;
use atone_testkit::*;
use tokio::process::Command;

async fn get_member_over(channel: Channel, user: &str) -> Result<Member, atone_api::tonic::Status> {
    QueryServiceClient::new(channel)
        .get_member(GetMemberRequest {
            user_id: user.into(),
            min_version: 0,
        })
        .await
        .map(|r| r.into_inner().member.unwrap_or_default())
}

/// Whether a client presenting `cert` gets an answer from the atone on `port`.
async fn served(pki: &TestPki, port: u16, cert: ClientCert) -> bool {
    match pki.channel(port, cert).await {
        Ok(channel) => get_member_over(channel, "tls-probe").await.is_ok(),
        Err(_) => false,
    }
}

/// curl's HTTP status for `url`, asked again while no HTTP answer comes, until a deadline:
/// under a loaded machine one attempt can time out before the handshake ends, which is not
/// the answer the test is after.
async fn curl_answer(args: &[&str], url: &str) -> u16 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = curl_status(args, url).await;
        if status != 0 || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// curl's HTTP status for `url` (0 when no HTTP answer came at all).
async fn curl_status(args: &[&str], url: &str) -> u16 {
    let output = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(args)
        .arg(url)
        .output()
        .await
        .expect("curl");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_grpc_the_page_and_the_webhook_and_refuses_plaintext() {
    let pki = TestPki::create();
    let app =
        TestApp::spawn_with(Backend::Sqlite, |s| s.server.tls = Some(pki.server(false))).await;
    let port = app.addr.port();
    assert!(served(&pki, port, ClientCert::None).await, "gRPC over TLS");

    let plaintext = Channel::from_shared(app.endpoint())
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await;
    let refused = match plaintext {
        Err(_) => true,
        Ok(channel) => get_member_over(channel, "tls-probe").await.is_err(),
    };
    assert!(refused, "a plaintext gRPC client is refused");

    let ca = pki.path("ca.pem").display().to_string();
    let https = format!("https://127.0.0.1:{port}");
    assert_eq!(
        curl_answer(&["--cacert", &ca], &format!("{https}/")).await,
        200,
        "the page"
    );
    assert_eq!(
        curl_answer(
            &["--cacert", &ca, "-X", "POST", "-d", "{}"],
            &format!("{https}/webhooks/payments")
        )
        .await,
        401,
        "the webhook, over TLS, refuses an unsigned body"
    );
    assert_eq!(
        curl_status(&[], &format!("http://127.0.0.1:{port}/")).await,
        0,
        "plaintext HTTP gets no answer"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_serves_only_clients_with_a_certificate_of_its_ca() {
    let pki = TestPki::create();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.server.tls = Some(pki.server(true))).await;
    let port = app.addr.port();
    assert!(
        served(&pki, port, ClientCert::Trusted).await,
        "a client of the CA"
    );
    assert!(
        !served(&pki, port, ClientCert::None).await,
        "no certificate"
    );
    assert!(
        !served(&pki, port, ClientCert::Stranger).await,
        "another CA's certificate"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn the_database_url_s_tls_options_are_honoured_for_mysql() {
    let pki = TestPki::create();
    let mariadb = PrivateMariaDb::start_tls_only(&pki).await;
    let ca = pki.path("ca.pem").display().to_string();
    let verified = format!("{}?ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}", mariadb.url());

    let app = TestApp::spawn_on(TestDatabase::at(verified), |s| s.migrate = true).await;
    let bought = buy(&app, &unique_user("tls-db"), 1000).await;
    assert!(bought.version > 0);
    let cipher: Option<String> = sea_orm::ConnectionTrait::query_one_raw(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::MySql,
            "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
        ),
    )
    .await
    .expect("Ssl_cipher")
    .and_then(|row| row.try_get_by_index::<String>(1).ok());
    assert!(
        cipher.as_deref().is_some_and(|c| !c.is_empty()),
        "the connection is encrypted: {cipher:?}"
    );
    app.stop().await;

    // A CA that did not sign the server's certificate: the connection is not trusted.
    let stranger = pki.path("stranger.pem").display().to_string();
    let untrusted = format!(
        "{}?ssl-mode=VERIFY_IDENTITY&ssl-ca={stranger}",
        mariadb.url()
    );
    assert_does_not_start(&untrusted).await;
    // Without TLS the server (require_secure_transport) refuses the connection.
    assert_does_not_start(&format!("{}?ssl-mode=DISABLED", mariadb.url())).await;
}

async fn assert_does_not_start(database_url: &str) {
    let started = atone::Application::build(atone::Settings::on_database(database_url)).await;
    let error = started.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(
        error.contains("cannot open the database"),
        "atone does not start on {database_url}: {error}"
    );
}

/// ALPN offers `http/1.1` beside `h2`: an HTTP/1.1 client (a provider's webhook sender,
/// `curl --http1.1`) connects over TLS, and gRPC still negotiates HTTP/2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_http_1_1_clients_too() {
    let pki = TestPki::create();
    let app =
        TestApp::spawn_with(Backend::Sqlite, |s| s.server.tls = Some(pki.server(false))).await;
    let port = app.addr.port();
    let ca = pki.path("ca.pem").display().to_string();
    let https = format!("https://127.0.0.1:{port}");
    assert_eq!(
        curl_answer(&["--http1.1", "--cacert", &ca], &format!("{https}/")).await,
        200,
        "the page over HTTP/1.1"
    );
    assert_eq!(
        curl_answer(
            &["--http1.1", "--cacert", &ca, "-X", "POST", "-d", "{}"],
            &format!("{https}/webhooks/payments")
        )
        .await,
        401,
        "the webhook over HTTP/1.1 answers (and refuses an unsigned body)"
    );
    let version = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--max-time",
            "10",
        ])
        .args(["--http2", "--cacert", &ca])
        .arg(format!("{https}/"))
        .output()
        .await
        .expect("curl");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        "2",
        "h2 when asked"
    );
    assert!(served(&pki, port, ClientCert::None).await, "gRPC over TLS");
    app.stop().await;
}
