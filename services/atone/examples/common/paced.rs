//! What the fan-out and subscriber benchmarks share: a channel, and a paced load of
//! credit-limit changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use atone_api::tonic::transport::{Channel, Endpoint};
use atone_api::v1::ChangeCreditLimitRequest;
use atone_api::v1::command_service_client::CommandServiceClient;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub async fn channel(uri: &str) -> Result<Channel> {
    Endpoint::from_shared(uri.to_owned())?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connect to {uri}"))
}

/// The load: `total` credit-limit changes at `rate` a second, round-robin over `members`,
/// from `clients` concurrent clients, with idempotency keys `<keys>-<n>`.
pub struct Paced<'a> {
    pub command: &'a str,
    pub members: &'a [String],
    pub rate: usize,
    pub total: usize,
    pub clients: usize,
    pub keys: &'a str,
}

impl Paced<'_> {
    /// Sends it; returns when each (member's index, version) was sent.
    pub async fn run(&self) -> Result<HashMap<(usize, i64), Instant>> {
        let sent = Arc::new(Mutex::new(HashMap::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let command = channel(self.command).await?;
        let mut tasks = Vec::new();
        for _ in 0..self.clients {
            let (sent, next, members) = (sent.clone(), next.clone(), self.members.to_vec());
            let mut client = CommandServiceClient::new(command.clone());
            let (rate, total, keys) = (self.rate, self.total, self.keys.to_owned());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
                    tokio::time::sleep_until(due).await;
                    let member = n % members.len();
                    let at = Instant::now();
                    let reply = client
                        .change_credit_limit(ChangeCreditLimitRequest {
                            user_id: members[member].clone(),
                            limit: 50_000 + n as i64,
                            idempotency_key: format!("{keys}-{n}"),
                        })
                        .await
                        .context("ChangeCreditLimit")?
                        .into_inner();
                    sent.lock().await.insert((member, reply.version), at);
                }
            }));
        }
        for task in tasks {
            task.await??;
        }
        let sent = std::mem::take(&mut *sent.lock().await);
        Ok(sent)
    }
}
