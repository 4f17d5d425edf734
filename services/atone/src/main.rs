use anyhow::Context;
use atone::cli::{Cli, Commands};
use atone::{Application, Settings, oneshot, remote};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = atone::telemetry::init(cli.log_format)?;
    let result = match cli.command {
        None => serve(cli.serve.into()).await,
        Some(Commands::Serve(args)) => serve(args.into()).await,
        Some(Commands::Command(args)) => serve(args.into()).await,
        Some(Commands::Projector(args)) => serve(args.into()).await,
        Some(Commands::Query(args)) => serve(args.into()).await,
        Some(Commands::Migrate(args)) => oneshot::migrate(&args.database).await,
        Some(Commands::Verify(args)) => oneshot::verify(&args.database).await,
        Some(Commands::Rebuild(args)) => oneshot::rebuild(&args).await,
        Some(Commands::CreateStream(args)) => oneshot::create_stream(&args).await,
        Some(Commands::Healthcheck(args)) => oneshot::healthcheck(&args).await,
        Some(Commands::Close(args)) => remote::close(&args).await,
        Some(Commands::DeadLetters(args)) => remote::dead_letters(&args).await,
        Some(Commands::Webhooks(args)) => atone::outgoing::cli::webhooks(&args).await,
        Some(Commands::BankDebit(args)) => remote::bank_debit(&args).await,
        Some(Commands::Events(args)) => remote::events(&args).await,
        Some(Commands::ApiKey(args)) => oneshot::api_key(&args),
        Some(Commands::InitAuth(args)) => oneshot::init_auth(&args),
    };
    telemetry.shutdown();
    result
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings)
        .await
        .context("atone could not start")?;
    app.run_until_stopped(atone::signal::shutdown_signal())
        .await
}
