use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = patto::Cli::parse();
    let serving = matches!(cli.command, patto::cli::Command::Serve { .. });
    patto::logging::init(serving, cli.global.language);
    patto::run(cli).await
}
