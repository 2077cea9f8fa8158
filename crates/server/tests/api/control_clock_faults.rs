//! A merchant's virtual clock (driving expiry and contract times, never the response
//! timestamps) and fault injection (exactly N calls, per endpoint, per merchant).

use std::time::{Duration, Instant};

use papay_protocol::contracts::PresignRequest;
use serde_json::json;

use crate::helpers::*;

fn clock_path(mchid: &str) -> String {
    format!("/sandbox/v1/merchants/{mchid}/clock")
}

fn offset(view: &serde_json::Value) -> i64 {
    view["offset_seconds"].as_i64().unwrap()
}

#[tokio::test]
async fn the_virtual_clock_drives_expiry_and_contract_times() {
    let app = spawn_app().await;
    let c = app.client();
    c.presign_jsapi(&jsapi("K1")).await.unwrap();
    let id = c
        .query_contract_by_code("K1", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    let session = app.session_of(&id).await;

    let (status, clock) = app.control("GET", &clock_path(MCHID), None).await;
    assert_eq!((status, offset(&clock), clock["speed"].as_f64()), (200, 0, Some(1.0)));
    let (status, clock) = app
        .control(
            "POST",
            &format!("{}/advance", clock_path(MCHID)),
            Some(json!({"by": "2h 1m"})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    assert!((7259..=7262).contains(&offset(&clock)), "{clock}");

    // The JSAPI session (2 h) is over on the merchant's clock; queries still verify, because
    // the answers' Wechatpay-Timestamp stays on real time.
    let (status, body) = app
        .control("POST", &format!("/sandbox/v1/sessions/{session}/agree"), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("SESSION_EXPIRED")),
        "{body}"
    );
    assert_eq!(c.query_contract(&id, &common()).await.unwrap().state, "NOTSIGN");

    // A new pre-sign lives on the virtual clock: signed_time is virtual "now".
    c.presign_jsapi(&jsapi("K2")).await.unwrap();
    let k2 = c
        .query_contract_by_code("K2", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    app.agree(&k2, None).await;
    let signed = c.query_contract(&k2, &common()).await.unwrap().signed_time.unwrap();
    let signed = time::OffsetDateTime::parse(&signed, &time::format_description::well_known::Rfc3339).unwrap();
    let ahead = (signed - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((7250..=7270).contains(&ahead), "signed_time is {ahead} s ahead");

    // Other merchants keep real time.
    let (_, other) = app.control("GET", &clock_path(OTHER_MCHID), None).await;
    assert_eq!(offset(&other), 0);

    let (status, clock) = app.control("DELETE", &clock_path(MCHID), None).await;
    assert_eq!((status, offset(&clock)), (200, 0));
}

#[tokio::test]
async fn clock_speed_and_setting_now() {
    let app = spawn_app().await;
    let (status, clock) = app
        .control("PUT", &clock_path(MCHID), Some(json!({"speed": 3600})))
        .await;
    assert_eq!((status, clock["speed"].as_f64()), (200, Some(3600.0)), "{clock}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, clock) = app.control("GET", &clock_path(MCHID), None).await;
    assert!(offset(&clock) >= 3600, "an hour per real second: {clock}");

    let (status, clock) = app
        .control(
            "PUT",
            &clock_path(MCHID),
            Some(json!({"now": "2040-01-01T00:00:00+08:00", "speed": 0})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["now"], "2040-01-01T00:00:00+08:00");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, frozen) = app.control("GET", &clock_path(MCHID), None).await;
    assert_eq!(frozen["now"], "2040-01-01T00:00:00+08:00", "speed 0 freezes");

    for (method, path, body) in [
        ("PUT", clock_path(MCHID), json!({"now": "2030-01-01T00:00:00+08:00"})),
        ("PUT", clock_path(MCHID), json!({"speed": -1})),
        ("PUT", clock_path(MCHID), json!({"speed": 10001})),
        ("PUT", clock_path(MCHID), json!({})),
        ("PUT", clock_path(MCHID), json!({"now": "tomorrow"})),
        ("POST", format!("{}/advance", clock_path(MCHID)), json!({"by": "soon"})),
        (
            "POST",
            format!("{}/advance", clock_path(MCHID)),
            json!({"by": "11years"}),
        ),
        ("POST", format!("{}/advance", clock_path(MCHID)), json!({})),
    ] {
        let (status, err) = app.control(method, &path, Some(body.clone())).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("PARAM_ERROR")),
            "{body}: {err}"
        );
    }
    let (status, err) = app.control("GET", &clock_path("1999999999"), None).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("MERCHANT_NOT_FOUND")));
}

fn faults_path(mchid: &str) -> String {
    format!("/sandbox/v1/merchants/{mchid}/faults")
}

async fn add_fault(app: &TestApp, mchid: &str, body: serde_json::Value) -> serde_json::Value {
    let (status, fault) = app.control("POST", &faults_path(mchid), Some(body)).await;
    assert_eq!(status, 201, "{fault}");
    fault
}

#[tokio::test]
async fn errors_are_injected_exactly_n_times_on_the_named_endpoint() {
    let app = spawn_app().await;
    let c = app.client();
    c.presign_jsapi(&jsapi("X1")).await.unwrap();
    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "query-contract-by-code", "kind": "SYSTEMERROR", "count": 2}),
    )
    .await;
    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "jsapi-pre-entrust-sign", "kind": "RATE_LIMITED", "count": 1}),
    )
    .await;

    // The other merchant and other endpoints are untouched.
    app.client_for(OTHER_MCHID).download_certificates().await.unwrap();
    c.download_certificates().await.unwrap();

    for _ in 0..2 {
        let e = c.query_contract_by_code("X1", PLAN, &common()).await.unwrap_err();
        let api = e.api().unwrap();
        assert_eq!(
            (api.status, api.code.as_str(), api.signed),
            (500, "SYSTEMERROR", true),
            "{e}"
        );
    }
    let (_, list) = app.control("GET", &faults_path(MCHID), None).await;
    assert_eq!(
        list["faults"].as_array().unwrap().len(),
        1,
        "spent faults are gone: {list}"
    );
    c.query_contract_by_code("X1", PLAN, &common()).await.unwrap();

    let e = c.presign_jsapi(&jsapi("X2")).await.unwrap_err();
    assert_eq!(
        e.api().map(|a| (a.status, a.code.as_str())),
        Some((429, "RATE_LIMITED"))
    );
    // The refused pre-sign changed nothing; the next one goes through.
    assert!(c.query_contract_by_code("X2", PLAN, &common()).await.is_err());
    c.presign_jsapi(&jsapi("X2")).await.unwrap();
}

