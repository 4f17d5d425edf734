//! Crash safety: `atone serve` on MariaDB is SIGKILLed in the middle of a load of purchases.
//! After a restart, every acknowledged purchase is in the read models, and the read models
//! equal a fold of the event store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::v1::command_service_client::CommandServiceClient;
use atone_storage::entity::payment_promises;
use sea_orm::EntityTrait;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_killed_atone_loses_no_acknowledged_purchase() {
    let database = TestDatabase::migrated(Backend::MariaDb).await;
    let serve = role_args("serve", &database.url, None, &[]);
    let mut child = Proc::start("atone serve", &serve).await;
    let channel = child.channel().await;

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
    child.kill().await;
    for worker in load {
        worker.await.expect("load worker");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    let mut restarted = Proc::start("atone serve, restarted", &serve).await;
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
    restarted.kill().await;
}
