use anyhow::Context;
use atone::app::{self, Application, Plan};
use atone::cli::{Cli, Commands};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    atone::telemetry::init(cli.log_format);
    match cli.command {
        None => serve(cli.serve.into()).await,
        Some(Commands::Serve(args)) => serve(args.into()).await,
        Some(Commands::Command(args)) => serve(args.into()).await,
        Some(Commands::Projector(args)) => serve(args.into()).await,
        Some(Commands::Query(args)) => serve(args.into()).await,
        Some(Commands::Migrate(args)) => app::migrate(&args.database).await,
        Some(Commands::CreateStream(args)) => app::create_stream(&args).await,
        Some(Commands::Healthcheck(args)) => app::healthcheck(&args).await,
    }
}

async fn serve(plan: Plan) -> anyhow::Result<()> {
    let app = Application::build(plan)
        .await
        .context("atone could not start")?;
    app.run_until_stopped(app::shutdown_signal()).await
}
