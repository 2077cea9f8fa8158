//! The signing pages over plain HTTP: statuses, the state changes they cause, the openid
//! cookie, and every dead-link answer. (The browser walk-through is in `browser.rs`.)

use papay_protocol::contracts::PresignRequest;

use crate::helpers::*;

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The user's decision, posted as the signing page's form does (redirects not followed).
async fn decide(app: &TestApp, fields: &[(&str, &str)], cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirects()
        .post(format!("{}/global/papay/contracts/login", app.base_url))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.body(form(fields)).send().await.unwrap()
}

/// A page's HTML as a browser holding `cookie` gets it.
async fn page_with_cookie(url: &str, cookie: &str) -> String {
    reqwest::Client::new()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn state(app: &TestApp, code: &str) -> String {
    app.client()
        .query_contract_by_code(code, PLAN, &common())
        .await
        .unwrap()
        .state
}

#[tokio::test]
async fn opening_the_sign_url_moves_notsign_to_signing_and_agreeing_signs() {
    let app = spawn_app().await;
    let sign_url = app.client().presign_jsapi(&jsapi("G1")).await.unwrap().sign_url;
    assert!(sign_url.starts_with(&format!("{}/global/papay/contracts/login?os_session_id=", app.base_url)));
    assert_eq!(state(&app, "G1").await, "NOTSIGN");
    let page = reqwest::get(&sign_url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    for expected in [
        "Test Store",
        "Zhang San",
        "ouFhd5X9s9WteC3eWRjXV3lea123",
        "id=\"agree\"",
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    assert_eq!(state(&app, "G1").await, "SIGNING");

    let token = sign_url.split("os_session_id=").nth(1).unwrap();
    let fields = [("os_session_id", token), ("decision", "agree")];
    let r = decide(&app, &fields, None).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/global/papay/contracts/login?os_session_id={token}")
    );
    assert_eq!(state(&app, "G1").await, "SIGNED");
    let outcome = reqwest::get(&sign_url).await.unwrap();
    assert_eq!(outcome.status(), 200);
    assert!(outcome.text().await.unwrap().contains("data-state=\"SIGNED\""));
}

#[tokio::test]
async fn a_typed_openid_is_checked_and_remembered() {
    let app = spawn_app().await;
    let c = app.client();
    let req = PresignRequest {
        openid: None,
        return_url: None,
        ..jsapi("G2")
    };
    let show_code_url = c.presign_web(&req).await.unwrap().show_code_url;
    let token = show_code_url.split("os_session_id=").nth(1).unwrap().to_string();
    let qr = reqwest::get(&show_code_url).await.unwrap();
    assert_eq!(qr.status(), 200);
    let qr = qr.text().await.unwrap();
    assert!(qr.contains("<svg") && qr.contains(&format!("/global/papay/contracts/login?os_session_id={token}")));
    assert_eq!(
        state(&app, "G2").await,
        "NOTSIGN",
        "showing the QR code is not opening the page"
    );

    let post = |openid: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            decide(
                app,
                &[
                    ("os_session_id", token.as_str()),
                    ("decision", "agree"),
                    ("openid", openid),
                ],
                None,
            )
            .await
        }
    };
    let r = post("").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Enter the openid"));
    let r = post("bad openid with spaces that is far too long ........................................................................................").await;
    assert_eq!(r.status(), 400);
    let r = post("oTyped123").await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("papay_openid=oTyped123;"), "{cookie}");
    let q = c.query_contract_by_code("G2", PLAN, &common()).await.unwrap();
    assert_eq!((q.state.as_str(), q.openid.as_deref()), ("SIGNED", Some("oTyped123")));

    // The next page without a fixed openid is prefilled from the cookie.
    let next = c
        .presign_h5(&PresignRequest {
            user_client_ip: Some("127.0.0.1".into()),
            ..req.clone()
        })
        .await;
    assert!(next.is_err(), "G2 is signed: CONTRACT_EXISTED");
    let sign_url = c
        .presign_h5(&PresignRequest {
            user_client_ip: Some("127.0.0.1".into()),
            ..jsapi("G3")
        })
        .await
        .unwrap()
        .sign_url;
    let page = page_with_cookie(&sign_url, "other=1; papay_openid=oTyped123").await;
    assert!(page.contains("value=\"oTyped123\""), "prefilled");
}

