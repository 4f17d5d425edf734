//! The three roles as separate processes, each serving mutual TLS: clients with a
//! certificate of the CA buy, read and check health; clients without one get nowhere.

use atone_api::v1::GetStatusRequest;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use tokio::process::Command;

use atone_testkit::*;

/// `atone healthcheck` of `service` on `port` with the client flags for `cert`.
async fn healthcheck(pki: &TestPki, port: u16, service: &str, cert: ClientCert) -> bool {
    Command::new(atone_binary())
        .args(["healthcheck", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--service", service])
        .args(pki.client_args(cert))
        .output()
        .await
        .expect("atone healthcheck")
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn command_projector_and_query_roles_serve_mutual_tls() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let pki = TestPki::create();
    let cluster = Cluster::start_with(&database, &stream, 1, "10s", &pki.server_args(true)).await;
    let (command, projector, query) = (
        cluster.command.port(),
        cluster.projectors[0].port(),
        cluster.query.port(),
    );

    let user = unique_user("mtls");
    let channel = pki
        .channel(command, ClientCert::Trusted)
        .await
        .expect("a TLS connection to the command role");
    let bought = CommandServiceClient::new(channel)
        .purchase(purchase(&user, 3000, "mtls-1"))
        .await
        .expect("a purchase over mutual TLS")
        .into_inner();
    let channel = pki
        .channel(query, ClientCert::Trusted)
        .await
        .expect("a TLS connection to the query role");
    let member = get_member_on(channel, &user, bought.version).await;
    assert_eq!(
        member.promises.len(),
        1,
        "projected through Kinesis and read over TLS"
    );
    let channel = pki
        .channel(projector, ClientCert::Trusted)
        .await
        .expect("a TLS connection to the projector role");
    let status = ProjectorServiceClient::new(channel)
        .get_status(GetStatusRequest {})
        .await
        .expect("GetStatus over mutual TLS")
        .into_inner();
    assert!(
        status.sources.iter().any(|s| s.events_applied >= 2),
        "{status:?}"
    );

    for (port, service) in [
        (command, "atone.v1.CommandService"),
        (projector, "atone.v1.ProjectorService"),
        (query, "atone.v1.QueryService"),
    ] {
        assert!(
            healthcheck(&pki, port, service, ClientCert::Trusted).await,
            "{service} healthy to a client of the CA"
        );
        for cert in [ClientCert::None, ClientCert::Stranger] {
            assert!(
                !healthcheck(&pki, port, service, cert).await,
                "{service} refuses a client with {cert:?}"
            );
            let refused = match pki.channel(port, cert).await {
                Err(_) => true,
                Ok(channel) => CommandServiceClient::new(channel)
                    .purchase(purchase(&user, 1000, "mtls-refused"))
                    .await
                    .is_err(),
            };
            assert!(refused, "{service} refuses a gRPC client with {cert:?}");
        }
    }
    let plaintext = Command::new(atone_binary())
        .args(["healthcheck", "--addr", &format!("127.0.0.1:{command}")])
        .output()
        .await
        .expect("atone healthcheck");
    assert!(!plaintext.status.success(), "a plaintext client is refused");
    cluster.stop().await;
    stream.delete().await;
}
