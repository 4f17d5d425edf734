//! The subcommands that do one thing and exit: `migrate`, `create-stream`, `healthcheck`.

use anyhow::{Context, bail};
use atone_kinesis::{Kinesis, KinesisConfig};
use atone_storage::{DatabaseConnection, DbConfig};

use crate::cli::{ApiKeyArgs, CloseArgs, CreateStreamArgs, DatabaseArgs, HealthcheckArgs, redact};

/// Opens the database, saying where it failed to.
pub async fn open(config: &DbConfig) -> anyhow::Result<DatabaseConnection> {
    atone_storage::connect(config)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&config.url)))
}

/// `atone migrate`.
pub async fn migrate(database: &DatabaseArgs) -> anyhow::Result<()> {
    let config = database.config();
    let db = open(&config).await?;
    atone_storage::migrate(&db)
        .await
        .context("migration failed")?;
    tracing::info!(database = %redact(&config.url), "database migrated");
    Ok(())
}

/// A Kinesis client for `stream_name`. The region and credentials come from the standard
/// AWS environment; with an explicit endpoint (an emulator) and no keys in the
/// environment, placeholder keys are used, as emulators accept any.
pub async fn kinesis_client(stream_name: &str, endpoint: Option<&str>) -> anyhow::Result<Kinesis> {
    let mut config = match endpoint {
        Some(endpoint) => {
            let mut config = KinesisConfig::emulator(endpoint, stream_name);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
                config.credentials = None;
            }
            config
        }
        None => KinesisConfig::new(stream_name),
    };
    if let Some(region) = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
    {
        config.region = region;
    }
    Kinesis::connect(config)
        .await
        .with_context(|| format!("cannot set up a Kinesis client for stream {stream_name}"))
}

/// Creates the stream unless it exists, and waits until it is ACTIVE.
pub async fn ensure_stream(kinesis: &Kinesis, shards: u32) -> anyhow::Result<()> {
    if shards == 0 {
        bail!("--shards must be positive");
    }
    let stream = kinesis
        .create_stream(shards)
        .await
        .context("cannot create the stream")?;
    tracing::info!(stream = %stream.stream_name, shards = stream.open_shard_count, "stream ready");
    Ok(())
}

/// `atone create-stream`.
pub async fn create_stream(args: &CreateStreamArgs) -> anyhow::Result<()> {
    let kinesis = kinesis_client(&args.stream_name, args.kinesis_endpoint.as_deref()).await?;
    ensure_stream(&kinesis, args.shards).await
}

/// `atone close`: streams BillingService/CloseBillingPeriod and prints its progress.
pub async fn close(args: &CloseArgs) -> anyhow::Result<()> {
    use atone_api::v1::CloseBillingPeriodRequest;
    use atone_api::v1::billing_service_client::BillingServiceClient;
    let endpoint = format!("http://{}", args.addr);
    let channel = tonic::transport::Endpoint::from_shared(endpoint)?
        .connect()
        .await
        .with_context(|| format!("cannot reach atone at {}", args.addr))?;
    let mut progress = BillingServiceClient::new(channel)
        .close_billing_period(CloseBillingPeriodRequest {
            period: args.period.clone(),
        })
        .await
        .map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))?
        .into_inner();
    while let Some(p) = progress
        .message()
        .await
        .map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))?
    {
        println!(
            "{}: {}/{} members closed, {} bills issued{}",
            p.period,
            p.members_done,
            p.members_total,
            p.bills_issued,
            if p.done { " (done)" } else { "" }
        );
        if p.done {
            return Ok(());
        }
    }
    bail!("the close of {} ended before it was done", args.period)
}

/// `atone healthcheck`.
pub async fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus as Status;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{}", args.addr))?
        .connect_timeout(*args.timeout)
        .timeout(*args.timeout);
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach atone at {}", args.addr))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service.clone(),
        })
        .await
        .with_context(|| format!("health check of {} failed", args.addr))?
        .into_inner();
    match Status::try_from(response.status) {
        Ok(Status::Serving) => {
            println!("SERVING");
            Ok(())
        }
        other => bail!("{} is not serving: {other:?}", args.addr),
    }
}

/// `atone api-key`.
pub fn api_key(args: &ApiKeyArgs) -> anyhow::Result<()> {
    let (entry, credential) =
        atone_auth::new_api_key(&args.id, args.scopes.clone()).map_err(anyhow::Error::msg)?;
    match &args.file {
        Some(path) => {
            let mut file: serde_json::Value = match std::fs::read_to_string(path) {
                Ok(text) => serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a keys file", path.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    serde_json::json!({"keys": []})
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            let keys = file["keys"]
                .as_array_mut()
                .with_context(|| format!("{} has no \"keys\" list", path.display()))?;
            if keys.iter().any(|k| k["id"] == entry.id.as_str()) {
                bail!("{} already has a key {}", path.display(), entry.id);
            }
            keys.push(serde_json::to_value(&entry)?);
            std::fs::write(path, serde_json::to_string_pretty(&file)? + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "added key {} to {} (send SIGHUP to a running atone to read it)",
                entry.id,
                path.display()
            );
        }
        None => println!("{}", serde_json::to_string(&entry)?),
    }
    println!("{credential}");
    Ok(())
}
