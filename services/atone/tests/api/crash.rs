//! Crash safety: `atone serve` on MariaDB is SIGKILLed in the middle of a load of purchases.
//! After a restart, every acknowledged purchase is in the read models, and the read models
//! equal a fold of the event store.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_storage::entity::payment_promises;
use sea_orm::EntityTrait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

/// `atone serve` as a child process, and the address it listens on.
async fn start_atone(database_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atone"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            database_url,
        ])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start atone");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(log) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if log["fields"]["message"] == "atone serving" {
                return log["fields"]["addr"].as_str().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("atone reports its address within 30 s")
    .expect("atone starts serving");
    // Keep draining its log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_atone_loses_no_acknowledged_purchase() {
    let database = TestDatabase::migrated(Backend::MariaDb).await;
    let (mut child, addr) = start_atone(&database.url).await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");

    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let users: Vec<String> = (0..10)
        .map(|i| unique_user(&format!("crash-{i}")))
        .collect();
    let mut load = Vec::new();
    for worker in 0..8 {
        let mut client = CommandServiceClient::new(channel.clone());
        let acknowledged = acknowledged.clone();
        let users = users.clone();
        load.push(tokio::spawn(async move {
            for n in 0.. {
                let user = &users[(worker + n) % users.len()];
                let request = purchase(user, 10, &format!("w{worker}-n{n}"));
                match client.purchase(request).await {
                    Ok(reply) => acknowledged
                        .lock()
                        .expect("lock")
                        .push((user.clone(), reply.into_inner().promise_id)),
                    // The server is gone: whatever was in flight was never acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }

    eventually(
        Duration::from_secs(60),
        "150 acknowledged purchases",
        || {
            let count = acknowledged.lock().expect("lock").len();
            async move { (count >= 150).then_some(()) }
        },
    )
    .await;
    child.start_kill().expect("SIGKILL atone");
    child.wait().await.expect("atone exits");
    for worker in load {
        worker.await.expect("load worker");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    let (mut restarted, _) = start_atone(&database.url).await;
    let db = database.connect().await;
    wait_until_projected(&db).await;

    let promises: std::collections::HashMap<String, String> = payment_promises::Entity::find()
        .all(&db)
        .await
        .expect("promises")
        .into_iter()
        .map(|p| (p.id, p.user_id))
        .collect();
    for (user, promise_id) in &acknowledged {
        assert_eq!(
            promises.get(promise_id),
            Some(user),
            "acknowledged promise {promise_id} of {user} is in the read model"
        );
    }
    assert!(promises.len() >= acknowledged.len());
    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    restarted.start_kill().expect("stop atone");
    restarted.wait().await.ok();
}
