//! `papay simulate …` and `papay clock …`: the test-control API from a shell, so a CI script can
//! play the WeChat user (agree, decline, let a link expire, terminate) and move a merchant's
//! virtual clock without writing HTTP by hand.
//!
//! Each command is a call or two through [`ControlClient`]. It answers the one line to print on
//! success, or the [`ControlError`] that says why not (and which exit code that is); printing is
//! left to the caller so all of this can be tested against a fake server.

use clap::{Subcommand, ValueEnum};
use reqwest::Url;
use secrecy::SecretString;

use super::control_client::{
    one_line, AgreeBody, ClockView, ContractDetail, ControlClient, ControlError, SessionView, TerminateBody,
};

/// Where the control API is and how to authenticate to it.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Base URL of the papay server.
    #[arg(long, global = true, env = "PAPAY_SERVER", default_value = "http://127.0.0.1:8080", value_parser = parse_server)]
    pub server: Url,
    /// Control token (the admin token or a merchant's), sent as `Authorization: Bearer …`.
    /// Not needed when papay listens on loopback.
    #[arg(long, global = true, env = "PAPAY_CONTROL_TOKEN", hide_env_values = true, value_parser = parse_token)]
    pub token: Option<SecretString>,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub action: SimulateCommand,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// The user agrees; exits 0 only once the contract is SIGNED (1 when it ends SIGNFAIL).
    Agree(AgreeArgs),
    /// The user declines; the contract becomes SIGNFAIL.
    Decline(LinkArg),
    /// The signing session expires now; the contract stays or returns to NOTSIGN.
    Expire(LinkArg),
    /// Terminate a SIGNED contract, as the user or as the platform.
    Terminate(TerminateArgs),
}

#[derive(Debug, clap::Args)]
pub struct LinkArg {
    /// A sign_url, show_code_url, session_id or v2 redirect_url, exactly as the API returned it.
    pub link: String,
}

