use std::time::Duration;

use clap::Parser;

use super::*;
use crate::settings::Settings;

#[test]
fn passwords_never_reach_the_log() {
    assert_eq!(
        redact("mysql://atone:s3cret@db:3306/atone"),
        "mysql://atone:***@db:3306/atone"
    );
    assert_eq!(
        redact("sqlite://atone.db?mode=rwc"),
        "sqlite://atone.db?mode=rwc"
    );
    assert!(!redact("mysql://u:p%40ss@h/d").contains("p%40ss"));
}

#[test]
fn a_bare_atone_serves_with_the_defaults() {
    let cli = Cli::try_parse_from(["atone"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.serve.common.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(cli.serve.common.database.url, None);
    assert_eq!(cli.serve.kinesis.stream_name, None);
    let cli = Cli::try_parse_from(["atone", "serve", "--read-wait", "250ms"]).unwrap();
    assert!(
        matches!(cli.command, Some(Commands::Serve(a)) if *a.query.read_wait == Duration::from_millis(250))
    );
}

#[test]
fn the_flags_defaults_are_the_settings_defaults() {
    let defaults = Settings::default();
    let parsed = Settings::from(Cli::try_parse_from(["atone"]).unwrap().serve);
    assert_eq!(parsed.listen, defaults.listen);
    assert_eq!(
        parsed.database.max_connections,
        defaults.database.max_connections
    );
    assert_eq!(parsed.kinesis, None);
    let (command, query, projector) = (
        parsed.command.unwrap(),
        parsed.query.unwrap(),
        parsed.projector.unwrap(),
    );
    let default_command = defaults.command.unwrap();
    assert_eq!(
        command.handler.credit_limit,
        default_command.handler.credit_limit
    );
    assert_eq!(
        command.handler.snapshot_every,
        default_command.handler.snapshot_every
    );
    assert_eq!(
        command.relay.lease_duration,
        default_command.relay.lease_duration
    );
    let default_query = defaults.query.unwrap();
    assert_eq!(query.api.max_wait, default_query.api.max_wait);
    assert_eq!(query.feed.retention, default_query.feed.retention);
    assert_eq!(query.feed.poll_interval, default_query.feed.poll_interval);
    let default_projector = defaults.projector.unwrap();
    assert_eq!(
        projector.kinesis.lease_duration,
        default_projector.kinesis.lease_duration
    );
    assert_eq!(
        projector.kinesis.max_idle_poll,
        default_projector.kinesis.max_idle_poll
    );
}

#[test]
fn each_role_takes_its_own_flags() {
    let cli = Cli::try_parse_from([
        "atone",
        "projector",
        "--stream-name",
        "s",
        "--lease-duration",
        "3s",
        "--max-idle-poll",
        "250ms",
    ])
    .unwrap();
    assert!(
        matches!(cli.command, Some(Commands::Projector(a)) if *a.lease.lease_duration == Duration::from_secs(3) && *a.lease.max_idle_poll == Duration::from_millis(250))
    );
    assert!(Cli::try_parse_from(["atone", "query", "--stream-name", "s"]).is_err());
    assert!(Cli::try_parse_from(["atone", "command", "--read-wait", "1s"]).is_err());
    let cli = Cli::try_parse_from([
        "atone",
        "command",
        "--stream-name",
        "s",
        "--relay-lease-duration",
        "4s",
    ])
    .unwrap();
    let Some(Commands::Command(args)) = cli.command else {
        panic!("atone command parses as the command role");
    };
    let settings = Settings::from(args);
    assert_eq!(
        settings.command.map(|c| c.relay.lease_duration),
        Some(Duration::from_secs(4))
    );
    assert!(settings.query.is_none() && settings.projector.is_none());
}