#[tokio::test]
async fn latency_and_signature_probes() {
    let app = spawn_app().await;
    let c = app.client();
    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "*", "kind": "LATENCY", "count": 1, "latency_ms": 600}),
    )
    .await;
    let t = Instant::now();
    c.download_certificates().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(600), "{:?}", t.elapsed());
    let t = Instant::now();
    c.download_certificates().await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(600));

    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "certificates", "kind": "SIGNTEST", "count": 1}),
    )
    .await;
    let prepared = c.prepare(http::Method::GET, "/v3/certificates", None).unwrap();
    let mut raw = reqwest::Client::new().get(format!("{}{}", app.base_url, prepared.path_and_query));
    for (k, v) in &prepared.headers {
        raw = raw.header(k, v);
    }
    let answer = raw.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let sig = answer.headers()["wechatpay-signature"].to_str().unwrap().to_string();
    assert!(sig.starts_with("WECHATPAY/SIGNTEST/"), "{sig}");
    c.download_certificates().await.unwrap();

    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "certificates", "kind": "SIGNTEST", "count": 1}),
    )
    .await;
    let e = c.download_certificates().await.unwrap_err();
    assert!(
        matches!(e, papay_client::Error::SignatureProbe),
        "a probe must fail verification: {e}"
    );
}

#[tokio::test]
async fn faults_are_listed_cleared_and_validated() {
    let app = spawn_app().await;
    let f = add_fault(
        &app,
        MCHID,
        json!({"endpoint": "terminate-contract", "kind": "SYSTEMERROR", "count": 3}),
    )
    .await;
    assert_eq!(
        (f["remaining"].as_u64(), f["endpoint"].as_str()),
        (Some(3), Some("terminate-contract"))
    );
    let (status, _) = app.control("DELETE", &faults_path(MCHID), None).await;
    assert_eq!(status, 204);
    let (_, list) = app.control("GET", &faults_path(MCHID), None).await;
    assert!(list["faults"].as_array().unwrap().is_empty());
    for bad in [
        json!({"endpoint": "nope", "kind": "SYSTEMERROR", "count": 1}),
        json!({"endpoint": "*", "kind": "systemerror", "count": 1}),
        json!({"endpoint": "*", "kind": "SYSTEMERROR", "count": 0}),
        json!({"endpoint": "*", "kind": "SYSTEMERROR", "count": -1}),
        json!({"endpoint": "*", "kind": "LATENCY", "count": 1}),
        json!({"endpoint": "*", "kind": "LATENCY", "count": 1, "latency_ms": 60001}),
        json!({"endpoint": "*", "kind": "SYSTEMERROR", "count": 1, "latency_ms": 5}),
        json!({"endpoint": "*", "kind": "SYSTEMERROR"}),
    ] {
        let (status, err) = app.control("POST", &faults_path(MCHID), Some(bad.clone())).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("PARAM_ERROR")),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn spent_faults_stop_affecting_calls() {
    let app = spawn_app().await;
    let c = app.client();
    add_fault(
        &app,
        MCHID,
        json!({"endpoint": "app-pre-entrust-sign", "kind": "SYSTEMERROR", "count": 1}),
    )
    .await;
    let req = PresignRequest {
        return_url: None,
        ..jsapi("P1")
    };
    assert!(c.presign_app(&req).await.is_err());
    c.presign_app(&req).await.unwrap();
    c.presign_app(&req).await.unwrap();
}
