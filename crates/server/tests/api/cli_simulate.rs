//! `papay simulate …`, `papay clock …` and `papay notifications …` against a running papay, as a
//! CI script would run them.

use std::process::Output;

use crate::helpers::*;

async fn papay(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(args)
        .env_remove("PAPAY_CONTROL_TOKEN")
        .env_remove("PAPAY_SERVER")
        .output()
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn simulate_and_clock_from_the_command_line() {
    let app = spawn_app().await;
    let c = app.client();
    let server = app.base_url.as_str();
    let sign_url = c.presign_jsapi(&jsapi("CLI1")).await.unwrap().sign_url;

    let out = papay(&["simulate", "agree", &sign_url, "--server", server]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("SIGNED contract_id="),
        "{}",
        text(&out.stdout)
    );
    let id = c
        .query_contract_by_code("CLI1", PLAN, &common())
        .await
        .unwrap()
        .contract_id;

    let again = papay(&["simulate", "agree", &sign_url, "--server", server]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).starts_with("papay: SESSION_CLOSED: "),
        "{}",
        text(&again.stderr)
    );

    let end = papay(&["simulate", "terminate", &id, "--as", "user", "--server", server]).await;
    assert!(end.status.success(), "{}", text(&end.stderr));
    assert_eq!(
        c.query_contract(&id, &common())
            .await
            .unwrap()
            .termination_mode
            .as_deref(),
        Some("USER")
    );

    let declined_url = c.presign_jsapi(&jsapi("CLI2")).await.unwrap().sign_url;
    let out = papay(&["simulate", "decline", &declined_url, "--server", server]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let failed = papay(&["simulate", "agree", &declined_url, "--server", server]).await;
    assert_eq!(failed.status.code(), Some(1));

    let other = c
        .presign_jsapi(&papay_protocol::contracts::PresignRequest {
            openid: Some("oSomeoneElse".into()),
            ..jsapi("CLI3")
        })
        .await
        .unwrap()
        .sign_url;
    let out = papay(&[
        "simulate",
        "agree",
        &other,
        "--openid",
        "oSomeoneElse2",
        "--server",
        server,
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "agree ends SIGNFAIL: not a success");
    assert!(text(&out.stderr).contains("SIGNFAIL"), "{}", text(&out.stderr));

    let expire_url = c.presign_jsapi(&jsapi("CLI4")).await.unwrap().sign_url;
    let clock = papay(&["clock", "advance", MCHID, "3h", "--server", server]).await;
    assert!(clock.status.success(), "{}", text(&clock.stderr));
    assert!(
        text(&clock.stdout).contains("offset_seconds=108"),
        "{}",
        text(&clock.stdout)
    );
    let out = papay(&["simulate", "agree", &expire_url, "--server", server]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("papay: SESSION_EXPIRED: "),
        "{}",
        text(&out.stderr)
    );

    let unknown = papay(&[
        "simulate",
        "agree",
        "https://nowhere/x?os_session_id=1",
        "--server",
        server,
    ])
    .await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).starts_with("papay: LINK_NOT_FOUND: "),
        "{}",
        text(&unknown.stderr)
    );
    let down = papay(&["simulate", "agree", &sign_url, "--server", "http://127.0.0.1:9"]).await;
    assert_eq!(down.status.code(), Some(3));
}

#[tokio::test]
async fn notifications_from_the_command_line() {
    let app = spawn_app().await;
    let c = app.client();
    let server = app.base_url.as_str();
    c.presign_jsapi(&jsapi("CLIN1")).await.unwrap();
    let id = c
        .query_contract_by_code("CLIN1", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    assert_eq!(app.agree(&id, None).await["state"], "SIGNED");

    // The default success_notify_url does not answer: the notification is PENDING (or has
    // failed attempts, or has given up), never DELIVERED.
    let out = papay(&["notifications", "list", MCHID, "--contract-id", &id, "--server", server]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("ID "), "{stdout}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[1], "PAPAY.SIGN", "{stdout}");
    assert!(["PENDING", "GAVE_UP"].contains(&row[2]), "{stdout}");
    assert_eq!(row[4], id, "{stdout}");

    let show = papay(&["notifications", "show", row[0], "--server", server]).await;
    assert!(show.status.success(), "{}", text(&show.stderr));
    assert!(
        text(&show.stdout).contains(&format!(" id={} event_type=PAPAY.SIGN contract_id={id} ", row[0])),
        "{}",
        text(&show.stdout)
    );

    let none = papay(&[
        "notifications",
        "list",
        MCHID,
        "--event-type",
        "PAPAY.TERMINATE",
        "--server",
        server,
    ])
    .await;
    assert!(none.status.success(), "{}", text(&none.stderr));
    assert_eq!(text(&none.stdout).lines().count(), 1, "the header alone");

    for action in ["pause", "resume"] {
        let out = papay(&["notifications", action, MCHID, "--server", server]).await;
        assert!(out.status.success(), "{action}: {}", text(&out.stderr));
    }

    let unknown = papay(&["notifications", "show", "no-such-notification", "--server", server]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).starts_with("papay: NOTIFICATION_NOT_FOUND: "),
        "{}",
        text(&unknown.stderr)
    );
}
