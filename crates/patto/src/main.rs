use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = patto::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PATTO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    patto::run(cli).await
}
