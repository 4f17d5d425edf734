//! The AWS region comes from the standard chain: the environment, then the AWS profile (an
//! emulator, which takes any region, falls back to us-east-1).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The region `atone create-stream` sets its Kinesis client up with, given `env`.
async fn region_with(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atone"));
    command
        .args([
            "create-stream",
            "--stream-name",
            "region-probe",
            "--shards",
            "1",
        ])
        // Nothing listens there: the client is set up, then the first call fails.
        .args(["--kinesis-endpoint", "http://127.0.0.1:9"])
        .args(["--log-format", "json"])
        .env("RUST_LOG", "info")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start atone");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if json["fields"]["message"] == "kinesis client ready" {
                return json["fields"]["region"].as_str().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("the client is set up within 20 s");
    child.start_kill().ok();
    found.expect("atone logs the region it uses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_comes_from_the_environment_then_the_profile() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[default]\nregion = ap-northeast-1\n\n[profile tokyo2]\nregion = ap-northeast-3\n",
    )
    .expect("write an AWS config");
    let config = config.display().to_string();

    assert_eq!(
        region_with(&[("AWS_REGION", "eu-west-1")]).await,
        "eu-west-1"
    );
    assert_eq!(
        region_with(&[("AWS_CONFIG_FILE", &config)]).await,
        "ap-northeast-1"
    );
    assert_eq!(
        region_with(&[("AWS_CONFIG_FILE", &config), ("AWS_PROFILE", "tokyo2")]).await,
        "ap-northeast-3"
    );
    assert_eq!(
        region_with(&[]).await,
        "us-east-1",
        "an emulator's fallback"
    );
}
