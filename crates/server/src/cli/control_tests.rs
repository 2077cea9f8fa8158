//! `papay simulate …` / `papay clock …`: argument parsing, and what the commands print and exit
//! with against a fake control API that answers canned bodies (the real one lives in `http`).
//! The fake is shared with `notifications_tests.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use clap::error::ErrorKind;
use clap::Parser;
use serde_json::{json, Value};

use super::control::{self, Actor, ClockCommand, SimulateCommand};
use super::{Cli, CliError, Command, ControlError, Exit};

// ---------------------------------------------------------------- parsing

pub(super) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("papay").chain(args.iter().copied()))
}

#[test]
fn agree_takes_the_link_verbatim_and_the_optional_fields() {
    let link = "http://127.0.0.1:8080/global/papay/contracts/login?os_session_id=a%2Bb&x=1";
    let cli = parse(&["simulate", "agree", link, "--openid", "o-1", "--client-ip", "10.0.0.7"]).unwrap();
    let Command::Simulate(args) = cli.command else {
        panic!("{cli:?}")
    };
    let SimulateCommand::Agree(a) = args.action else {
        panic!()
    };
    assert_eq!(a.link.link, link);
    assert_eq!(a.openid.as_deref(), Some("o-1"));
    assert_eq!(a.client_ip.as_deref(), Some("10.0.0.7"));
}

#[test]
fn server_and_token_go_before_or_after_the_action() {
    for args in [
        [
            "simulate",
            "--server",
            "http://papay.test:9000",
            "--token",
            "t0k",
            "decline",
            "S-1",
        ],
        [
            "simulate",
            "decline",
            "S-1",
            "--server",
            "http://papay.test:9000",
            "--token",
            "t0k",
        ],
    ] {
        let cli = parse(&args).unwrap();
        let Command::Simulate(s) = &cli.command else { panic!() };
        assert_eq!(s.server.server.as_str(), "http://papay.test:9000/");
        assert!(s.server.token.is_some());
        assert!(!format!("{cli:?}").contains("t0k"), "the token must never be printed");
    }
}

#[tokio::test]
async fn a_bad_token_is_refused_without_being_printed() {
    let cli = parse(&["clock", "show", "1900000100", "--token", "s3cret\nX"]).unwrap();
    let e = exit(run_parsed(cli).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some("papay: cannot set up the HTTP client: the control token is not a valid header value")
    );
}

