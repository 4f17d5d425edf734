//! What the MariaDB under atone can do by itself on this machine, to read atone's figures
//! against: single-row transactions committed per second from `--connections` connections
//! (each one commit, as one command's append is), and rows per second written in
//! `--rows`-row multi-row inserts (as a projector's batch or a catch-up writes). Rows of
//! about an event's size (300 bytes) go into a table of the database given, dropped after.
//! Prints a table and one JSON line (`"scenario":"ceiling"`).
//!
//! ```sh
//! cargo run --release -p atone --example ceiling -- \
//!     --database-url mysql://atone:atone@127.0.0.1:3306/atone_bench --seconds 5
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement, Value};
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "MariaDB's own commits/s and multi-row insert rows/s, for comparison")]
struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 16)]
    connections: u32,
    /// How long each of the two measurements runs.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Rows per multi-row insert.
    #[arg(long, default_value_t = 500)]
    rows: usize,
}

const TABLE: &str = "bench_ceiling";
const PAYLOAD: usize = 300;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.rows == 0 || args.seconds <= 0.0 {
        bail!("--connections, --rows and --seconds must be positive");
    }
    let mut options = ConnectOptions::new(args.database_url.clone());
    options
        .max_connections(args.connections)
        .min_connections(args.connections)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {TABLE}"))
        .await?;
    db.execute_unprepared(&format!(
        "CREATE TABLE {TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64) NOT NULL, \
         v BLOB NOT NULL) ENGINE=InnoDB"
    ))
    .await?;
    let duration = Duration::from_secs_f64(args.seconds);
    let single = measure(&db, args.connections, duration, 1).await?;
    let multi = measure(&db, args.connections, duration, args.rows).await?;
    db.execute_unprepared(&format!("DROP TABLE {TABLE}"))
        .await?;
    println!(
        "ceiling: {single:.0} single-row commits/s and {multi:.0} rows/s in {}-row inserts, {} connections",
        args.rows, args.connections
    );
    let line = serde_json::json!({
        "scenario": "ceiling", "connections": args.connections,
        "single_row_commits_per_s": single.round(),
        "multi_row_rows": args.rows, "multi_row_rows_per_s": multi.round(),
    });
    println!("{line}");
    Ok(())
}

/// Rows per second written by `connections` tasks, each committing `rows`-row inserts in
/// a loop for `duration`.
async fn measure(
    db: &DatabaseConnection,
    connections: u32,
    duration: Duration,
    rows: usize,
) -> Result<f64> {
    let written = Arc::new(AtomicU64::new(0));
    let sql = format!(
        "INSERT INTO {TABLE} (k, v) VALUES {}",
        vec!["(?, ?)"; rows].join(", ")
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..connections {
        let (db, written, sql) = (db.clone(), written.clone(), sql.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < duration {
                let mut values: Vec<Value> = Vec::with_capacity(2 * rows);
                for _ in 0..rows {
                    values.push(format!("task-{task}-{n}").into());
                    values.push(vec![0x0Au8; PAYLOAD].into());
                    n += 1;
                }
                db.execute_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    &sql,
                    values,
                ))
                .await?;
                written.fetch_add(rows as u64, Ordering::Relaxed);
            }
            Ok::<_, sea_orm::DbErr>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(written.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
