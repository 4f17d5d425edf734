//! Connecting, and the stream-level calls: create, describe, reshard, list shards, delete.

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::config::{Credentials, Region};

use crate::config::KinesisConfig;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::ScalingType;
use tokio::time::Instant;
use tracing::{debug, info};

use crate::types::{Shard, StreamDescription, StreamStatus};
use crate::{KinesisError, RetryPolicy};

/// A client bound to one stream. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Kinesis {
    pub(crate) client: aws_sdk_kinesis::Client,
    pub(crate) stream_name: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) wait_timeout: Duration,
}

/// How long a resource that was just created may still be reported missing: the control
/// plane is eventually consistent (a DescribeStreamConsumer right after
/// RegisterStreamConsumer can answer ResourceNotFound, on AWS as on kinesis-mock).
pub(crate) const NOT_FOUND_GRACE: Duration = Duration::from_secs(10);

/// Pause between two polls of a state change (stream or consumer becoming ACTIVE): short
/// first, so an emulator's instant change is seen at once, then up to once a second to stay
/// well under the control-plane limits (DescribeStreamSummary: 20 per second per account).
pub(crate) fn state_poll_delay(poll: u32) -> Duration {
    Duration::from_millis(25u64.saturating_mul(1 << poll.min(6)).min(1000))
}

/// The region to talk to: the configured one, else the standard AWS chain (environment,
/// profile; for AWS also the instance metadata). An emulator takes any region, so it falls
/// back to `us-east-1` rather than asking instance metadata that is not there.
async fn region(config: &KinesisConfig) -> Result<Region, KinesisError> {
    use aws_config::environment::EnvironmentVariableRegionProvider;
    use aws_config::imds::region::ImdsRegionProvider;
    use aws_config::meta::region::RegionProviderChain;
    use aws_config::profile::ProfileFileRegionProvider;
    let chain = RegionProviderChain::first_try(config.region.clone().map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new());
    let chain = match config.endpoint {
        Some(_) => chain.or_else(Region::from_static("us-east-1")),
        None => chain.or_else(ImdsRegionProvider::builder().build()),
    };
    chain.region().await.ok_or_else(|| {
        KinesisError::invalid(
            "connect",
            "no AWS region: set AWS_REGION, or a region in the AWS profile",
        )
    })
}