#[tokio::test]
async fn the_browsers_address_is_the_users_ip() {
    let app = spawn_app().await;
    let c = app.client();
    for (code, ip, expected) in [("G4", "127.0.0.1", "SIGNED"), ("G5", "203.0.113.9", "SIGNFAIL")] {
        let sign_url = c
            .presign_h5(&PresignRequest {
                openid: None,
                user_client_ip: Some(ip.into()),
                return_url: None,
                ..jsapi(code)
            })
            .await
            .unwrap()
            .sign_url;
        let token = sign_url.split("os_session_id=").nth(1).unwrap();
        decide(
            &app,
            &[("os_session_id", token), ("decision", "agree"), ("openid", "oTester")],
            None,
        )
        .await;
        assert_eq!(state(&app, code).await, expected, "{ip}");
        let outcome = reqwest::get(&sign_url).await.unwrap().text().await.unwrap();
        assert!(outcome.contains(&format!("data-state=\"{expected}\"")));
    }
    let outcome = reqwest::get(format!(
        "{}/global/papay/contracts/login?os_session_id={}",
        app.base_url,
        app.session_of(
            &c.query_contract_by_code("G5", PLAN, &common())
                .await
                .unwrap()
                .contract_id
        )
        .await
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(outcome.contains("network address"), "the failure reason is shown");
}

#[tokio::test]
async fn dead_links_answer_410_or_404_with_a_page() {
    let app = spawn_app().await;
    let c = app.client();
    let old = c.presign_jsapi(&jsapi("G6")).await.unwrap().sign_url;
    let new = c.presign_jsapi(&jsapi("G6")).await.unwrap().sign_url;
    let r = reqwest::get(&old).await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("data-kind=\"replaced\""));

    let token = new.split("os_session_id=").nth(1).unwrap();
    app.control("POST", &format!("/sandbox/v1/sessions/{token}/expire"), None)
        .await;
    for url in [new.clone(), new.replace("/login?", "/sessions/show_code?")] {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 410, "{url}");
        assert!(r.text().await.unwrap().contains("data-kind=\"expired\""));
    }
    let r = decide(&app, &[("os_session_id", token), ("decision", "agree")], None).await;
    assert_eq!(r.status(), 410);

    for path in [
        "/global/papay/contracts/login",
        "/global/papay/contracts/login?os_session_id=123",
        "/global/papay/contracts/login?os_session_id=<script>",
        "/global/papay/contracts/sessions/show_code?os_session_id=999",
    ] {
        let r = reqwest::get(format!("{}{path}", app.base_url)).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("data-kind=\"not-found\"") && !body.contains("<script>"),
            "{path}"
        );
    }
    let r = no_redirects()
        .post(format!("{}/global/papay/contracts/login", app.base_url))
        .body("%%%garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_app_session_page_takes_a_session_id() {
    let app = spawn_app().await;
    let session_id = app
        .client()
        .presign_app(&PresignRequest {
            return_url: None,
            ..jsapi("G7")
        })
        .await
        .unwrap()
        .session_id;
    let entry = reqwest::get(format!("{}/papay/open", app.base_url)).await.unwrap();
    assert_eq!(entry.status(), 200);
    assert!(entry.text().await.unwrap().contains("sessionId"));
    let r = no_redirects()
        .get(format!("{}/papay/open?sessionId={session_id}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/global/papay/contracts/login?os_session_id={session_id}")
    );
    let r = reqwest::get(format!("{}/papay/open?sessionId=42", app.base_url))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn recent_openids_are_offered_to_pick() {
    let app = spawn_app().await;
    let c = app.client();
    let no_openid = |code: &str| PresignRequest {
        openid: None,
        return_url: None,
        ..jsapi(code)
    };
    let url = c.presign_web(&no_openid("G8")).await.unwrap().show_code_url;
    let token = url.split("os_session_id=").nth(1).unwrap();
    let sign_url = format!("{}/global/papay/contracts/login?os_session_id={token}", app.base_url);
    let page = page_with_cookie(&sign_url, "papay_openid=oB.oA.bad%20one.oB").await;
    assert!(page.contains(r#"value="oB""#), "the most recent is prefilled");
    assert!(page.contains(r#"<option value="oA">"#) && page.contains(r#"<option value="oB">"#));
    assert!(
        !page.contains("bad one") && !page.contains("bad%20one"),
        "invalid entries are dropped"
    );

    let r = decide(
        &app,
        &[("os_session_id", token), ("decision", "agree"), ("openid", "oA")],
        Some("papay_openid=oB.oA"),
    )
    .await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("papay_openid=oA.oB;"),
        "most recent first, no repeats: {cookie}"
    );
}
