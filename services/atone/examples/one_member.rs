//! One member, a long history: does the state stay bounded, and does the member answer as
//! fast as a new one? Runs purchase → immediate bill → payment cycles for a single member
//! against atone in this process (the embedded deployment, on SQLite or the local MariaDB)
//! and prints, per window of commands, the command latency and the size of the member's
//! snapshot and of the idempotency-key table. Then it runs a window of cycles alternating
//! between that member and new members (each cycle a member never seen before), and prints
//! both p50s as a JSON line (`"scenario":"history"`).
//!
//! ```sh
//! cargo run --release -p atone --example one_member -- --commands 7500   # 10,000 events
//! ATONE_TEST_MYSQL_URL=mysql://atone:atone@127.0.0.1:3306 \
//!     cargo run --release -p atone --example one_member -- --commands 7500 --mariadb
//! ```

use std::time::Instant;

use anyhow::{Context, Result, bail};
use atone_api::tonic::transport::Channel;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::{CompletePaymentRequest, IssueImmediateBillRequest};
use atone_storage::entity::{events, snapshots};
use atone_storage::idempotency;
use atone_testkit::{Backend, TestApp, purchase};
use clap::Parser;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[derive(Parser, Debug)]
#[command(about = "One member's long history: latency and state size per window")]
struct Args {
    /// Commands in all (3 per purchase → bill → payment cycle, 4 events).
    #[arg(long, default_value_t = 7_500)]
    commands: usize,
    /// Commands per reported window, and in the comparison with new members.
    #[arg(long, default_value_t = 1_000)]
    window: usize,
    /// On the local MariaDB (ATONE_TEST_MYSQL_URL) instead of SQLite.
    #[arg(long)]
    mariadb: bool,
}

const USER: &str = "one-member";

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.commands < 3 || args.window < 3 {
        bail!("--commands and --window must be at least 3");
    }
    let backend = if args.mariadb {
        Backend::MariaDb
    } else {
        Backend::Sqlite
    };
    let app = TestApp::spawn(backend).await;
    let mut command = app.command().await;
    let mut latencies = Vec::with_capacity(args.window);
    println!("| commands | p50 ms | p99 ms | snapshot bytes | keys kept |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let mut done = 0;
    let mut cycle = 0;
    while done < args.commands {
        cycle += 1;
        latencies.extend(run_cycle(&mut command, USER, cycle).await?);
        done += 3;
        if latencies.len() >= args.window || done >= args.commands {
            let snapshot = snapshots::Entity::find_by_id(USER.to_owned())
                .one(&app.db)
                .await?
                .map_or(0, |s| s.state.to_string().len());
            let keys = idempotency::count(&app.db).await?;
            let (p50, p99) = (
                percentile(&mut latencies, 0.5),
                percentile(&mut latencies, 0.99),
            );
            println!("| {done} | {p50:.2} | {p99:.2} | {snapshot} | {keys} |");
            latencies.clear();
        }
    }

    // The same commands, one cycle of the long-lived member, one of a new member, in turn.
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for i in 0..args.window.div_ceil(6) {
        cycle += 1;
        old.extend(run_cycle(&mut command, USER, cycle).await?);
        new.extend(run_cycle(&mut command, &format!("new-member-{i}"), cycle).await?);
    }
    let history = events::Entity::find()
        .filter(events::Column::UserId.eq(USER))
        .count(&app.db)
        .await?;
    let (old_p50, new_p50) = (percentile(&mut old, 0.5), percentile(&mut new, 0.5));
    println!(
        "a member with {history} events answers at p50 {old_p50:.2} ms, a new member at {new_p50:.2} ms"
    );
    let line = serde_json::json!({
        "scenario": "history", "backend": if args.mariadb { "mariadb" } else { "sqlite" },
        "events": history, "history_p50_ms": old_p50, "new_member_p50_ms": new_p50,
        "ratio": old_p50 / new_p50,
    });
    println!("{line}");
    app.stop().await;
    Ok(())
}

/// One purchase → immediate bill → payment cycle of `user`: each command's latency in ms.
async fn run_cycle(
    command: &mut CommandServiceClient<Channel>,
    user: &str,
    cycle: usize,
) -> Result<[f64; 3]> {
    let key = |step: &str| format!("{step}-{cycle}");
    let started = Instant::now();
    let bought = command
        .purchase(purchase(user, 1000, &key("buy")))
        .await
        .context("purchase")?
        .into_inner();
    let buy = started.elapsed();
    let started = Instant::now();
    let bill = command
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.to_owned(),
            promise_id: bought.promise_id,
            amount: 0,
            idempotency_key: key("bill"),
        })
        .await
        .context("bill")?
        .into_inner();
    let billed = started.elapsed();
    let started = Instant::now();
    command
        .complete_payment(CompletePaymentRequest {
            user_id: user.to_owned(),
            bill_id: bill.bill_id,
            amount: 1000,
            idempotency_key: key("pay"),
        })
        .await
        .context("payment")?;
    let paid = started.elapsed();
    Ok([buy, billed, paid].map(|d| d.as_secs_f64() * 1000.0))
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}
