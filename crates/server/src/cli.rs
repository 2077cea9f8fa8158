//! The `papay` command line: `serve`, `keys generate`, and the test-control commands
//! `simulate …`, `clock …` (`cli/control.rs`) and `notifications …` (`cli/notifications.rs`),
//! over the HTTP client in `cli/control_client.rs`.

mod control;
mod control_client;
#[cfg(test)]
mod control_tests;
mod notifications;
#[cfg(test)]
mod notifications_tests;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Overrides, Settings};
use crate::provision::credentials::{CredentialSet, Identity};
use crate::App;
pub use control::{ClockArgs, SimulateArgs};
pub use control_client::ControlError;
pub use notifications::NotificationsArgs;

#[derive(Debug, Parser)]
#[command(
    name = "papay",
    version,
    about = "A WeChat Pay-compatible auto-debit (papay) sandbox"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (embedded SQLite and a demo merchant unless told otherwise).
    Serve(ServeArgs),
    /// Manage credentials.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Play the WeChat user through the control API: agree, decline, expire, terminate.
    Simulate(SimulateArgs),
    /// Read and move a merchant's virtual clock through the control API.
    Clock(ClockArgs),
    /// Read the notification delivery log; resend a notification; pause or resume deliveries.
    Notifications(NotificationsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A papay.toml describing merchants and plans (without it, a demo merchant is made).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Directory for the database and the demo credentials [default: ./papay-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Database URL instead of the embedded SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Base URL of the links papay hands out [default: the listen address].
    #[arg(long)]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a fresh credential set (merchant and platform keys and certificates, APIv3 and
    /// v2 keys) and a matching papay.toml into a directory.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory to write into (created if missing).
    #[arg(long, default_value = "papay-credentials")]
    pub out: PathBuf,
    #[arg(long, default_value = "1900000100")]
    pub mchid: String,
    #[arg(long, default_value = "Sandbox Store")]
    pub name: String,
    #[arg(long, default_value = "wx8a3e6b0c5d2f4e71")]
    pub appid: String,
    #[arg(long, default_value_t = 12535)]
    pub plan_id: i64,
    /// Overwrite files already in the directory.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    #[error(transparent)]
    Credentials(#[from] crate::provision::credentials::CredentialError),
    #[error("{0}")]
    Usage(String),
    #[error("server stopped with an error: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// How the process ends: its exit code and, on failure, the one line for standard error.
#[derive(Debug, PartialEq, Eq)]
pub struct Exit {
    pub code: u8,
    pub stderr: Option<String>,
}

impl Exit {
    /// Control commands: 1 refused or outcome not reached, 3 server unreachable (clap exits 2 on
    /// bad usage before [`run`]); every other failure is 1.
    pub fn of(result: Result<(), CliError>) -> Exit {
        match result {
            Ok(()) => Exit { code: 0, stderr: None },
            Err(CliError::Control(e)) => Exit {
                code: e.exit_code(),
                stderr: Some(format!("papay: {e}")),
            },
            Err(e) => Exit {
                code: 1,
                stderr: Some(format!("papay: error: {e}")),
            },
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Keys(KeysCommand::Generate(args)) => generate(args),
        Command::Simulate(args) => print_line(control::simulate(&args).await),
        Command::Clock(args) => print_line(control::clock(&args).await),
        Command::Notifications(args) => print_line(notifications::notifications(&args).await),
    }
}

fn print_line(outcome: Result<String, ControlError>) -> Result<(), CliError> {
    println!("{}", outcome?);
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        public_url: args.public_url,
    };
    let settings = Settings::load(args.config.as_deref(), &overrides).map_err(crate::app::StartError::from)?;
    let app = App::build(settings).await?;
    if let Some(demo) = app.demo() {
        println!(
            "{}",
            crate::provision::demo::banner(&demo.info, &demo.merchant, demo.plan_id, app.base_url())
        );
    } else {
        for m in app.merchants() {
            println!("merchant {} ({}) provisioned", m.mchid, m.name);
        }
    }
    let base = app.base_url();
    println!("dashboard {base}/dashboard · API documents {base}/openapi · metrics {base}/metrics");
    println!("papay listening on {base}");
    app.run_until_stopped().await.map_err(CliError::Serve)
}

fn generate(args: GenerateArgs) -> Result<(), CliError> {
    crate::domain::ids::Mchid::parse(&args.mchid).map_err(|e| CliError::Usage(e.to_string()))?;
    crate::domain::ids::AppId::parse(&args.appid).map_err(|e| CliError::Usage(e.to_string()))?;
    let config_path = args.out.join("papay.toml");
    if config_path.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} exists; pass --force to overwrite",
            config_path.display()
        )));
    }
    let identity = Identity {
        mchid: args.mchid,
        name: args.name,
        appid: args.appid,
        plan_id: args.plan_id,
        plan_name: "Monthly membership".into(),
        ..Identity::demo()
    };
    let set = CredentialSet::generate(identity, time::OffsetDateTime::now_utc())?;
    set.write_to(&args.out)?;
    let toml = set.config_toml(None);
    std::fs::write(&config_path, &toml).map_err(|source| crate::provision::credentials::CredentialError::Write {
        path: config_path.clone(),
        source,
    })?;
    println!("# written to {}\n{toml}", config_path.display());
    Ok(())
}
