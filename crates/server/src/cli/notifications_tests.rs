//! `papay notifications …`: argument parsing, the calls made, and what the commands print and
//! exit with, against the fake control API of `control_tests.rs`.

use clap::error::ErrorKind;
use serde_json::{json, Value};

use super::control_tests::{exit, parse, run_parsed, Fake};
use super::notifications::{EventType, NotificationsCommand, Status};
use super::{Command, Exit};

const LIST: &str = "GET /sandbox/v1/merchants/1900000100/notifications";
const N1: &str = "GET /sandbox/v1/notifications/N-1";

// ---------------------------------------------------------------- parsing

#[test]
fn list_takes_the_mchid_and_optional_filters() {
    let cli = parse(&[
        "notifications",
        "list",
        "1900000100",
        "--contract-id",
        "C-1",
        "--event-type",
        "PAPAY.TERMINATE",
        "--status",
        "gave_up",
        "--limit",
        "500",
    ])
    .unwrap();
    let Command::Notifications(n) = cli.command else {
        panic!("{cli:?}")
    };
    let NotificationsCommand::List(l) = n.action else {
        panic!()
    };
    assert_eq!(l.mchid, "1900000100");
    assert_eq!(l.contract_id.as_deref(), Some("C-1"));
    assert_eq!(l.event_type, Some(EventType::Terminate));
    assert_eq!(l.status, Some(Status::GaveUp), "case does not matter");
    assert_eq!(l.limit, Some(500));

    let cli = parse(&["notifications", "list", "1900000100"]).unwrap();
    let Command::Notifications(n) = cli.command else {
        panic!()
    };
    let NotificationsCommand::List(l) = n.action else {
        panic!()
    };
    assert_eq!(
        (l.contract_id, l.event_type, l.status, l.limit),
        (None, None, None, None)
    );
}

#[test]
fn notifications_arguments_are_checked_locally() {
    for (bad, kind) in [
        (&["notifications", "list", "mch-1"][..], ErrorKind::ValueValidation),
        (
            &["notifications", "list", "1900000100", "--event-type", "PAPAY.PAY"],
            ErrorKind::InvalidValue,
        ),
        (
            &["notifications", "list", "1900000100", "--status", "FAILED"],
            ErrorKind::InvalidValue,
        ),
        (
            &["notifications", "list", "1900000100", "--limit", "0"],
            ErrorKind::ValueValidation,
        ),
        (
            &["notifications", "list", "1900000100", "--limit", "501"],
            ErrorKind::ValueValidation,
        ),
        (
            &["notifications", "list", "1900000100", "--contract-id", ""],
            ErrorKind::ValueValidation,
        ),
        (&["notifications", "show"], ErrorKind::MissingRequiredArgument),
        (&["notifications", "pause", "mch-1"], ErrorKind::ValueValidation),
        (&["notifications", "resume"], ErrorKind::MissingRequiredArgument),
    ] {
        let e = parse(bad).unwrap_err();
        assert_eq!(e.kind(), kind, "{bad:?}");
        assert_eq!(e.exit_code(), 2);
    }
}

#[test]
fn server_and_token_work_as_for_the_other_control_commands() {
    let cli = parse(&[
        "notifications",
        "--server",
        "http://papay.test:9000",
        "show",
        "N-1",
        "--token",
        "t0k",
    ])
    .unwrap();
    let Command::Notifications(n) = &cli.command else {
        panic!()
    };
    assert_eq!(n.server.server.as_str(), "http://papay.test:9000/");
    assert!(n.server.token.is_some());
    assert!(!format!("{cli:?}").contains("t0k"));
}

// ---------------------------------------------------------------- list

fn notification(
    id: &str,
    contract_id: &str,
    event_type: &str,
    status: &str,
    attempts: u32,
    next: Option<&str>,
) -> Value {
    json!({
        "id": id, "contract_id": contract_id, "event_type": event_type,
        "create_time": "2026-11-27T20:00:00+08:00", "status": status, "attempts": attempts,
        "next_attempt_at": next, "body": if attempts > 0 { json!("{\"id\":\"x\"}") } else { Value::Null },
    })
}

