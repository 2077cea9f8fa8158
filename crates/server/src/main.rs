use clap::Parser;

/// mimalloc: glibc malloc/free took about 2.5 % of the server's CPU under the benchmark load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use papay::cli::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let subscriber = papay::logging::subscriber(cli.log_format, papay::logging::filter_from_env(), std::io::stderr);
    if tracing_subscriber::util::SubscriberInitExt::try_init(subscriber).is_err() {
        eprintln!("papay: cannot install the log subscriber");
    }
    let exit = papay::cli::Exit::of(papay::cli::run(cli).await);
    if let Some(line) = exit.stderr {
        eprintln!("{line}");
    }
    std::process::ExitCode::from(exit.code)
}
