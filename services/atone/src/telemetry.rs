use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Logs to stderr, filtered by `RUST_LOG` (default: info for atone, warnings for the rest).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,atone=info,atone_command=info,atone_projector=info,atone_query=info,atone_storage=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