#[test]
fn server_must_be_an_http_url() {
    let e = parse(&["clock", "show", "1900000100", "--server", "ftp://x"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValueValidation);
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn terminate_needs_as_user_or_platform() {
    let cli = parse(&["simulate", "terminate", "C-1", "--as", "platform", "--note", "fraud"]).unwrap();
    let Command::Simulate(s) = cli.command else { panic!() };
    let SimulateCommand::Terminate(t) = s.action else {
        panic!()
    };
    assert_eq!(
        (t.contract_id.as_str(), t.actor, t.note.as_deref()),
        ("C-1", Actor::Platform, Some("fraud"))
    );

    assert_eq!(
        parse(&["simulate", "terminate", "C-1"]).unwrap_err().kind(),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        parse(&["simulate", "terminate", "C-1", "--as", "merchant"])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidValue
    );
}

#[test]
fn clock_arguments_are_checked_locally() {
    let cli = parse(&["clock", "advance", "1900000100", "1h 30m"]).unwrap();
    let Command::Clock(c) = cli.command else { panic!() };
    let ClockCommand::Advance(a) = c.action else { panic!() };
    assert_eq!((a.mchid.as_str(), a.duration.as_str()), ("1900000100", "1h 30m"));

    for bad in [
        &["clock", "advance", "1900000100", "2 parsecs"][..],
        &["clock", "advance", "mch-1", "2h"],
        &["clock", "speed", "1900000100", "-1"],
        &["clock", "speed", "1900000100", "10001"],
        &["clock", "speed", "1900000100", "NaN"],
    ] {
        let e = parse(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValueValidation, "{bad:?}");
        assert_eq!(e.exit_code(), 2);
    }
    assert!(parse(&["clock", "speed", "1900000100", "0"]).is_ok());
    assert!(parse(&["clock", "reset", "1900000100"]).is_ok());
}

// ---------------------------------------------------------------- a fake control API

#[derive(Debug)]
pub(super) struct Seen {
    pub(super) method: String,
    pub(super) path: String,
    /// With its query, if any.
    pub(super) uri: String,
    pub(super) authorization: Option<String>,
    pub(super) body: String,
}

impl Seen {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

struct Canned {
    routes: HashMap<String, (u16, String)>,
    seen: Mutex<Vec<Seen>>,
}

pub(super) struct Fake {
    url: String,
    canned: Arc<Canned>,
}

impl Fake {
    /// Routes are `("POST /sandbox/v1/…", status, body)`; anything else is a 404 error body.
    pub(super) async fn start(routes: &[(&str, u16, &str)]) -> Fake {
        let canned = Arc::new(Canned {
            routes: routes
                .iter()
                .map(|(k, s, b)| (k.to_string(), (*s, b.to_string())))
                .collect(),
            seen: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(answer).with_state(canned.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { url, canned }
    }

    pub(super) async fn run(&self, args: &[&str]) -> Result<String, ControlError> {
        let mut all = args.to_vec();
        all.extend(["--server", &self.url]);
        run_parsed(parse(&all).unwrap()).await
    }

    pub(super) fn seen(&self) -> std::sync::MutexGuard<'_, Vec<Seen>> {
        self.canned.seen.lock().unwrap()
    }
}

async fn answer(
    State(canned): State<Arc<Canned>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let key = format!("{method} {}", uri.path());
    canned.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        uri: uri.to_string(),
        authorization: headers.get("authorization").map(|v| v.to_str().unwrap().to_string()),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    match canned.routes.get(&key) {
        Some((status, body)) => (StatusCode::from_u16(*status).unwrap(), body.clone()),
        None => (
            StatusCode::NOT_FOUND,
            r#"{"code":"NO_ROUTE","message":"no canned answer"}"#.into(),
        ),
    }
}

pub(super) async fn run_parsed(cli: Cli) -> Result<String, ControlError> {
    match &cli.command {
        Command::Simulate(a) => control::simulate(a).await,
        Command::Clock(a) => control::clock(a).await,
        Command::Notifications(a) => super::notifications::notifications(a).await,
        other => panic!("not a control command: {other:?}"),
    }
}

pub(super) fn exit(outcome: Result<String, ControlError>) -> Exit {
    Exit::of(outcome.map(|_| ()).map_err(CliError::from))
}

fn session(state: &str, openid: &str) -> String {
    json!({
        "session_id": "S-1", "mchid": "1900000100", "channel": "JSAPI", "live": state == "SIGNING",
        "expires_at": "2026-11-27T20:00:00+08:00",
        "contract": {"contract_id": "C-1", "state": state, "openid": openid, "plan_id": 12535},
        "contract_id": "C-1", "state": state,
    })
    .to_string()
}

const RESOLVE: &str = "POST /sandbox/v1/links/resolve";
const AGREE: &str = "POST /sandbox/v1/sessions/S-1/agree";
const LINK: &str = "http://127.0.0.1:8080/global/papay/contracts/login?os_session_id=tok%2B1";

// ---------------------------------------------------------------- simulate

#[tokio::test]
async fn agree_resolves_then_agrees_and_prints_the_signed_contract() {
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("SIGNING", "o-pre")),
        (AGREE, 200, &session("SIGNED", "o-user")),
    ])
    .await;
    let out = fake
        .run(&["simulate", "agree", LINK, "--openid", "o-user", "--token", "t0k"])
        .await;
    assert_eq!(out.as_deref().unwrap(), "SIGNED contract_id=C-1 openid=o-user");
    assert_eq!(exit(out), Exit { code: 0, stderr: None });

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/sandbox/v1/links/resolve")
    );
    assert_eq!(seen[0].json(), json!({"link": LINK}));
    assert_eq!(seen[1].path, "/sandbox/v1/sessions/S-1/agree");
    assert_eq!(seen[1].json(), json!({"openid": "o-user"}), "only the given fields");
    assert!(seen.iter().all(|s| s.authorization.as_deref() == Some("Bearer t0k")));
}

#[tokio::test]
async fn agree_without_options_sends_an_empty_object_and_no_token() {
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("NOTSIGN", "o-pre")),
        (AGREE, 200, &session("SIGNED", "o-pre")),
    ])
    .await;
    // An inherited PAPAY_CONTROL_TOKEN would rightly be sent; this test is about sending none.
    if std::env::var_os("PAPAY_CONTROL_TOKEN").is_some() {
        return;
    }
    fake.run(&["simulate", "agree", "S-1"]).await.unwrap();
    let seen = fake.seen();
    assert_eq!(seen[1].json(), json!({}));
    assert_eq!(seen[1].authorization, None);
}

