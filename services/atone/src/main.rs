use anyhow::Context;
use atone::app::{self, Application};
use atone::cli::{Cli, Commands};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    atone::telemetry::init(cli.log_format);
    match cli.command {
        None => serve(cli.serve).await,
        Some(Commands::Serve(args)) => serve(args).await,
        Some(Commands::Migrate(args)) => app::migrate(&args.database).await,
    }
}

async fn serve(args: atone::cli::ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(args)
        .await
        .context("atone could not start")?;
    app.run_until_stopped(app::shutdown_signal()).await
}
