//! A fresh stream per test on the kinesis-mock emulator that `scripts/kinesis-emulator`
//! starts, like a fresh database per test.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use atone_kinesis::{
    Batch, Kinesis, KinesisConfig, PutOutcome, ReceivedRecord, Record, ShardReader,
};
use tokio::time::Instant;

pub const ENDPOINT_VAR: &str = "ATONE_TEST_KINESIS_ENDPOINT";

/// The emulator's endpoint. Fails the test (never skips it) when the variable is unset.
pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(e) if !e.trim().is_empty() => e,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: these tests need a running Kinesis emulator. Start one \
             with `scripts/kinesis-emulator start` (it prints the endpoint), then run \
             `{ENDPOINT_VAR}=http://127.0.0.1:4568 cargo test -p atone-kinesis`; stop it with \
             `scripts/kinesis-emulator stop`"
        ),
    }
}

/// Logs go to the test output only with `TEST_LOG=1`.
pub fn init_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "atone_kinesis=debug".into());
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .init();
        }
    });
}

pub async fn connect(endpoint: &str, stream_name: &str) -> Kinesis {
    Kinesis::connect(KinesisConfig::emulator(endpoint, stream_name))
        .await
        .expect("client config is valid")
}

/// A uniquely named stream, deleted when the value is dropped (also when the test panics).
pub struct TestStream {
    pub kinesis: Kinesis,
    endpoint: String,
}

impl TestStream {
    pub async fn create(prefix: &str, shards: u32) -> Self {
        init_logs();
        let endpoint = endpoint();
        let name = format!("atone-test-{prefix}-{}", uuid::Uuid::now_v7().simple());
        let kinesis = connect(&endpoint, &name).await;
        let d = kinesis.create_stream(shards).await.unwrap_or_else(|e| {
            panic!("cannot create stream {name} on {endpoint} (is the emulator up?): {e}")
        });
        assert_eq!(d.open_shard_count, shards);
        Self { kinesis, endpoint }
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        // Drop cannot await: delete on a runtime of our own in another thread.
        let endpoint = self.endpoint.clone();
        let name = self.kinesis.stream_name().to_owned();
        let deleted = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                connect(&endpoint, &name)
                    .await
                    .delete_stream()
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not delete test stream: {e}"),
            Err(_) => eprintln!("deleting the test stream panicked"),
        }
    }
}

/// Puts records and asserts every one was stored; returns (shard id, sequence number) per
/// record in input order.
pub async fn put_all(kinesis: &Kinesis, records: Vec<Record>) -> Vec<(String, String)> {
    let n = records.len();
    let outcomes = kinesis.put_records(records).await.expect("put_records");
    assert_eq!(outcomes.len(), n);
    outcomes
        .into_iter()
        .map(|o| match o {
            PutOutcome::Ok {
                shard_id,
                sequence_number,
            } => (shard_id, sequence_number),
            PutOutcome::Failed { code, message } => panic!("record not stored: {code} {message}"),
        })
        .collect()
}

/// Reads from `reader` until `done` says so (given everything read so far) or the deadline
/// passes; panics on the deadline.
pub async fn read_until(
    reader: &mut ShardReader,
    timeout: Duration,
    mut done: impl FnMut(&[ReceivedRecord], &Batch) -> bool,
) -> Vec<ReceivedRecord> {
    let deadline = Instant::now() + timeout;
    let mut all = Vec::new();
    loop {
        let batch = tokio::time::timeout_at(deadline, reader.next_batch())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "shard {} not read as expected within {timeout:?}: {} records so far",
                    reader.shard_id(),
                    all.len()
                )
            })
            .expect("next_batch");
        all.extend(batch.records.iter().cloned());
        if done(&all, &batch) {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "shard {} not read as expected within {timeout:?}: {} records so far",
            reader.shard_id(),
            all.len()
        );
    }
}

/// How many records went to each shard.
pub fn per_shard(placed: &[(String, String)]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (shard, _) in placed {
        *counts.entry(shard.clone()).or_default() += 1;
    }
    counts
}