#[derive(Debug, clap::Args)]
pub struct AgreeArgs {
    #[command(flatten)]
    pub link: LinkArg,
    /// The openid that signs [default: the pre-sign's].
    #[arg(long)]
    pub openid: Option<String>,
    /// The agreeing user's IP (signing fails if it differs from the pre-sign's user_client_ip).
    #[arg(long)]
    pub client_ip: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TerminateArgs {
    pub contract_id: String,
    /// Who terminates.
    #[arg(long = "as", value_enum)]
    pub actor: Actor,
    /// Termination note.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Actor {
    User,
    Platform,
}

impl Actor {
    fn wire(self) -> &'static str {
        match self {
            Actor::User => "USER",
            Actor::Platform => "PLATFORM",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ClockArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub action: ClockCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Show a merchant's virtual now, offset and speed.
    Show(MchidArg),
    /// Move a merchant's clock forward (`90s`, `15m`, `2h`, `1h 30m`, `3d`).
    Advance(AdvanceArgs),
    /// Set how fast a merchant's clock runs (0 freezes it, 60 makes a real second a minute).
    Speed(SpeedArgs),
    /// Put a merchant's clock back on real time.
    Reset(MchidArg),
}

#[derive(Debug, clap::Args)]
pub struct MchidArg {
    #[arg(value_parser = parse_mchid)]
    pub mchid: String,
}

#[derive(Debug, clap::Args)]
pub struct AdvanceArgs {
    #[arg(value_parser = parse_mchid)]
    pub mchid: String,
    /// How far, in humantime syntax; sent to the server as written.
    #[arg(value_parser = parse_duration)]
    pub duration: String,
}

#[derive(Debug, clap::Args)]
pub struct SpeedArgs {
    #[arg(value_parser = parse_mchid)]
    pub mchid: String,
    /// Virtual seconds per real second, 0 to 10000.
    #[arg(value_parser = parse_speed, allow_negative_numbers = true)]
    pub factor: f64,
}

/// Runs a `simulate` command; `Ok` is the line to print.
pub async fn simulate(args: &SimulateArgs) -> Result<String, ControlError> {
    let client = ControlClient::new(args.server.server.clone(), args.server.token.clone())?;
    match &args.action {
        SimulateCommand::Agree(a) => {
            let session = client.resolve(&a.link.link).await?;
            let body = AgreeBody {
                openid: a.openid.as_deref(),
                client_ip: a.client_ip.as_deref(),
            };
            signed(client.agree(&session.session_id, &body).await?)
        }
        SimulateCommand::Decline(l) => {
            let session = client.resolve(&l.link).await?;
            Ok(session_line(&client.decline(&session.session_id).await?))
        }
        SimulateCommand::Expire(l) => {
            let session = client.resolve(&l.link).await?;
            Ok(session_line(&client.expire(&session.session_id).await?))
        }
        SimulateCommand::Terminate(t) => {
            let body = TerminateBody {
                actor: t.actor.wire(),
                note: t.note.as_deref(),
            };
            terminated(client.terminate(&t.contract_id, &body).await?)
        }
    }
}

/// Runs a `clock` command; `Ok` is the line to print.
pub async fn clock(args: &ClockArgs) -> Result<String, ControlError> {
    let client = ControlClient::new(args.server.server.clone(), args.server.token.clone())?;
    let view = match &args.action {
        ClockCommand::Show(m) => client.clock(&m.mchid).await?,
        ClockCommand::Advance(a) => client.advance_clock(&a.mchid, &a.duration).await?,
        ClockCommand::Speed(s) => client.set_clock_speed(&s.mchid, s.factor).await?,
        ClockCommand::Reset(m) => match client.reset_clock(&m.mchid).await? {
            Some(view) => view,
            None => return Ok(format!("mchid={} clock back on real time", m.mchid)),
        },
    };
    Ok(clock_line(&view))
}

fn signed(view: SessionView) -> Result<String, ControlError> {
    match view.state.as_str() {
        "SIGNED" => {
            let openid = view.contract.as_ref().and_then(|c| c.openid.as_deref());
            Ok(fields(
                "SIGNED",
                &[("contract_id", contract_id(&view)), ("openid", openid)],
            ))
        }
        "SIGNFAIL" => Err(ControlError::SigningFailed {
            reason: view.reason.as_deref().map(one_line),
        }),
        other => Err(ControlError::WrongState {
            state: one_line(other),
            wanted: "SIGNED",
        }),
    }
}

fn terminated(detail: ContractDetail) -> Result<String, ControlError> {
    let c = &detail.contract;
    match c.state.as_deref() {
        Some("TERMINATED") => Ok(fields(
            "TERMINATED",
            &[
                ("contract_id", c.contract_id.as_deref()),
                ("mchid", detail.mchid.as_deref()),
                ("termination_mode", c.termination_mode.as_deref()),
            ],
        )),
        other => Err(ControlError::WrongState {
            state: one_line(other.unwrap_or("(no state in the answer)")),
            wanted: "TERMINATED",
        }),
    }
}

fn session_line(view: &SessionView) -> String {
    fields(
        &view.state,
        &[
            ("session_id", Some(&view.session_id)),
            ("contract_id", contract_id(view)),
            ("mchid", view.mchid.as_deref()),
        ],
    )
}

fn clock_line(view: &ClockView) -> String {
    format!(
        "now={} offset_seconds={} speed={}",
        one_line(&view.now),
        view.offset_seconds,
        view.speed
    )
}

fn contract_id(view: &SessionView) -> Option<&str> {
    view.contract_id
        .as_deref()
        .or_else(|| view.contract.as_ref().and_then(|c| c.contract_id.as_deref()))
}

/// `HEAD key=value …`, leaving out what the answer did not carry.
pub(super) fn fields(head: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut line = one_line(head);
    for (key, value) in pairs {
        if let Some(value) = value {
            line.push_str(&format!(" {key}={}", one_line(value)));
        }
    }
    line
}

fn parse_server(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err("expected an http:// or https:// URL".into());
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Never fails: clap repeats a refused value in its error, and the token must not be printed.
/// The client checks it instead.
fn parse_token(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(s))
}

pub(super) fn parse_mchid(s: &str) -> Result<String, String> {
    crate::domain::ids::Mchid::parse(s)
        .map(|m| m.to_string())
        .map_err(|e| e.to_string())
}

fn parse_duration(s: &str) -> Result<String, String> {
    humantime::parse_duration(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("{e} (examples: 90s, 15m, 2h, 1h 30m, 3d)"))
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=10_000.0).contains(&f) => Ok(f),
        _ => Err("expected a number from 0 to 10000".into()),
    }
}