#[tokio::test]
async fn agree_ending_signfail_exits_1_with_one_line() {
    let mut failed: Value = serde_json::from_str(&session("SIGNFAIL", "o-pre")).unwrap();
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("SIGNING", "o-pre")),
        (AGREE, 200, &failed.to_string()),
    ])
    .await;
    let e = exit(fake.run(&["simulate", "agree", LINK]).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some("papay: signing failed: the contract is SIGNFAIL")
    );

    failed["reason"] = json!("client_ip differs from the pre-sign's\nuser_client_ip");
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("SIGNING", "o-pre")),
        (AGREE, 200, &failed.to_string()),
    ])
    .await;
    let e = exit(fake.run(&["simulate", "agree", LINK]).await);
    assert_eq!(
        e.stderr.as_deref(),
        Some("papay: signing failed: the contract is SIGNFAIL (client_ip differs from the pre-sign's user_client_ip)")
    );
}

#[tokio::test]
async fn agree_answered_with_another_state_is_not_success() {
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("SIGNING", "o")),
        (AGREE, 200, &session("SIGNING", "o")),
    ])
    .await;
    let e = exit(fake.run(&["simulate", "agree", "S-1"]).await);
    assert_eq!(e.code, 1);
    assert_eq!(e.stderr.as_deref(), Some("papay: the contract is SIGNING, not SIGNED"));
}

#[tokio::test]
async fn an_error_answer_is_one_line_with_its_code() {
    let fake = Fake::start(&[(
        RESOLVE,
        410,
        r#"{"code":"SESSION_EXPIRED","message":"the signing link has expired"}"#,
    )])
    .await;
    let e = exit(fake.run(&["simulate", "agree", LINK]).await);
    assert_eq!(
        e,
        Exit {
            code: 1,
            stderr: Some("papay: SESSION_EXPIRED: the signing link has expired".into())
        }
    );
    assert_eq!(fake.seen().len(), 1, "no agree after a refused resolve");
}

#[tokio::test]
async fn a_non_json_answer_shows_the_status_and_the_start_of_the_body() {
    let page = format!("<html>\n<body>{}</body></html>", "x".repeat(400));
    let fake = Fake::start(&[(RESOLVE, 502, &page)]).await;
    let e = exit(fake.run(&["simulate", "decline", "S-1"]).await);
    assert_eq!(e.code, 1);
    let line = e.stderr.unwrap();
    let expected_start = "papay: unexpected answer from the server (502 Bad Gateway): <html> <body>xxx";
    assert!(line.starts_with(expected_start), "{line}");
    assert!(!line.contains('\n'));
    assert_eq!(
        line.len(),
        "papay: unexpected answer from the server (502 Bad Gateway): ".len() + 200
    );

    let fake = Fake::start(&[(RESOLVE, 200, "OK")]).await;
    let e = exit(fake.run(&["simulate", "expire", "S-1"]).await);
    assert_eq!(
        e.stderr.as_deref(),
        Some("papay: unexpected answer from the server (200 OK): OK")
    );
}

#[tokio::test]
async fn a_refused_connection_exits_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let out = run_parsed(parse(&["simulate", "agree", "S-1", "--server", &server]).unwrap()).await;
    let e = exit(out);
    assert_eq!(e.code, 3);
    let line = e.stderr.unwrap();
    assert!(
        line.starts_with(&format!("papay: cannot reach the papay server at {server}: ")),
        "{line}"
    );
    assert!(!line.contains('\n'));
}

#[tokio::test]
async fn decline_and_expire_print_the_new_state() {
    let fake = Fake::start(&[
        (RESOLVE, 200, &session("SIGNING", "o")),
        ("POST /sandbox/v1/sessions/S-1/decline", 200, &session("SIGNFAIL", "o")),
        ("POST /sandbox/v1/sessions/S-1/expire", 200, &session("NOTSIGN", "o")),
    ])
    .await;
    let out = fake.run(&["simulate", "decline", LINK]).await.unwrap();
    assert_eq!(out, "SIGNFAIL session_id=S-1 contract_id=C-1 mchid=1900000100");
    let out = fake.run(&["simulate", "expire", LINK]).await.unwrap();
    assert_eq!(out, "NOTSIGN session_id=S-1 contract_id=C-1 mchid=1900000100");
    let paths: Vec<_> = fake.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/sandbox/v1/links/resolve",
            "/sandbox/v1/sessions/S-1/decline",
            "/sandbox/v1/links/resolve",
            "/sandbox/v1/sessions/S-1/expire"
        ]
    );
}