impl Kinesis {
    /// Builds the SDK client. No request is made: a wrong endpoint shows on the first call.
    ///
    /// The SDK's own retries are off so that [`RetryPolicy`] is the one retry layer;
    /// [`KinesisConfig::connect_timeout`] and [`KinesisConfig::operation_timeout`] bound every
    /// attempt.
    pub async fn connect(config: KinesisConfig) -> Result<Self, KinesisError> {
        if config.stream_name.is_empty() {
            return Err(KinesisError::invalid("connect", "stream name is empty"));
        }
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.connect_timeout)
            .operation_timeout(config.operation_timeout)
            .build();
        let region = region(&config).await?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts);
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(c) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                &c.access_key_id,
                &c.secret_access_key,
                None,
                None,
                "atone-static",
            ));
        }
        let sdk_config = loader.load().await;
        info!(
            endpoint = config.endpoint.as_deref().unwrap_or("aws"),
            region = %region,
            stream = %config.stream_name,
            "kinesis client ready"
        );
        Ok(Self::from_client(
            aws_sdk_kinesis::Client::new(&sdk_config),
            config.stream_name,
            config.retry,
            config.wait_timeout,
        ))
    }

    /// Wraps an SDK client built elsewhere. Its own retry configuration is kept, so turn it
    /// off ([`RetryConfig::disabled`]) to avoid retrying twice.
    pub fn from_client(
        client: aws_sdk_kinesis::Client,
        stream_name: impl Into<String>,
        retry: RetryPolicy,
        wait_timeout: Duration,
    ) -> Self {
        Self {
            client,
            stream_name: stream_name.into(),
            retry,
            wait_timeout,
        }
    }

    /// The same connection, bound to another stream.
    pub fn with_stream(&self, stream_name: impl Into<String>) -> Self {
        Self {
            stream_name: stream_name.into(),
            ..self.clone()
        }
    }

    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// The underlying SDK client, for calls this crate does not wrap.
    pub fn sdk(&self) -> &aws_sdk_kinesis::Client {
        &self.client
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends the request `send` builds, again per the [`RetryPolicy`] while it fails
    /// transiently, and classifies what is left as a [`KinesisError`]. Every wrapped API
    /// call goes through here.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        send: F,
    ) -> Result<T, KinesisError>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        self.retry
            .run(operation, || {
                let sent = send();
                async move { sent.await.map_err(|e| KinesisError::from_sdk(operation, e)) }
            })
            .await
    }

    /// Creates the stream with `shards` provisioned shards unless it exists, then waits
    /// until it is ACTIVE. An existing stream is left as it is, whatever its shard count.
    ///
    /// [CreateStream](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html)
    pub async fn create_stream(&self, shards: u32) -> Result<StreamDescription, KinesisError> {
        const OP: &str = "CreateStream";
        let shard_count = i32::try_from(shards)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| KinesisError::invalid(OP, format!("bad shard count {shards}")))?;
        let created = self
            .call(OP, || {
                self.client
                    .create_stream()
                    .stream_name(&self.stream_name)
                    .shard_count(shard_count)
                    .send()
            })
            .await;
        match created {
            Ok(_) => info!(stream = %self.stream_name, shards, "stream created"),
            // Exists already (or is being created by someone else): wait for it below.
            Err(KinesisError::ResourceInUse { .. }) => {
                debug!(stream = %self.stream_name, "stream exists")
            }
            Err(e) => return Err(e),
        }
        self.wait_for_status(OP, StreamStatus::Active).await
    }

    /// Status and size of the stream.
    ///
    /// [DescribeStreamSummary](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html)
    pub async fn describe(&self) -> Result<StreamDescription, KinesisError> {
        const OP: &str = "DescribeStreamSummary";
        let out = self
            .call(OP, || {
                self.client
                    .describe_stream_summary()
                    .stream_name(&self.stream_name)
                    .send()
            })
            .await?;
        let s = out
            .stream_description_summary()
            .ok_or_else(|| KinesisError::unexpected(OP, "no StreamDescriptionSummary in answer"))?;
        Ok(StreamDescription {
            stream_name: s.stream_name().to_owned(),
            stream_arn: s.stream_arn().to_owned(),
            status: StreamStatus::from(s.stream_status()),
            open_shard_count: u32::try_from(s.open_shard_count()).unwrap_or(0),
            retention_period_hours: s.retention_period_hours(),
        })
    }

    /// Reshards to `target` open shards with uniform scaling, then waits until the stream
    /// is ACTIVE again. The old shards stay, closed, until their records expire; each new
    /// shard names its parent (see [`Kinesis::list_shards`]).
    ///
    /// [UpdateShardCount](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html)
    pub async fn update_shard_count(&self, target: u32) -> Result<StreamDescription, KinesisError> {
        const OP: &str = "UpdateShardCount";
        let target_count = i32::try_from(target)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| KinesisError::invalid(OP, format!("bad shard count {target}")))?;
        self.call(OP, || {
            self.client
                .update_shard_count()
                .stream_name(&self.stream_name)
                .target_shard_count(target_count)
                .scaling_type(ScalingType::UniformScaling)
                .send()
        })
        .await?;
        info!(stream = %self.stream_name, target, "shard count update requested");
        self.wait_for_status(OP, StreamStatus::Active).await
    }

    /// Every shard of the stream, open and closed (within the retention period), following
    /// `NextToken` through all pages.
    ///
    /// [ListShards](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListShards.html)
    pub async fn list_shards(&self) -> Result<Vec<Shard>, KinesisError> {
        const OP: &str = "ListShards";
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let token = next_token.clone();
            let page = self
                .call(OP, || {
                    // StreamName and NextToken are mutually exclusive.
                    let request = match &token {
                        Some(t) => self.client.list_shards().next_token(t),
                        None => self.client.list_shards().stream_name(&self.stream_name),
                    };
                    request.send()
                })
                .await?;
            shards.extend(page.shards().iter().map(Shard::from_sdk));
            match page.next_token() {
                Some(t) if !t.is_empty() && !page.shards().is_empty() => {
                    next_token = Some(t.to_owned());
                }
                _ => return Ok(shards),
            }
        }
    }

    /// Deletes the stream (and its fan-out consumers) and waits until it is gone. A stream
    /// that does not exist counts as deleted.
    ///
    /// [DeleteStream](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DeleteStream.html)
    pub async fn delete_stream(&self) -> Result<(), KinesisError> {
        const OP: &str = "DeleteStream";
        let deleted = self
            .call(OP, || {
                self.client
                    .delete_stream()
                    .stream_name(&self.stream_name)
                    .enforce_consumer_deletion(true)
                    .send()
            })
            .await;
        match deleted {
            Ok(_) | Err(KinesisError::ResourceNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let deadline = Instant::now() + self.wait_timeout;
        let mut poll = 0;
        loop {
            match self.describe().await {
                Err(KinesisError::ResourceNotFound { .. }) => {
                    info!(stream = %self.stream_name, "stream deleted");
                    return Ok(());
                }
                Err(e) => return Err(e),
                Ok(d) if Instant::now() >= deadline => {
                    return Err(KinesisError::WaitTimedOut {
                        operation: OP,
                        message: format!("stream {} still {:?}", self.stream_name, d.status),
                    });
                }
                Ok(_) => tokio::time::sleep(state_poll_delay(poll)).await,
            }
            poll += 1;
        }
    }

    /// Polls DescribeStreamSummary until the stream has `status` (SDK waiters sleep 10 s
    /// or more between polls; this starts at 25 ms).
    async fn wait_for_status(
        &self,
        operation: &'static str,
        status: StreamStatus,
    ) -> Result<StreamDescription, KinesisError> {
        let started = Instant::now();
        let deadline = started + self.wait_timeout;
        let mut poll = 0;
        loop {
            let d = match self.describe().await {
                Ok(d) => d,
                // Just created: Kinesis (and kinesis-mock) may not list it for a moment.
                Err(KinesisError::ResourceNotFound { .. })
                    if started.elapsed() < NOT_FOUND_GRACE =>
                {
                    debug!(stream = %self.stream_name, "stream not visible yet");
                    tokio::time::sleep(state_poll_delay(poll)).await;
                    poll += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if d.status == status {
                return Ok(d);
            }
            if Instant::now() >= deadline {
                return Err(KinesisError::WaitTimedOut {
                    operation,
                    message: format!(
                        "stream {} is {:?}, not {:?}, after {:?}",
                        self.stream_name, d.status, status, self.wait_timeout
                    ),
                });
            }
            debug!(stream = %self.stream_name, status = ?d.status, "waiting for stream status");
            tokio::time::sleep(state_poll_delay(poll)).await;
            poll += 1;
        }
    }
}
