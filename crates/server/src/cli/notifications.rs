//! `papay notifications …`: the notification delivery log from a shell: list a merchant's
//! notifications, show one with every attempt, resend one now, pause and resume a merchant's
//! deliveries.
//!
//! Like `simulate` and `clock` (`control.rs`), each command is a call through [`ControlClient`]
//! and answers the text to print or the [`ControlError`] that says why not.

use clap::{Subcommand, ValueEnum};

use super::control::{fields, parse_mchid, MchidArg, ServerArgs};
use super::control_client::{one_line, AttemptView, ControlClient, ControlError, NotificationQuery, NotificationView};

#[derive(Debug, clap::Args)]
pub struct NotificationsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub action: NotificationsCommand,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// A merchant's notifications, newest first, one line each under a header.
    List(ListArgs),
    /// One notification and its delivery attempts.
    Show(IdArg),
    /// Queue one more attempt of a notification now, whatever its status.
    Resend(IdArg),
    /// Hold every delivery of a merchant until resumed.
    Pause(MchidArg),
    /// Let a merchant's deliveries go out again (due ones at once).
    Resume(MchidArg),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(value_parser = parse_mchid)]
    pub mchid: String,
    /// Only this contract's notifications.
    #[arg(long, value_parser = parse_contract_id)]
    pub contract_id: Option<String>,
    /// Only this kind of event.
    #[arg(long, value_enum, ignore_case = true)]
    pub event_type: Option<EventType>,
    /// Only notifications in this state.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<Status>,
    /// At most this many, 1 to 500 [server default: 100].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct IdArg {
    /// The notification id, as `notifications list` shows it.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventType {
    #[value(name = "PAPAY.SIGN")]
    Sign,
    #[value(name = "PAPAY.TERMINATE")]
    Terminate,
}

impl EventType {
    fn wire(self) -> &'static str {
        match self {
            EventType::Sign => papay_protocol::notifications::EVENT_SIGN,
            EventType::Terminate => papay_protocol::notifications::EVENT_TERMINATE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    #[value(name = "PENDING")]
    Pending,
    #[value(name = "DELIVERED")]
    Delivered,
    #[value(name = "GAVE_UP")]
    GaveUp,
}

impl Status {
    fn wire(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Delivered => "DELIVERED",
            Status::GaveUp => "GAVE_UP",
        }
    }
}

/// Runs a `notifications` command; `Ok` is the text to print (no trailing newline).
pub async fn notifications(args: &NotificationsArgs) -> Result<String, ControlError> {
    let client = ControlClient::new(args.server.server.clone(), args.server.token.clone())?;
    match &args.action {
        NotificationsCommand::List(l) => {
            let query = NotificationQuery {
                contract_id: l.contract_id.as_deref(),
                event_type: l.event_type.map(EventType::wire),
                status: l.status.map(Status::wire),
                limit: l.limit,
            };
            Ok(list_table(&client.notifications(&l.mchid, &query).await?.notifications))
        }
        NotificationsCommand::Show(i) => Ok(detail(&client.notification(&i.id).await?)),
        NotificationsCommand::Resend(i) => Ok(summary_line(&client.resend_notification(&i.id).await?)),
        NotificationsCommand::Pause(m) => {
            client.pause_notifications(&m.mchid, true).await?;
            Ok(format!("mchid={} notifications paused", m.mchid))
        }
        NotificationsCommand::Resume(m) => {
            client.pause_notifications(&m.mchid, false).await?;
            Ok(format!("mchid={} notifications resumed", m.mchid))
        }
    }
}

/// A header and one line per notification; `-` where a PENDING one has no next attempt, or the
/// notification is no longer pending.
fn list_table(notifications: &[NotificationView]) -> String {
    let rows = notifications.iter().map(|n| {
        vec![
            one_line(&n.id),
            one_line(&n.event_type),
            one_line(&n.status),
            n.attempts.to_string(),
            one_line(&n.contract_id),
            next_attempt(n).map_or_else(|| "-".into(), one_line),
        ]
    });
    table(
        &["ID", "EVENT_TYPE", "STATUS", "ATTEMPTS", "CONTRACT_ID", "NEXT_ATTEMPT"],
        rows.collect(),
    )
}

/// The summary line, then the attempt log as a table (or a line saying there is none yet).
fn detail(n: &NotificationView) -> String {
    let log = n.log.as_deref().unwrap_or_default();
    let attempts = if log.is_empty() {
        "no attempts yet".to_string()
    } else {
        table(
            &["#", "VIRTUAL_AT", "HTTP", "OUTCOME", "LATENCY", "ERROR"],
            log.iter().map(attempt_row).collect(),
        )
    };
    format!("{}\n{attempts}", summary_line(n))
}

fn attempt_row(a: &AttemptView) -> Vec<String> {
    vec![
        a.number.to_string(),
        one_line(&a.virtual_at),
        a.http_status.map_or_else(|| "-".into(), |s| s.to_string()),
        one_line(&a.outcome),
        format!("{}ms", a.latency_ms),
        a.error.as_deref().map_or_else(|| "-".into(), one_line),
    ]
}

/// `STATUS id=… event_type=… contract_id=… attempts=… create_time=… next_attempt_at=…`.
fn summary_line(n: &NotificationView) -> String {
    let attempts = n.attempts.to_string();
    fields(
        &n.status,
        &[
            ("id", Some(&n.id)),
            ("event_type", Some(&n.event_type)),
            ("contract_id", Some(&n.contract_id)),
            ("attempts", Some(&attempts)),
            ("create_time", n.create_time.as_deref()),
            ("next_attempt_at", next_attempt(n)),
        ],
    )
}

fn next_attempt(n: &NotificationView) -> Option<&str> {
    n.next_attempt_at.as_deref().filter(|_| n.status == "PENDING")
}

/// Columns left-aligned and two spaces apart; the last one is not padded, so no line ends in
/// blanks.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, (cell, &w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out
    };
    let mut lines = vec![line(header)];
    lines.extend(
        rows.iter()
            .map(|r| line(&r.iter().map(String::as_str).collect::<Vec<_>>())),
    );
    lines.join("\n")
}

fn parse_contract_id(s: &str) -> Result<String, String> {
    crate::domain::values::ContractId::parse("contract_id", s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}