#[tokio::test]
async fn ids_from_answers_and_arguments_are_percent_encoded_path_segments() {
    let odd = json!({"session_id": "S 1/..", "state": "SIGNED", "contract": {"openid": "o"}}).to_string();
    let fake = Fake::start(&[
        (RESOLVE, 200, &odd),
        ("POST /sandbox/v1/sessions/S%201%2F../agree", 200, &odd),
    ])
    .await;
    assert_eq!(fake.run(&["simulate", "agree", "x"]).await.unwrap(), "SIGNED openid=o");

    let e = exit(fake.run(&["simulate", "terminate", "..", "--as", "user"]).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some(r#"papay: ".." cannot be used as an id in a URL path"#)
    );
}

#[tokio::test]
async fn terminate_posts_the_actor_and_note() {
    let detail = json!({
        "mchid": "1900000100", "channel": "JSAPI", "session_id": "S-1",
        "contract": {"contract_id": "C-1", "state": "TERMINATED", "termination_mode": "PLATFORM"},
        "transitions": [],
    })
    .to_string();
    let fake = Fake::start(&[("POST /sandbox/v1/contracts/C-1/terminate", 200, &detail)]).await;
    let out = fake
        .run(&["simulate", "terminate", "C-1", "--as", "platform", "--note", "fraud"])
        .await;
    assert_eq!(
        out.unwrap(),
        "TERMINATED contract_id=C-1 mchid=1900000100 termination_mode=PLATFORM"
    );
    assert_eq!(fake.seen()[0].json(), json!({"as": "PLATFORM", "note": "fraud"}));

    let fake = Fake::start(&[(
        "POST /sandbox/v1/contracts/C-1/terminate",
        409,
        r#"{"code":"CONTRACT_NOT_TERMINABLE","message":"the contract is not SIGNED"}"#,
    )])
    .await;
    let e = exit(fake.run(&["simulate", "terminate", "C-1", "--as", "user"]).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some("papay: CONTRACT_NOT_TERMINABLE: the contract is not SIGNED")
    );
    assert_eq!(fake.seen()[0].json(), json!({"as": "USER"}));
}

// ---------------------------------------------------------------- clock

const CLOCK: &str = r#"{"now":"2026-11-27T22:00:00+08:00","offset_seconds":7200,"speed":1.0}"#;
const CLOCK_PATH: &str = "/sandbox/v1/merchants/1900000100/clock";

#[tokio::test]
async fn clock_commands_call_their_routes_and_print_the_clock() {
    let fake = Fake::start(&[
        ("GET /sandbox/v1/merchants/1900000100/clock", 200, CLOCK),
        ("POST /sandbox/v1/merchants/1900000100/clock/advance", 200, CLOCK),
        ("PUT /sandbox/v1/merchants/1900000100/clock", 200, CLOCK),
        ("DELETE /sandbox/v1/merchants/1900000100/clock", 200, CLOCK),
    ])
    .await;
    let line = "now=2026-11-27T22:00:00+08:00 offset_seconds=7200 speed=1";
    for args in [
        &["clock", "show", "1900000100"][..],
        &["clock", "advance", "1900000100", "1h 30m"],
        &["clock", "speed", "1900000100", "60"],
        &["clock", "reset", "1900000100"],
    ] {
        assert_eq!(fake.run(args).await.unwrap(), line, "{args:?}");
    }
    let seen = fake.seen();
    let calls: Vec<_> = seen.iter().map(|s| (s.method.as_str(), s.path.as_str())).collect();
    assert_eq!(
        calls,
        [
            ("GET", CLOCK_PATH),
            ("POST", "/sandbox/v1/merchants/1900000100/clock/advance"),
            ("PUT", CLOCK_PATH),
            ("DELETE", CLOCK_PATH)
        ]
    );
    assert_eq!(seen[1].json(), json!({"by": "1h 30m"}));
    assert_eq!(seen[2].json(), json!({"speed": 60.0}));
}

#[tokio::test]
async fn clock_reset_answered_with_no_content() {
    let fake = Fake::start(&[("DELETE /sandbox/v1/merchants/1900000100/clock", 204, "")]).await;
    let out = fake.run(&["clock", "reset", "1900000100"]).await.unwrap();
    assert_eq!(out, "mchid=1900000100 clock back on real time");
}
