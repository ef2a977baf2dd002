use clap::Parser;

// The server allocates and frees many small buffers per request and per transition
// (statements, rows, JSON); glibc's malloc and free took about a fifth of Patto's CPU in
// the transition benchmark, mimalloc much less (docs/benchmarks/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = patto::Cli::parse();
    let serving = matches!(cli.command, patto::cli::Command::Serve { .. });
    patto::logging::init(serving, cli.global.language);
    patto::run(cli).await
}
