//! Where and how to reach Kinesis.

use std::time::Duration;

use crate::RetryPolicy;

/// Where and how to reach Kinesis, and which stream this client works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisConfig {
    /// `http://127.0.0.1:4568` for the emulator; `None` for the AWS endpoint of the region.
    pub endpoint: Option<String>,
    /// `None`: the standard AWS chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile,
    /// then, for AWS, the instance metadata); an emulator falls back to `us-east-1`.
    pub region: Option<String>,
    pub stream_name: String,
    /// Static keys instead of the standard AWS chain (environment `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY`, profile, web identity, container or instance role). An
    /// emulator accepts any keys; without this, the chain must find some.
    pub credentials: Option<StaticCredentials>,
    /// Retries on throttling and unavailability, for every call.
    pub retry: RetryPolicy,
    /// TCP connect timeout: what makes a stopped endpoint fail fast instead of hanging.
    pub connect_timeout: Duration,
    /// The longest one call may take, including reading the response.
    pub operation_timeout: Duration,
    /// How long [`Kinesis::create_stream`], [`Kinesis::update_shard_count`],
    /// [`Kinesis::delete_stream`] and [`Kinesis::register_consumer`] wait for the change to
    /// complete. Real Kinesis takes seconds to minutes for these.
    pub wait_timeout: Duration,
}

/// An access key pair given directly rather than found by the AWS credential chain.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

impl KinesisConfig {
    /// The defaults for `stream_name`: AWS endpoint, the standard region and credentials.
    pub fn new(stream_name: impl Into<String>) -> Self {
        Self {
            endpoint: None,
            region: None,
            stream_name: stream_name.into(),
            credentials: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(20),
            wait_timeout: Duration::from_secs(300),
        }
    }

    /// Talk to an emulator at `endpoint` with placeholder credentials.
    pub fn emulator(endpoint: impl Into<String>, stream_name: impl Into<String>) -> Self {
        Self {
            endpoint: Some(endpoint.into()),
            credentials: Some(StaticCredentials {
                access_key_id: "test".to_owned(),
                secret_access_key: "test".to_owned(),
            }),
            ..Self::new(stream_name)
        }
    }
}
