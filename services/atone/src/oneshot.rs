//! The subcommands that do one thing and exit: `migrate`, `verify`, `rebuild`, `create-stream`,
//! `healthcheck`, `api-key`, `init-auth`.

use anyhow::{Context, bail};
use atone_kinesis::{Kinesis, KinesisConfig};
use atone_storage::{DatabaseConnection, DbConfig};

use crate::cli::{
    ApiKeyArgs, ClientTlsArgs, CreateStreamArgs, DatabaseArgs, HealthcheckArgs, InitAuthArgs,
    RebuildArgs, redact,
};

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

/// `atone verify`: prints each difference between the read models and the fold of the
/// event store; an error (exit status 1) when there is one.
pub async fn verify(database: &DatabaseArgs) -> anyhow::Result<()> {
    let config = database.config();
    let db = open(&config).await?;
    let report = atone_storage::verify::verify(&db, |members| {
        tracing::info!(members, "members verified so far");
    })
    .await
    .context("cannot verify the read models")?;
    for drift in &report.drifts {
        println!("{}: {}", drift.user_id, drift.what);
    }
    for user_id in &report.set_aside {
        println!("{user_id}: not compared (it has dead letters; see atone dead-letters list)");
    }
    let drifted: std::collections::BTreeSet<&str> =
        report.drifts.iter().map(|d| d.user_id.as_str()).collect();
    println!(
        "{} verified ({}): {} in {}; {} with dead letters not compared",
        count(report.members, "member"),
        count(report.events, "event"),
        count(report.drifts.len() as u64, "difference"),
        count(drifted.len() as u64, "member"),
        count(report.set_aside.len() as u64, "member")
    );
    if report.drifts.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the read models differ from the event store for {} members (atone rebuild --member USER rebuilds one)",
            drifted.len()
        )
    }
}

/// "1 member", "2 members".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `atone rebuild [--member USER…]`: the members' (by default every member's) read models
/// afresh from the event store, in one transaction each, while atone keeps serving.
pub async fn rebuild(args: &RebuildArgs) -> anyhow::Result<()> {
    let config = args.database.config();
    let db = open(&config).await?;
    if args.members.is_empty() {
        return crate::rebuild::everyone(&db).await;
    }
    for user_id in &args.members {
        atone_domain::validate::user_id(user_id)
            .map_err(|e| anyhow::anyhow!("--member {user_id:?}: {e}"))?;
        let outcome = crate::rebuild::member(&db, user_id).await?;
        println!(
            "{user_id}: rebuilt to version {} ({} events applied{})",
            outcome.version,
            outcome.applied.len(),
            if outcome.parked.is_empty() {
                String::new()
            } else {
                format!(", {} parked as dead letters", outcome.parked.len())
            }
        );
    }
    Ok(())
}

/// A Kinesis client for `stream_name`. The region and credentials come from the standard
/// AWS environment; with an explicit endpoint (an emulator) and no keys in the
/// environment, placeholder keys are used, as emulators accept any.
pub async fn kinesis_client(stream_name: &str, endpoint: Option<&str>) -> anyhow::Result<Kinesis> {
    let config = match endpoint {
        Some(endpoint) => {
            let mut config = KinesisConfig::emulator(endpoint, stream_name);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
                config.credentials = None;
            }
            config
        }
        None => KinesisConfig::new(stream_name),
    };
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

/// The endpoint of a running atone at `addr`, over TLS when given a CA.
pub(crate) fn endpoint(
    addr: std::net::SocketAddr,
    tls: &ClientTlsArgs,
) -> anyhow::Result<tonic::transport::Endpoint> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let Some(ca) = &tls.ca_cert else {
        return Ok(Endpoint::from_shared(format!("http://{addr}"))?);
    };
    crate::server::install_crypto_provider();
    let read = |path: &std::path::PathBuf| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
    if let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) {
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Endpoint::from_shared(format!("https://{addr}"))?.tls_config(config)?)
}

/// `atone healthcheck`.
pub async fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus as Status;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let endpoint = endpoint(args.addr, &args.tls)?
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

/// `atone init-auth`: an admin key and a token secret in `dir`, each made only if missing
/// (so a container can run it on every start). Files are readable by their owner only.
pub fn init_auth(args: &InitAuthArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let keys = args.dir.join("api-keys.json");
    if keys.exists() {
        eprintln!("{} exists; left as it is", keys.display());
    } else {
        let (entry, credential) =
            atone_auth::new_api_key(&args.admin_id, vec![atone_auth::Scope::Admin])
                .map_err(anyhow::Error::msg)?;
        let file = serde_json::json!({ "keys": [entry] });
        write_private(&keys, &(serde_json::to_string_pretty(&file)? + "\n"))?;
        eprintln!(
            "made {} with the admin key {}; its credential (shown once):",
            keys.display(),
            args.admin_id
        );
        println!("{credential}");
    }
    let secret = args.dir.join("token-secret");
    if secret.exists() {
        eprintln!("{} exists; left as it is", secret.display());
    } else {
        write_private(
            &secret,
            &(atone_auth::new_secret().map_err(anyhow::Error::msg)? + "\n"),
        )?;
        eprintln!("made {}", secret.display());
    }
    Ok(())
}

/// Writes a new file only its owner may read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
