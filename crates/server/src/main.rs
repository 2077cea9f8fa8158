use clap::Parser;

/// mimalloc: glibc malloc/free took about 2.5 % of the server's CPU under the benchmark load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use papay::cli::{Cli, LogFormat};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPAY_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let exit = papay::cli::Exit::of(papay::cli::run(cli).await);
    if let Some(line) = exit.stderr {
        eprintln!("{line}");
    }
    std::process::ExitCode::from(exit.code)
}
