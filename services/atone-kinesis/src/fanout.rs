//! Enhanced fan-out: a registered consumer gets each shard's records pushed over a
//! SubscribeToShard event stream, with its own 2 MB/s per shard instead of sharing the
//! 5 GetRecords calls per second of polling consumers.

use std::time::Duration;

use aws_sdk_kinesis::types::ConsumerStatus;
use tokio::time::Instant;
use tracing::{debug, info};

use crate::client::{NOT_FOUND_GRACE, state_poll_delay};
use crate::subscription::ShardSubscription;
use crate::types::{Consumer, Start};
use crate::{Kinesis, KinesisError};

/// AWS allows one SubscribeToShard call per second per consumer and shard.
pub(crate) const SUBSCRIBE_INTERVAL: Duration = Duration::from_secs(1);

/// How often an idle subscription asks ListShards whether its shard has been closed, for
/// services that do not send `ChildShards` on fan-out (see [`ShardSubscription`]).
pub const CLOSED_CHECK_INTERVAL: Duration = Duration::from_secs(5);

impl Kinesis {
    /// Registers an enhanced fan-out consumer on the stream (or finds the one of that name)
    /// and waits until it is ACTIVE.
    ///
    /// [RegisterStreamConsumer](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html),
    /// [DescribeStreamConsumer](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamConsumer.html)
    pub async fn register_consumer(&self, name: &str) -> Result<Consumer, KinesisError> {
        const OP: &str = "RegisterStreamConsumer";
        let stream_arn = self.describe().await?.stream_arn;
        let registered = self
            .call(OP, || {
                self.client
                    .register_stream_consumer()
                    .stream_arn(&stream_arn)
                    .consumer_name(name)
                    .send()
            })
            .await;
        match registered {
            Ok(_) => info!(stream = %self.stream_name, consumer = name, "consumer registered"),
            Err(KinesisError::ResourceInUse { .. }) => {
                debug!(stream = %self.stream_name, consumer = name, "consumer exists")
            }
            Err(e) => return Err(e),
        }
        let started = Instant::now();
        let deadline = started + self.wait_timeout;
        let mut poll = 0;
        loop {
            let consumer = match self.describe_consumer(&stream_arn, name).await {
                Ok(c) => c,
                Err(KinesisError::ResourceNotFound { .. })
                    if started.elapsed() < NOT_FOUND_GRACE =>
                {
                    debug!(stream = %self.stream_name, consumer = name, "consumer not visible yet");
                    tokio::time::sleep(state_poll_delay(poll)).await;
                    poll += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if consumer.status == ConsumerStatus::Active.as_str() {
                return Ok(consumer);
            }
            if Instant::now() >= deadline {
                return Err(KinesisError::WaitTimedOut {
                    operation: OP,
                    message: format!("consumer {name} is {}, not ACTIVE", consumer.status),
                });
            }
            tokio::time::sleep(state_poll_delay(poll)).await;
            poll += 1;
        }
    }

    /// [DescribeStreamConsumer](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamConsumer.html)
    async fn describe_consumer(
        &self,
        stream_arn: &str,
        name: &str,
    ) -> Result<Consumer, KinesisError> {
        const OP: &str = "DescribeStreamConsumer";
        let out = self
            .call(OP, || {
                self.client
                    .describe_stream_consumer()
                    .stream_arn(stream_arn)
                    .consumer_name(name)
                    .send()
            })
            .await?;
        let d = out
            .consumer_description()
            .ok_or_else(|| KinesisError::unexpected(OP, "no ConsumerDescription in answer"))?;
        Ok(Consumer {
            consumer_name: d.consumer_name().to_owned(),
            consumer_arn: d.consumer_arn().to_owned(),
            status: d.consumer_status().as_str().to_owned(),
        })
    }

    /// Removes a fan-out consumer; one that does not exist counts as removed.
    ///
    /// [DeregisterStreamConsumer](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DeregisterStreamConsumer.html)
    pub async fn deregister_consumer(&self, consumer_arn: &str) -> Result<(), KinesisError> {
        const OP: &str = "DeregisterStreamConsumer";
        let result = self
            .call(OP, || {
                self.client
                    .deregister_stream_consumer()
                    .consumer_arn(consumer_arn)
                    .send()
            })
            .await;
        match result {
            Ok(_) | Err(KinesisError::ResourceNotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Records of `shard_id` pushed to the fan-out consumer `consumer_arn`, from `start`.
    ///
    /// The first SubscribeToShard call is made here, so a missing consumer or shard is
    /// reported at once. A subscription lasts at most five minutes; the returned
    /// [`ShardSubscription`] subscribes again when one ends, after the last sequence number
    /// it handed out.
    ///
    /// [SubscribeToShard](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_SubscribeToShard.html)
    pub async fn subscribe_to_shard(
        &self,
        consumer_arn: &str,
        shard_id: &str,
        start: Start,
    ) -> Result<ShardSubscription, KinesisError> {
        let mut sub = ShardSubscription::new(self.clone(), consumer_arn, shard_id, start);
        sub.ensure_subscribed().await?;
        Ok(sub)
    }
}
