//! One member, a long history: does the state stay bounded? Runs purchase → immediate bill
//! → payment cycles for a single member against atone in this process (the embedded
//! deployment, on SQLite or the local MariaDB) and prints, per window of commands, the
//! command latency and the size of the member's snapshot and of the idempotency-key table.
//!
//! ```sh
//! cargo run --release -p atone --example one_member -- --commands 10000
//! ATONE_TEST_MYSQL_URL=mysql://atone:atone@127.0.0.1:3306 \
//!     cargo run --release -p atone --example one_member -- --commands 10000 --mariadb
//! ```

use std::time::Instant;

use anyhow::{Context, Result};
use atone_api::v1::{CompletePaymentRequest, IssueImmediateBillRequest};
use atone_storage::entity::snapshots;
use atone_storage::idempotency;
use atone_testkit::{Backend, TestApp, purchase};
use clap::Parser;
use sea_orm::EntityTrait;

#[derive(Parser, Debug)]
#[command(about = "One member's long history: latency and state size per window")]
struct Args {
    /// Commands in all (3 per purchase → bill → payment cycle).
    #[arg(long, default_value_t = 10_000)]
    commands: usize,
    /// Commands per reported window.
    #[arg(long, default_value_t = 1_000)]
    window: usize,
    /// On the local MariaDB (ATONE_TEST_MYSQL_URL) instead of SQLite.
    #[arg(long)]
    mariadb: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let backend = if args.mariadb {
        Backend::MariaDb
    } else {
        Backend::Sqlite
    };
    let app = TestApp::spawn(backend).await;
    let mut command = app.command().await;
    let user = "one-member";
    let mut latencies = Vec::with_capacity(args.window);
    println!("| commands | p50 ms | p99 ms | snapshot bytes | keys kept |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let mut done = 0;
    let mut cycle = 0;
    while done < args.commands {
        cycle += 1;
        let key = |step: &str| format!("{step}-{cycle}");
        let started = Instant::now();
        let bought = command
            .purchase(purchase(user, 1000, &key("buy")))
            .await
            .context("purchase")?
            .into_inner();
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
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
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
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
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        done += 3;
        if latencies.len() >= args.window || done >= args.commands {
            let snapshot = snapshots::Entity::find_by_id(user.to_owned())
                .one(&app.db)
                .await?
                .map_or(0, |s| s.state.to_string().len());
            let keys = idempotency::count(&app.db).await?;
            latencies.sort_by(f64::total_cmp);
            let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
            println!(
                "| {done} | {:.2} | {:.2} | {snapshot} | {keys} |",
                at(0.5),
                at(0.99)
            );
            latencies.clear();
        }
    }
    app.stop().await;
    Ok(())
}
