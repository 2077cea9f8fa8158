//! Throwaway merchants, per-merchant resets, and who may use the control API: open on
//! loopback, token-only elsewhere, and a merchant's token never reaches another merchant.

use papay_client::Client;
use papay_protocol::contracts::{Identity, PresignRequest};
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use serde_json::{json, Value};

use crate::helpers::*;

async fn throwaway(app: &TestApp) -> Value {
    let (status, m) = app
        .control("POST", "/sandbox/v1/merchants", Some(json!({"name": "CI run 42"})))
        .await;
    assert_eq!(status, 201, "{m}");
    m
}

fn client_of(app: &TestApp, m: &Value) -> Client {
    let s = |k: &str| m[k].as_str().unwrap().to_string();
    Client::builder()
        .base_url(&app.base_url)
        .merchant(
            s("mchid"),
            s("merchant_serial"),
            PrivateKey::from_pem(&s("merchant_private_key_pem")).unwrap(),
        )
        .platform_certificate(&Certificate::from_pem(&s("platform_certificate_pem")).unwrap())
        .build()
        .unwrap()
}

fn presign_for(m: &Value, code: &str) -> PresignRequest {
    PresignRequest {
        identity: Identity::common(m["appid"].as_str().unwrap()),
        plan_id: m["plan_id"].as_i64().unwrap(),
        ..jsapi(code)
    }
}

#[tokio::test]
async fn a_throwaway_merchant_works_like_any_merchant_and_is_isolated() {
    let app = spawn_app().await;
    let m = throwaway(&app).await;
    let mchid = m["mchid"].as_str().unwrap().to_string();
    let token = m["control_token"].as_str().unwrap().to_string();
    assert_eq!(m["name"], "CI run 42");
    assert_eq!(m["apiv3_key"].as_str().unwrap().len(), 32);

    let c = client_of(&app, &m);
    c.presign_jsapi(&presign_for(&m, "W1")).await.unwrap();
    let mine = c
        .query_contract_by_code(
            "W1",
            m["plan_id"].as_i64().unwrap(),
            &Identity::common(m["appid"].as_str().unwrap()),
        )
        .await
        .unwrap();
    // Its plan belongs to it alone.
    let foreign_plan = PresignRequest {
        plan_id: m["plan_id"].as_i64().unwrap(),
        ..jsapi("W2")
    };
    let e = app.client().presign_jsapi(&foreign_plan).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(403), "{e}");

    // Its token reaches its own data ...
    let tok = Some(token.as_str());
    let (status, list) = app
        .control_as(tok, "GET", &format!("/sandbox/v1/merchants/{mchid}/contracts"), None)
        .await;
    assert_eq!((status, list["contracts"].as_array().map(Vec::len)), (200, Some(1)));
    let (status, _) = app
        .control_as(tok, "GET", &format!("/sandbox/v1/contracts/{}", mine.contract_id), None)
        .await;
    assert_eq!(status, 200);

    // ... and nothing of anyone else's.
    app.client().presign_jsapi(&jsapi("MAIN1")).await.unwrap();
    let main_id = app
        .client()
        .query_contract_by_code("MAIN1", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let main_session = app.session_of(&main_id).await;
    for (method, path, body) in [
        ("GET", format!("/sandbox/v1/merchants/{MCHID}/contracts"), None),
        ("GET", format!("/sandbox/v1/merchants/{MCHID}/clock"), None),
        (
            "POST",
            format!("/sandbox/v1/merchants/{MCHID}/clock/advance"),
            Some(json!({"by": "1h"})),
        ),
        ("POST", format!("/sandbox/v1/merchants/{MCHID}/reset"), None),
        ("DELETE", format!("/sandbox/v1/merchants/{MCHID}/faults"), None),
        ("POST", "/sandbox/v1/merchants".to_string(), None),
    ] {
        let (status, err) = app.control_as(tok, method, &path, body).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (403, Some("NO_AUTH")),
            "{method} {path}"
        );
    }
    for (path, body, code) in [
        (format!("/sandbox/v1/contracts/{main_id}"), None, "CONTRACT_NOT_EXIST"),
        (
            format!("/sandbox/v1/contracts/{main_id}/terminate"),
            Some(json!({"as": "USER"})),
            "CONTRACT_NOT_EXIST",
        ),
        (
            format!("/sandbox/v1/sessions/{main_session}/agree"),
            None,
            "SESSION_NOT_FOUND",
        ),
        (
            "/sandbox/v1/links/resolve".to_string(),
            Some(json!({"link": main_session})),
            "LINK_NOT_FOUND",
        ),
    ] {
        let method = if body.is_some() || path.ends_with("/agree") {
            "POST"
        } else {
            "GET"
        };
        let (status, err) = app.control_as(tok, method, &path, body).await;
        assert_eq!((status, err["code"].as_str()), (404, Some(code)), "{path}");
    }
    assert_eq!(
        app.agree(&main_id, None).await["state"],
        "SIGNED",
        "untouched by the other token"
    );

    let (status, err) = app
        .control_as(Some("papay_ct_wrong"), "GET", "/sandbox/v1/merchants/x/clock", None)
        .await;
    assert_eq!((status, err["code"].as_str()), (401, Some("UNAUTHORIZED")));

    // Deleting it removes everything it had; configured merchants cannot be deleted.
    let (status, _) = app
        .control_as(tok, "DELETE", &format!("/sandbox/v1/merchants/{mchid}"), None)
        .await;
    assert_eq!(status, 204);
    let e = c.presign_jsapi(&presign_for(&m, "W3")).await.unwrap_err();
    assert_eq!(
        e.api().map(|a| (a.status, a.code.as_str())),
        Some((401, "SIGN_ERROR")),
        "{e}"
    );
    let (status, _) = app
        .control_as(tok, "GET", &format!("/sandbox/v1/merchants/{mchid}/contracts"), None)
        .await;
    assert_eq!(status, 401, "a deleted merchant's token is dead");
    let (status, err) = app
        .control("DELETE", &format!("/sandbox/v1/merchants/{MCHID}"), None)
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("NO_AUTH")));
    let (status, err) = app.control("DELETE", "/sandbox/v1/merchants/1999999999", None).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("MERCHANT_NOT_FOUND")));
}