#[tokio::test]
async fn list_prints_a_header_and_aligned_columns() {
    let list = json!({"notifications": [
        notification("N-1", "C-100", "PAPAY.SIGN", "PENDING", 2, Some("2026-11-27T20:00:45+08:00")),
        notification("N-22", "C-133", "PAPAY.TERMINATE", "DELIVERED", 1, Some("2026-11-27T20:00:00+08:00")),
        notification("N-333", "C-166", "PAPAY.SIGN", "PENDING", 0, None),
    ]})
    .to_string();
    let fake = Fake::start(&[(LIST, 200, &list)]).await;
    let out = fake
        .run(&["notifications", "list", "1900000100", "--token", "t0k"])
        .await
        .unwrap();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "ID     EVENT_TYPE       STATUS     ATTEMPTS  CONTRACT_ID  NEXT_ATTEMPT",
            "N-1    PAPAY.SIGN       PENDING    2         C-100        2026-11-27T20:00:45+08:00",
            "N-22   PAPAY.TERMINATE  DELIVERED  1         C-133        -",
            "N-333  PAPAY.SIGN       PENDING    0         C-166        -",
        ]
    );
    assert_eq!(exit(Ok(out)), Exit { code: 0, stderr: None });

    let seen = fake.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].uri, "/sandbox/v1/merchants/1900000100/notifications",
        "no query without filters"
    );
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer t0k"));
}

