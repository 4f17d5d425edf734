//! `cargo run -p atone-migrations --features cli -- up|down|status|fresh -u DATABASE_URL`:
//! sea-orm's migration CLI for atone's schema. `atone migrate` does the same as `up`.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(atone_migrations::Migrator).await;
}
