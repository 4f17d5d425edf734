//! Load: purchase → bill → payment cycles from many concurrent clients, recording what was
//! acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::{CompletePaymentRequest, IssueImmediateBillRequest};

use crate::{Proc, eventually, purchase, unique_user};

/// What a load acknowledged.
#[derive(Debug, Default, Clone)]
pub struct Acknowledged {
    /// (user_id, version the reply answered), one per acknowledged command.
    pub replies: Vec<(String, i64)>,
    /// Commands refused or failed (and, where `retry` was set, retried).
    pub failures: usize,
}

/// Waits (at most 120 s) until the load has `n` acknowledged commands.
pub async fn wait_for_acknowledged(progress: &Mutex<Acknowledged>, n: usize) {
    eventually(
        Duration::from_secs(120),
        &format!("{n} acknowledged commands"),
        || {
            let acknowledged = progress.lock().expect("progress").replies.len();
            async move { (acknowledged >= n).then_some(()) }
        },
    )
    .await;
}

/// Runs purchase → bill → payment cycles for `members`, from `workers` concurrent clients,
/// until `commands` have been acknowledged. With `retry`, a failed command is sent again
/// with the same idempotency key until it succeeds (as a client riding out an outage
/// does); without, any failure is counted and the load goes on.
pub async fn run_load(
    command: &Proc,
    members: &[String],
    commands: usize,
    workers: usize,
    retry: bool,
    progress: Arc<Mutex<Acknowledged>>,
) {
    run_load_on(
        command.channel().await,
        members,
        commands,
        workers,
        retry,
        progress,
    )
    .await;
}

/// [`run_load`] over a channel of the caller's (e.g. through a [`TcpProxy`]).
pub async fn run_load_on(
    channel: Channel,
    members: &[String],
    commands: usize,
    workers: usize,
    retry: bool,
    progress: Arc<Mutex<Acknowledged>>,
) {
    let per_worker: Vec<Vec<String>> = (0..workers)
        .map(|w| members.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    let quota = commands.div_ceil(workers);
    let mut tasks = Vec::new();
    for (w, mine) in per_worker.into_iter().enumerate() {
        let mut client = CommandServiceClient::new(channel.clone());
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut step = 0usize;
            while done < quota {
                let user = &mine[step % mine.len()];
                step += 1;
                let key = format!("w{w}-s{step}");
                let send =
                    |c: &mut CommandServiceClient<Channel>, kind: u8, id: String, key: String| {
                        let mut c = c.clone();
                        let user = user.clone();
                        async move {
                            match kind {
                                0 => c.purchase(purchase(&user, 100, &key)).await.map(|r| {
                                    let r = r.into_inner();
                                    (r.version, r.promise_id)
                                }),
                                1 => c
                                    .issue_immediate_bill(IssueImmediateBillRequest {
                                        user_id: user,
                                        promise_id: id,
                                        amount: 100,
                                        idempotency_key: key,
                                    })
                                    .await
                                    .map(|r| {
                                        let r = r.into_inner();
                                        (r.version, r.bill_id)
                                    }),
                                _ => c
                                    .complete_payment(CompletePaymentRequest {
                                        user_id: user,
                                        bill_id: id,
                                        amount: 100,
                                        idempotency_key: key,
                                    })
                                    .await
                                    .map(|r| (r.into_inner().version, String::new())),
                            }
                        }
                    };
                let mut id = String::new();
                for kind in 0..3u8 {
                    let key = format!("{key}-{kind}");
                    loop {
                        match send(&mut client, kind, id.clone(), key.clone()).await {
                            Ok((version, next)) => {
                                progress
                                    .lock()
                                    .expect("progress")
                                    .replies
                                    .push((user.clone(), version));
                                id = next;
                                done += 1;
                                break;
                            }
                            Err(status) => {
                                progress.lock().expect("progress").failures += 1;
                                if !retry {
                                    panic!("command refused during the load: {status:?}");
                                }
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("load worker");
    }
}

pub fn members(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| unique_user(&format!("{prefix}-{i}")))
        .collect()
}