#[tokio::test]
async fn list_sends_the_filters_as_the_query() {
    let fake = Fake::start(&[(LIST, 200, r#"{"notifications":[]}"#)]).await;
    let out = fake
        .run(&[
            "notifications",
            "list",
            "1900000100",
            "--contract-id",
            "C 1&x=2",
            "--event-type",
            "papay.sign",
            "--status",
            "PENDING",
            "--limit",
            "5",
        ])
        .await
        .unwrap();
    assert_eq!(
        out, "ID  EVENT_TYPE  STATUS  ATTEMPTS  CONTRACT_ID  NEXT_ATTEMPT",
        "an empty list is the header alone"
    );
    assert_eq!(
        fake.seen()[0].uri,
        "/sandbox/v1/merchants/1900000100/notifications?contract_id=C+1%26x%3D2&event_type=PAPAY.SIGN&status=PENDING&limit=5"
    );
}

#[tokio::test]
async fn text_from_the_server_stays_on_its_line() {
    let mut n = notification("N-1", "C-1", "PAPAY.SIGN", "PENDING", 0, None);
    n["contract_id"] = json!("C-1\nFORGED 0 -");
    let fake = Fake::start(&[(LIST, 200, &json!({ "notifications": [n] }).to_string())]).await;
    let out = fake.run(&["notifications", "list", "1900000100"]).await.unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.ends_with("C-1 FORGED 0 -  -"), "{out}");
}

#[tokio::test]
async fn a_refused_list_is_one_line_and_exits_1() {
    let fake = Fake::start(&[(
        LIST,
        404,
        r#"{"code":"MERCHANT_NOT_FOUND","message":"no merchant 1900000100"}"#,
    )])
    .await;
    let e = exit(fake.run(&["notifications", "list", "1900000100"]).await);
    assert_eq!(
        e,
        Exit {
            code: 1,
            stderr: Some("papay: MERCHANT_NOT_FOUND: no merchant 1900000100".into())
        }
    );

    let fake = Fake::start(&[(LIST, 200, r#"{"items":[]}"#)]).await;
    let e = exit(fake.run(&["notifications", "list", "1900000100"]).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some(r#"papay: unexpected answer from the server (200 OK): {"items":[]}"#)
    );
}

#[tokio::test]
async fn an_unreachable_server_exits_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    for action in [&["list", "1900000100"][..], &["show", "N-1"], &["pause", "1900000100"]] {
        let mut args = vec!["notifications"];
        args.extend(action);
        args.extend(["--server", &server]);
        let e = exit(run_parsed(parse(&args).unwrap()).await);
        assert_eq!(e.code, 3, "{action:?}");
        let line = e.stderr.unwrap();
        assert!(
            line.starts_with(&format!("papay: cannot reach the papay server at {server}: ")),
            "{line}"
        );
    }
}

// ---------------------------------------------------------------- show and resend

fn with_log(status: &str) -> String {
    let mut n = notification("N-1", "C-100", "PAPAY.SIGN", status, 2, None);
    n["log"] = json!([
        {"number": 1, "at": "2026-01-05T10:00:00+08:00", "virtual_at": "2026-11-27T20:00:00+08:00",
         "url": "https://yoursite.com/papay/notify", "http_status": null, "latency_ms": 3,
         "outcome": "FAILED", "error": "dns error: failed to lookup\naddress", "response_head": null},
        {"number": 2, "at": "2026-01-05T10:00:15+08:00", "virtual_at": "2026-11-27T20:00:15+08:00",
         "url": "https://yoursite.com/papay/notify", "http_status": 500, "latency_ms": 120,
         "outcome": "FAILED", "error": null, "response_head": "oops"},
    ]);
    n.to_string()
}

#[tokio::test]
async fn show_prints_the_notification_then_one_line_per_attempt() {
    let fake = Fake::start(&[(N1, 200, &with_log("GAVE_UP"))]).await;
    let out = fake.run(&["notifications", "show", "N-1"]).await.unwrap();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "GAVE_UP id=N-1 event_type=PAPAY.SIGN contract_id=C-100 attempts=2 create_time=2026-11-27T20:00:00+08:00",
            "#  VIRTUAL_AT                 HTTP  OUTCOME  LATENCY  ERROR",
            "1  2026-11-27T20:00:00+08:00  -     FAILED   3ms      dns error: failed to lookup address",
            "2  2026-11-27T20:00:15+08:00  500   FAILED   120ms    -",
        ]
    );
    let seen = fake.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/sandbox/v1/notifications/N-1")
    );
}

#[tokio::test]
async fn show_before_any_attempt() {
    let mut n = notification(
        "N-1",
        "C-100",
        "PAPAY.SIGN",
        "PENDING",
        0,
        Some("2026-11-27T20:00:00+08:00"),
    );
    n["log"] = json!([]);
    let fake = Fake::start(&[(N1, 200, &n.to_string())]).await;
    let out = fake.run(&["notifications", "show", "N-1"]).await.unwrap();
    assert_eq!(
        out,
        "PENDING id=N-1 event_type=PAPAY.SIGN contract_id=C-100 attempts=0 \
         create_time=2026-11-27T20:00:00+08:00 next_attempt_at=2026-11-27T20:00:00+08:00\n\
         no attempts yet"
    );
}

#[tokio::test]
async fn show_of_an_unknown_id_exits_1_with_the_servers_code() {
    let fake = Fake::start(&[(
        "GET /sandbox/v1/notifications/nope",
        404,
        r#"{"code":"NOTIFICATION_NOT_FOUND","message":"no such notification"}"#,
    )])
    .await;
    let e = exit(fake.run(&["notifications", "show", "nope"]).await);
    assert_eq!(
        e,
        Exit {
            code: 1,
            stderr: Some("papay: NOTIFICATION_NOT_FOUND: no such notification".into())
        }
    );

    let e = exit(fake.run(&["notifications", "resend", ".."]).await);
    assert_eq!(e.code, 1);
    assert_eq!(
        e.stderr.as_deref(),
        Some(r#"papay: ".." cannot be used as an id in a URL path"#)
    );
    assert_eq!(fake.seen().len(), 1, "a bad id is refused before any call");
}

#[tokio::test]
async fn resend_posts_and_prints_the_queued_notification() {
    let mut n: Value = serde_json::from_str(&with_log("PENDING")).unwrap();
    n["next_attempt_at"] = json!("2026-11-27T21:00:00+08:00");
    let fake = Fake::start(&[("POST /sandbox/v1/notifications/N%2F1/resend", 202, &n.to_string())]).await;
    let out = fake.run(&["notifications", "resend", "N/1"]).await.unwrap();
    assert_eq!(
        out,
        "PENDING id=N-1 event_type=PAPAY.SIGN contract_id=C-100 attempts=2 \
         create_time=2026-11-27T20:00:00+08:00 next_attempt_at=2026-11-27T21:00:00+08:00"
    );
    let seen = fake.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, "", "no body");
}

// ---------------------------------------------------------------- pause and resume

#[tokio::test]
async fn pause_and_resume_post_and_print_one_line() {
    let fake = Fake::start(&[
        ("POST /sandbox/v1/merchants/1900000100/notifications/pause", 204, ""),
        ("POST /sandbox/v1/merchants/1900000100/notifications/resume", 204, ""),
    ])
    .await;
    let out = fake.run(&["notifications", "pause", "1900000100"]).await;
    assert_eq!(out.unwrap(), "mchid=1900000100 notifications paused");
    let out = fake.run(&["notifications", "resume", "1900000100"]).await;
    assert_eq!(out.unwrap(), "mchid=1900000100 notifications resumed");
    let seen = fake.seen();
    let calls: Vec<_> = seen.iter().map(|s| (s.method.as_str(), s.path.as_str())).collect();
    assert_eq!(
        calls,
        [
            ("POST", "/sandbox/v1/merchants/1900000100/notifications/pause"),
            ("POST", "/sandbox/v1/merchants/1900000100/notifications/resume"),
        ]
    );
}

#[tokio::test]
async fn pause_refused_exits_1() {
    let fake = Fake::start(&[(
        "POST /sandbox/v1/merchants/1900000100/notifications/pause",
        403,
        r#"{"code":"NO_AUTH","message":"this token is not for merchant 1900000100"}"#,
    )])
    .await;
    let e = exit(fake.run(&["notifications", "pause", "1900000100"]).await);
    assert_eq!(
        e,
        Exit {
            code: 1,
            stderr: Some("papay: NO_AUTH: this token is not for merchant 1900000100".into())
        }
    );
}
