//! The simulated user through the control API: every session action and the transitions and
//! refusals it can cause, seen both by the control API and by the merchant's query API.

use papay_protocol::contracts::PresignRequest;
use serde_json::json;

use crate::helpers::*;

/// A JSAPI pre-sign of `code`; answers (contract_id, session_id, sign_url).
async fn presign(app: &TestApp, req: &PresignRequest) -> (String, String, String) {
    let c = app.client();
    let sign_url = c.presign_jsapi(req).await.unwrap().sign_url;
    let id = c
        .query_contract_by_code(&req.out_contract_code, PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let session = app.session_of(&id).await;
    (id, session, sign_url)
}

async fn state_seen_by_merchant(app: &TestApp, code: &str) -> String {
    app.client()
        .query_contract_by_code(code, PLAN, &common())
        .await
        .unwrap()
        .state
}

#[tokio::test]
async fn every_link_form_resolves_to_its_session() {
    let app = spawn_app().await;
    let c = app.client();
    let (id, session, sign_url) = presign(&app, &jsapi("R1")).await;
    let web = c
        .presign_web(&PresignRequest {
            openid: None,
            return_url: None,
            ..jsapi("R2")
        })
        .await
        .unwrap()
        .show_code_url;
    let app_session = c
        .presign_app(&PresignRequest {
            return_url: None,
            ..jsapi("R3")
        })
        .await
        .unwrap()
        .session_id;
    for (link, code) in [
        (sign_url.clone(), "R1"),
        (session.clone(), "R1"),
        (format!("{sign_url}#wechat_redirect"), "R1"),
        (web, "R2"),
        (app_session.clone(), "R3"),
        (format!("{}/papay/open?sessionId={app_session}", app.base_url), "R3"),
    ] {
        let (status, view) = app
            .control("POST", "/sandbox/v1/links/resolve", Some(json!({"link": link})))
            .await;
        assert_eq!(status, 200, "{link}: {view}");
        assert_eq!(view["contract"]["out_contract_code"], code, "{link}");
        assert_eq!(view["mchid"], MCHID);
        assert_eq!(view["live"], true);
        assert_eq!(view["state"], "NOTSIGN");
    }
    let (_, view) = app
        .control("POST", "/sandbox/v1/links/resolve", Some(json!({"link": sign_url})))
        .await;
    assert_eq!(view["contract_id"], id.as_str());
    assert_eq!(view["channel"], "JSAPI");
    assert_eq!(view["session_id"], session.as_str());

    for junk in ["", "https://example.com/x", "12345", "http://x/y?os_session_id=abc"] {
        let (status, body) = app
            .control("POST", "/sandbox/v1/links/resolve", Some(json!({"link": junk})))
            .await;
        assert_eq!((status, body["code"].as_str()), (404, Some("LINK_NOT_FOUND")), "{junk}");
    }
    let (status, body) = app
        .control("POST", "/sandbox/v1/links/resolve", Some(json!({"url": "x"})))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{body}");
    let (status, body) = app.control("POST", "/sandbox/v1/links/resolve", None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{body}");
}

#[tokio::test]
async fn agree_signs_and_records_history() {
    let app = spawn_app().await;
    let (id, session, _) = presign(&app, &jsapi("A1")).await;
    let (status, view) = app
        .control("POST", &format!("/sandbox/v1/sessions/{session}/agree"), None)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "SIGNED");
    assert_eq!(view["event"], "USER_AGREED");
    assert_eq!(view["live"], false);
    assert_eq!(view["contract"]["openid"], "ouFhd5X9s9WteC3eWRjXV3lea123");
    let q = app.client().query_contract(&id, &common()).await.unwrap();
    assert_eq!(q.state, "SIGNED");
    assert!(q.signed_time.is_some() && q.expired_time.is_some());

    let (_, detail) = app.control("GET", &format!("/sandbox/v1/contracts/{id}"), None).await;
    let events: Vec<_> = detail["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["event"].as_str().unwrap(),
                t["from"].as_str(),
                t["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [("PRESIGN", None, "NOTSIGN"), ("USER_AGREED", Some("NOTSIGN"), "SIGNED")]
    );
    // The signing queued exactly one PAPAY.SIGN, in the same transaction.
    let queued: Vec<_> = detail["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(queued, ["PAPAY.SIGN"]);

    // The session is over: every further user action is refused.
    for action in ["agree", "decline", "expire"] {
        let (status, body) = app
            .control("POST", &format!("/sandbox/v1/sessions/{session}/{action}"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("SESSION_CLOSED")),
            "{action}"
        );
    }
}

#[tokio::test]
async fn decline_ends_in_signfail_and_burns_nothing() {
    let app = spawn_app().await;
    let (_, session, _) = presign(&app, &jsapi("D1")).await;
    let (status, view) = app
        .control("POST", &format!("/sandbox/v1/sessions/{session}/decline"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["state"].as_str(), view["event"].as_str()),
        (Some("SIGNFAIL"), Some("USER_DECLINED"))
    );
    assert_eq!(view["reason"], "You declined the authorization.");
    let (_, detail) = app
        .control(
            "GET",
            &format!("/sandbox/v1/contracts/{}", view["contract_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(detail["notifications"], json!([]), "a failed signing notifies nobody");
    assert_eq!(state_seen_by_merchant(&app, "D1").await, "SIGNFAIL");
    // §2.0: a failed signing may be pre-signed again with the same code.
    let (_, new_session, _) = presign(&app, &jsapi("D1")).await;
    assert_ne!(new_session, session);
    assert_eq!(state_seen_by_merchant(&app, "D1").await, "NOTSIGN");
}

#[tokio::test]
async fn signing_fails_for_another_user_another_ip_or_a_second_contract() {
    let app = spawn_app().await;
    // APP pre-signs may name the user's IP (JSAPI has no such field).
    let s1 = app
        .client()
        .presign_app(&PresignRequest {
            user_client_ip: Some("203.0.113.9".into()),
            return_url: None,
            ..jsapi("F1")
        })
        .await
        .unwrap()
        .session_id;
    let (_, view) = app
        .control(
            "POST",
            &format!("/sandbox/v1/sessions/{s1}/agree"),
            Some(json!({"client_ip": "198.51.100.1"})),
        )
        .await;
    assert_eq!(
        (view["state"].as_str(), view["event"].as_str()),
        (Some("SIGNFAIL"), Some("SIGNING_FAILED_CLIENT_IP"))
    );

    let (_, s2, _) = presign(&app, &jsapi("F2")).await;
    let (_, view) = app
        .control(
            "POST",
            &format!("/sandbox/v1/sessions/{s2}/agree"),
            Some(json!({"openid": "oSomeoneElse"})),
        )
        .await;
    assert_eq!(
        (view["state"].as_str(), view["event"].as_str()),
        (Some("SIGNFAIL"), Some("SIGNING_FAILED_OPENID"))
    );

    let (_, s3, _) = presign(&app, &jsapi("F3")).await;
    let (_, s4, _) = presign(&app, &jsapi("F4")).await;
    let (_, first) = app
        .control("POST", &format!("/sandbox/v1/sessions/{s3}/agree"), None)
        .await;
    assert_eq!(first["state"], "SIGNED");
    let (_, second) = app
        .control(
            "POST",
            &format!("/sandbox/v1/sessions/{s4}/agree"),
            Some(json!({"client_ip": "198.51.100.1"})),
        )
        .await;
    assert_eq!(
        (second["state"].as_str(), second["event"].as_str()),
        (Some("SIGNFAIL"), Some("SIGNING_FAILED_ALREADY_SIGNED"))
    );
}

#[tokio::test]
async fn agreeing_needs_an_openid_from_somewhere() {
    let app = spawn_app().await;
    let c = app.client();
    let sid = c
        .presign_app(&PresignRequest {
            openid: None,
            return_url: None,
            ..jsapi("O1")
        })
        .await
        .unwrap()
        .session_id;
    let path = format!("/sandbox/v1/sessions/{sid}/agree");
    let (status, body) = app.control("POST", &path, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("OPENID_REQUIRED")),
        "{body}"
    );
    let (status, body) = app.control("POST", &path, Some(json!({"openid": ""}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{body}");
    let (status, body) = app
        .control("POST", &path, Some(json!({"client_ip": "not-an-ip", "openid": "o1"})))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{body}");
    let (status, body) = app
        .control("POST", &path, Some(json!({"openid": "oTester1", "extra": 1})))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{body}");
    let (status, view) = app.control("POST", &path, Some(json!({"openid": "oTester1"}))).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["contract"]["openid"], "oTester1");
    assert_eq!(view["state"], "SIGNED");
}

#[tokio::test]
async fn expired_replaced_and_unknown_sessions_are_refused() {
    let app = spawn_app().await;
    let (_, session, _) = presign(&app, &jsapi("E1")).await;
    let (status, view) = app
        .control("POST", &format!("/sandbox/v1/sessions/{session}/expire"), None)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["state"].as_str(), view["live"].as_bool()),
        (Some("NOTSIGN"), Some(false))
    );
    for action in ["agree", "decline", "expire"] {
        let (status, body) = app
            .control("POST", &format!("/sandbox/v1/sessions/{session}/{action}"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (410, Some("SESSION_EXPIRED")),
            "{action}"
        );
    }
    assert_eq!(state_seen_by_merchant(&app, "E1").await, "NOTSIGN");

    // A new pre-sign of the same code replaces the session: the old one answers "expired".
    let (_, old, _) = presign(&app, &jsapi("E2")).await;
    let (_, new, _) = presign(&app, &jsapi("E2")).await;
    let (status, body) = app
        .control("POST", &format!("/sandbox/v1/sessions/{old}/agree"), None)
        .await;
    assert_eq!((status, body["code"].as_str()), (410, Some("SESSION_EXPIRED")));
    let (status, view) = app
        .control("POST", "/sandbox/v1/links/resolve", Some(json!({"link": old})))
        .await;
    assert_eq!(
        (status, view["replaced"].as_bool(), view["live"].as_bool()),
        (200, Some(true), Some(false))
    );
    let (status, _) = app
        .control("POST", &format!("/sandbox/v1/sessions/{new}/agree"), None)
        .await;
    assert_eq!(status, 200);

    for unknown in ["20261127000000000000000000000000000000000000000", "abc"] {
        let (status, body) = app
            .control("POST", &format!("/sandbox/v1/sessions/{unknown}/agree"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("SESSION_NOT_FOUND")),
            "{unknown}"
        );
    }
}

#[tokio::test]
async fn user_and_platform_terminations() {
    let app = spawn_app().await;
    for (code, by, mode) in [("T1", "USER", "USER"), ("T2", "PLATFORM", "PLATFORM")] {
        let (id, _, _) = presign(&app, &jsapi(code)).await;
        let path = format!("/sandbox/v1/contracts/{id}/terminate");
        let (status, body) = app.control("POST", &path, Some(json!({"as": by}))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("CONTRACT_NOT_TERMINABLE")),
            "unsigned"
        );
        app.agree(&id, None).await;
        let (status, detail) = app
            .control("POST", &path, Some(json!({"as": by, "note": "cancelled in wallet"})))
            .await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["contract"]["state"], "TERMINATED");
        assert_eq!(detail["contract"]["termination_mode"], mode);
        let last = detail["transitions"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["event"], format!("TERMINATED_BY_{mode}"));
        let queued: Vec<_> = detail["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(queued, ["PAPAY.SIGN", "PAPAY.TERMINATE"]);
        let q = app.client().query_contract(&id, &common()).await.unwrap();
        assert_eq!(
            (q.state.as_str(), q.termination_mode.as_deref()),
            ("TERMINATED", Some(mode))
        );
        assert_eq!(q.termination_note.as_deref(), Some("cancelled in wallet"));
        let (status, body) = app.control("POST", &path, Some(json!({"as": by}))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("CONTRACT_NOT_TERMINABLE")),
            "twice"
        );
    }
    let (id, _, _) = presign(&app, &jsapi("T3")).await;
    let path = format!("/sandbox/v1/contracts/{id}/terminate");
    for bad in [
        json!({"as": "MERCHANT"}),
        json!({"as": "user"}),
        json!({}),
        json!({"as": "USER", "note": ""}),
    ] {
        let (status, body) = app.control("POST", &path, Some(bad.clone())).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{bad}");
    }
    let (status, body) = app
        .control(
            "POST",
            "/sandbox/v1/contracts/99999999999999999999/terminate",
            Some(json!({"as": "USER"})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("CONTRACT_NOT_EXIST")));
}

#[tokio::test]
async fn contracts_are_listed_newest_first_with_filters() {
    let app = spawn_app().await;
    for code in ["L1", "L2", "L3"] {
        presign(&app, &jsapi(code)).await;
    }
    let (_, l3, _) = presign(&app, &jsapi("L3")).await;
    app.control("POST", &format!("/sandbox/v1/sessions/{l3}/agree"), None)
        .await;
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/contracts{q}"), None)
                .await;
            assert_eq!(status, 200, "{q}: {body}");
            body["contracts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["contract"]["out_contract_code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ["L3", "L2", "L1"]);
    assert_eq!(list("?state=SIGNED").await, ["L3"]);
    assert_eq!(list("?state=NOTSIGN&limit=1").await, ["L2"]);
    assert_eq!(list("?out_contract_code=L1&plan_id=12535").await, ["L1"]);
    assert!(list("?plan_id=12536").await.is_empty());
    for bad in [
        "?state=signed",
        "?limit=0",
        "?limit=501",
        "?plan_id=x",
        "?out_contract_code=a-b",
        "?color=red",
    ] {
        let (status, body) = app
            .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/contracts{bad}"), None)
            .await;
        assert_eq!((status, body["code"].as_str()), (400, Some("PARAM_ERROR")), "{bad}");
    }
    let (status, body) = app
        .control("GET", "/sandbox/v1/merchants/1999999999/contracts", None)
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("MERCHANT_NOT_FOUND")));
}