#[tokio::test]
async fn reset_forgets_one_merchants_contracts_clock_and_faults() {
    let app = spawn_app().await;
    let c = app.client();
    c.presign_jsapi(&jsapi("Z1")).await.unwrap();
    app.client_for(OTHER_MCHID)
        .presign_jsapi(&PresignRequest {
            identity: Identity::common(OTHER_APPID),
            plan_id: OTHER_PLAN,
            ..jsapi("Z2")
        })
        .await
        .unwrap();
    app.control(
        "POST",
        &format!("/sandbox/v1/merchants/{MCHID}/clock/advance"),
        Some(json!({"by": "1d"})),
    )
    .await;
    app.control(
        "POST",
        &format!("/sandbox/v1/merchants/{MCHID}/faults"),
        Some(json!({"endpoint": "*", "kind": "SYSTEMERROR", "count": 5})),
    )
    .await;
    let (status, _) = app
        .control("POST", &format!("/sandbox/v1/merchants/{MCHID}/reset"), None)
        .await;
    assert_eq!(status, 204);
    let e = c.query_contract_by_code("Z1", PLAN, &common()).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("CONTRACT_NOT_EXIST"));
    let (_, clock) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/clock"), None)
        .await;
    assert_eq!(clock["offset_seconds"], 0);
    // The code is free again, and the other merchant kept its contract.
    c.presign_jsapi(&jsapi("Z1")).await.unwrap();
    let (_, other) = app
        .control("GET", &format!("/sandbox/v1/merchants/{OTHER_MCHID}/contracts"), None)
        .await;
    assert_eq!(other["contracts"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn beyond_loopback_the_control_api_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let config = format!("control_token = \"{ADMIN_TOKEN}\"\n{}", standard_config(false));
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();
    let app = spawn_config_on(dir, "0.0.0.0:0").await;
    let path = format!("/sandbox/v1/merchants/{MCHID}/clock");
    let (status, err) = app.control("GET", &path, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("UNAUTHORIZED")), "{err}");
    let (status, _) = app
        .control_as(Some(&format!("{ADMIN_TOKEN}x")), "GET", &path, None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = app.control_as(Some(ADMIN_TOKEN), "GET", &path, None).await;
    assert_eq!(status, 200);
    let mut raw = reqwest::Client::new()
        .get(format!("{}{path}", app.base_url))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    raw = reqwest::Client::new()
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200, "the rest of papay is not behind the token");
}

#[tokio::test]
async fn a_short_control_token_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let config = format!("control_token = \"short\"\n{}", standard_config(false));
    std::fs::write(dir.path().join("papay.toml"), &config).unwrap();
    let err = papay::config::Settings::load(Some(&dir.path().join("papay.toml")), &Default::default()).unwrap_err();
    assert!(err.to_string().contains("control_token"), "{err}");
}
