//! Notifications end to end: a real HTTPS receiver (self-signed CA trusted through config)
//! gets PAPAY.SIGN and PAPAY.TERMINATE, verified and decrypted by `papay-client` and again by
//! hand with `papay-protocol` only; the retry schedule on a frozen merchant clock; resend;
//! pause and resume.

use std::time::Duration;

use papay_protocol::aead::ApiV3Key;
use papay_protocol::contracts::{Identity, PresignRequest, TerminateRequest};
use papay_protocol::notifications::{open, Notification, PapayEvent};
use papay_protocol::pki::Certificate;
use papay_protocol::signing::response_signing_string;
use serde_json::json;

use crate::helpers::*;
use crate::receiver::{Received, Receiver};

const WAIT: Duration = Duration::from_secs(10);

/// The standard config, trusting `receiver`'s CA, plan 12535 terminating to it.
pub fn receiver_config(receiver: &Receiver) -> String {
    standard_config(false).replacen(
        "contract_validity_days = 365",
        &format!(
            "contract_validity_days = 365\ntermination_notify_url = \"{}\"",
            receiver.url("/terminate")
        ),
        1,
    ) + "\n[notify]\nextra_ca_files = [\"receiver-ca.pem\"]\n"
}

/// papay with [`receiver_config`].
pub async fn spawn_with_receiver() -> (TestApp, Receiver) {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let receiver = Receiver::start(dir.path());
    std::fs::write(dir.path().join("papay.toml"), receiver_config(&receiver)).unwrap();
    (spawn_config(dir).await, receiver)
}

fn presign_to(receiver: &Receiver, code: &str) -> PresignRequest {
    PresignRequest {
        success_notify_url: receiver.url("/sign"),
        openid: Some(format!("o{code}")),
        ..jsapi(code)
    }
}

async fn signed_contract(app: &TestApp, receiver: &Receiver, code: &str) -> String {
    let c = app.client();
    c.presign_jsapi(&presign_to(receiver, code)).await.unwrap();
    let id = c
        .query_contract_by_code(code, PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    assert_eq!(app.agree(&id, None).await["state"], "SIGNED");
    id
}

/// Checks a delivery with nothing but `papay-protocol`: headers, signature, decryption.
fn verify_by_hand(r: &Received) -> (Notification, PapayEvent) {
    let h = |n: &str| r.headers[n].to_str().unwrap().to_string();
    assert_eq!(h("content-type"), "application/json");
    assert_eq!(h("wechatpay-signature-type"), "WECHATPAY2-SHA256-RSA2048");
    assert!(r.headers.contains_key("request-id"));
    let platform = Certificate::from_pem(&keys().platform_cert).unwrap();
    assert_eq!(h("wechatpay-serial"), platform.serial());
    let age = now() - h("wechatpay-timestamp").parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "signed at send time");
    let message = response_signing_string(&h("wechatpay-timestamp"), &h("wechatpay-nonce"), &r.body);
    platform
        .public_key()
        .verify_base64(&message, &h("wechatpay-signature"))
        .expect("signature over the exact body");
    let envelope: Notification = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (envelope.resource_type.as_str(), envelope.resource.algorithm.as_str()),
        ("encrypt-resource", "AEAD_AES_256_GCM")
    );
    assert_eq!(envelope.resource.nonce.len(), 12);
    let event = open(&ApiV3Key::parse(&keys().apiv3_key).unwrap(), &envelope.resource).unwrap();
    (envelope, event)
}

#[tokio::test]
async fn sign_and_every_termination_mode_are_notified_in_common_mode() {
    let (app, receiver) = spawn_with_receiver().await;
    let c = app.client();
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for code in ["N1", "N2", "N3"] {
            v.push(signed_contract(&app, &receiver, code).await);
        }
        v
    };
    let signs = receiver.wait_for(3, WAIT).await;
    for r in &signs {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/sign"));
        let verified = c.receive_notification(&r.headers, &r.body).unwrap();
        let (envelope, event) = verify_by_hand(r);
        assert_eq!(verified.envelope, envelope);
        assert_eq!(verified.event, event);
        assert_eq!(
            (envelope.event_type.as_str(), envelope.summary.as_str()),
            ("PAPAY.SIGN", "签约成功")
        );
        assert_eq!(event.mchid.as_deref(), Some(MCHID));
        assert_eq!(event.identity.appid.as_deref(), Some(APPID));
        assert_eq!(event.plan_id, PLAN);
        assert_eq!(event.openid, format!("o{}", q_code(&c, &event.contract_id).await));
        assert!(ids.contains(&event.contract_id));
        let q = c.query_contract(&event.contract_id, &common()).await.unwrap();
        assert_eq!(Some(event.operate_time.clone()), q.signed_time);
        assert_eq!(event.contract_expired_time, q.expired_time);
        assert_eq!(event.contract_termination_mode, None);
    }

    c.terminate_contract(
        &ids[0],
        &TerminateRequest {
            identity: common(),
            termination_note: "merchant ends it".into(),
        },
    )
    .await
    .unwrap();
    for (id, by) in [(&ids[1], "USER"), (&ids[2], "PLATFORM")] {
        let (status, _) = app
            .control(
                "POST",
                &format!("/sandbox/v1/contracts/{id}/terminate"),
                Some(json!({"as": by})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let all = receiver.wait_for(6, WAIT).await;
    let mut modes = Vec::new();
    for r in all.iter().filter(|r| r.path == "/terminate") {
        let verified = c.receive_notification(&r.headers, &r.body).unwrap();
        let (envelope, event) = verify_by_hand(r);
        assert_eq!(
            (envelope.event_type.as_str(), envelope.summary.as_str()),
            ("PAPAY.TERMINATE", "解约成功")
        );
        assert_eq!(verified.event, event);
        let q = c.query_contract(&event.contract_id, &common()).await.unwrap();
        assert_eq!(Some(event.operate_time.clone()), q.terminated_time);
        modes.push((
            event.contract_id.clone(),
            event.contract_termination_mode.clone().unwrap(),
        ));
    }
    modes.sort();
    let mut expected = vec![
        (ids[0].clone(), "MERCHANT".to_string()),
        (ids[1].clone(), "USER".to_string()),
        (ids[2].clone(), "PLATFORM".to_string()),
    ];
    expected.sort();
    assert_eq!(modes, expected);

    // The delivery log shows each as delivered on the first attempt.
    let list = log_when(&app, "", |l| {
        l.len() == 6 && l.iter().all(|n| n["status"] == "DELIVERED")
    })
    .await;
    assert!(list.iter().all(|n| n["attempts"] == 1), "{list:?}");
}

#[tokio::test]
async fn institutional_notifications_carry_the_sub_merchant_in_every_termination_mode() {
    let (app, receiver) = spawn_with_receiver().await;
    let c = app.client();
    let identity = Identity::institutional(APPID, SUB_MCHID, Some(SUB_APPID.into()));
    let mut expected_modes = Vec::new();
    for (code, mode) in [("I1", "MERCHANT"), ("I2", "USER"), ("I3", "PLATFORM")] {
        c.presign_jsapi(&PresignRequest {
            identity: identity.clone(),
            ..presign_to(&receiver, code)
        })
        .await
        .unwrap();
        let id = c
            .query_contract_by_code(code, PLAN, &identity)
            .await
            .unwrap()
            .contract_id;
        app.agree(&id, None).await;
        if mode == "MERCHANT" {
            let req = TerminateRequest {
                identity: identity.clone(),
                termination_note: "institution ends it".into(),
            };
            c.terminate_contract(&id, &req).await.unwrap();
        } else {
            let (status, _) = app
                .control(
                    "POST",
                    &format!("/sandbox/v1/contracts/{id}/terminate"),
                    Some(json!({"as": mode})),
                )
                .await;
            assert_eq!(status, 200);
        }
        expected_modes.push((id, mode.to_string()));
    }
    let got = receiver.wait_for(6, WAIT).await;
    let mut modes = Vec::new();
    for r in &got {
        let verified = c.receive_notification(&r.headers, &r.body).unwrap();
        let (_, by_hand) = verify_by_hand(r);
        assert_eq!(verified.event, by_hand);
        let e = verified.event;
        assert_eq!((e.mchid.as_deref(), e.sp_mchid.as_deref()), (None, Some(MCHID)));
        assert_eq!(e.identity.sp_appid.as_deref(), Some(APPID));
        assert_eq!(e.identity.sub_mchid.as_deref(), Some(SUB_MCHID));
        assert_eq!(e.identity.sub_appid.as_deref(), Some(SUB_APPID));
        assert_eq!(e.sub_openid.as_deref(), Some(e.openid.as_str()));
        if let Some(mode) = e.contract_termination_mode {
            assert_eq!(r.path, "/terminate");
            modes.push((e.contract_id, mode));
        }
    }
    modes.sort();
    expected_modes.sort();
    assert_eq!(modes, expected_modes);
}

/// The merchant's delivery log (filtered by `query`) once `ready` holds; the receiver may see
/// a delivery a moment before papay records it.
pub(crate) async fn log_when(
    app: &TestApp,
    query: &str,
    ready: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let fetch = || async {
        let (status, list) = app
            .control(
                "GET",
                &format!("/sandbox/v1/merchants/{MCHID}/notifications{query}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{list}");
        list["notifications"].as_array().unwrap().clone()
    };
    let list = poll(WAIT, fetch, |l| ready(l)).await;
    assert!(ready(&list), "the delivery log never got there: {list:?}");
    list
}

/// The first matching notification with its log, once its first attempt is recorded.
async fn after_first_attempt(app: &TestApp, query: &str) -> serde_json::Value {
    let list = log_when(app, query, |l| l[0]["attempts"] == 1).await;
    let id = list[0]["id"].as_str().unwrap();
    app.control("GET", &format!("/sandbox/v1/notifications/{id}"), None)
        .await
        .1
}

async fn q_code(c: &papay_client::Client, id: &str) -> String {
    c.query_contract(id, &common()).await.unwrap().out_contract_code
}

pub(crate) fn clock(mchid: &str) -> String {
    format!("/sandbox/v1/merchants/{mchid}/clock")
}

#[tokio::test]
async fn failed_deliveries_follow_the_retry_schedule_then_give_up() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.set_default(500, r#"{"code":"FAIL","message":"not today"}"#);
    let (status, _) = app.control("PUT", &clock(MCHID), Some(json!({"speed": 0}))).await;
    assert_eq!(status, 200);
    let id = signed_contract(&app, &receiver, "S1").await;
    receiver.wait_for(1, WAIT).await;

    let offsets = [0i64, 15, 30, 60, 240, 2_040, 3_840, 5_640, 7_440, 11_040];
    for (k, pair) in offsets.windows(2).enumerate() {
        let step = pair[1] - pair[0];
        // One second short of the next offset: nothing is sent.
        app.control(
            "POST",
            &format!("{}/advance", clock(MCHID)),
            Some(json!({"by": format!("{}s", step - 1)})),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), k + 1, "attempt {} came early", k + 2);
        app.control("POST", &format!("{}/advance", clock(MCHID)), Some(json!({"by": "1s"})))
            .await;
        receiver.wait_for(k + 2, WAIT).await;
    }
    // Given up: a day later nothing more comes.
    app.control("POST", &format!("{}/advance", clock(MCHID)), Some(json!({"by": "1d"})))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 10);

    // Same id and the very same body on every attempt; a fresh signature each time.
    assert!(got.iter().all(|r| r.body == got[0].body));
    let mut nonces: Vec<_> = got.iter().map(|r| r.headers["wechatpay-nonce"].clone()).collect();
    nonces.dedup();
    assert_eq!(nonces.len(), 10);

    let list = log_when(&app, &format!("?contract_id={id}"), |l| l[0]["status"] == "GAVE_UP").await;
    let n = &list[0];
    assert_eq!(n["attempts"].as_u64(), Some(10));
    let (_, one) = app
        .control(
            "GET",
            &format!("/sandbox/v1/notifications/{}", n["id"].as_str().unwrap()),
            None,
        )
        .await;
    let log = one["log"].as_array().unwrap();
    let at = |a: &serde_json::Value| {
        time::OffsetDateTime::parse(
            a["virtual_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let seen: Vec<i64> = log.iter().map(|a| (at(a) - at(&log[0])).whole_seconds()).collect();
    assert_eq!(
        seen, offsets,
        "attempts at exactly the documented offsets (merchant time)"
    );
    assert!(log.iter().all(|a| a["http_status"] == 500 && a["outcome"] == "FAILED"));
    assert_eq!(log[0]["response_head"], r#"{"code":"FAIL","message":"not today"}"#);
    let envelope: Notification = serde_json::from_str(one["body"].as_str().unwrap()).unwrap();
    assert_eq!(envelope.id, n["id"].as_str().unwrap());
}

#[tokio::test]
async fn resend_pause_and_resume() {
    let (app, receiver) = spawn_with_receiver().await;
    signed_contract(&app, &receiver, "P1").await;
    let first = receiver.wait_for(1, WAIT).await;
    let (_, list) = app
        .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/notifications"), None)
        .await;
    let nid = list["notifications"][0]["id"].as_str().unwrap().to_string();
    let (status, view) = app
        .control("POST", &format!("/sandbox/v1/notifications/{nid}/resend"), None)
        .await;
    assert_eq!(status, 202, "{view}");
    let again = receiver.wait_for(2, WAIT).await;
    assert_eq!(again[1].body, first[0].body, "a resend is the same notification");

    let (status, _) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications/pause"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    signed_contract(&app, &receiver, "P2").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.received().len(), 2, "paused: nothing goes out");
    let (status, _) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications/resume"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    receiver.wait_for(3, WAIT).await;

    for (method, path, code) in [
        (
            "GET",
            "/sandbox/v1/notifications/nope".to_string(),
            "NOTIFICATION_NOT_FOUND",
        ),
        (
            "POST",
            "/sandbox/v1/notifications/nope/resend".to_string(),
            "NOTIFICATION_NOT_FOUND",
        ),
        (
            "POST",
            "/sandbox/v1/merchants/1999999999/notifications/pause".to_string(),
            "MERCHANT_NOT_FOUND",
        ),
    ] {
        let (status, err) = app.control(method, &path, None).await;
        assert_eq!((status, err["code"].as_str()), (404, Some(code)), "{path}");
    }
    for bad in ["?status=done", "?event_type=X", "?limit=0", "?what=1"] {
        let (status, err) = app
            .control(
                "GET",
                &format!("/sandbox/v1/merchants/{MCHID}/notifications{bad}"),
                None,
            )
            .await;
        assert_eq!((status, err["code"].as_str()), (400, Some("PARAM_ERROR")), "{bad}");
    }
}

#[tokio::test]
async fn unreachable_and_refusing_receivers_are_logged() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.close_connection();
    signed_contract(&app, &receiver, "U1").await;
    receiver.wait_for(1, WAIT).await;
    // The attempt is recorded with the transport error; the next one is due 15 s later.
    let log = after_first_attempt(&app, "").await;
    assert_eq!(log["status"], "PENDING");
    let attempt = &log["log"][0];
    assert_eq!(
        (attempt["outcome"].as_str(), attempt["http_status"].as_u64()),
        (Some("FAILED"), None)
    );
    assert!(
        attempt["error"].as_str().unwrap().contains("request failed"),
        "{attempt}"
    );
    assert!(log["next_attempt_at"].is_string());
}

async fn notification_fault(app: &TestApp, kind: &str) {
    let (status, body) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/faults"),
            Some(json!({"endpoint": "notifications", "kind": kind, "count": 1})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn injected_delivery_faults_drop_duplicate_and_probe() {
    let (app, receiver) = spawn_with_receiver().await;
    let c = app.client();
    // An API-wide fault leaves deliveries alone.
    app.control(
        "POST",
        &format!("/sandbox/v1/merchants/{MCHID}/faults"),
        Some(json!({"endpoint": "*", "kind": "LATENCY", "count": 100, "latency_ms": 1})),
    )
    .await;
    app.control("PUT", &clock(MCHID), Some(json!({"speed": 0}))).await;

    notification_fault(&app, "DROP").await;
    let dropped = signed_contract(&app, &receiver, "F1").await;
    let one = after_first_attempt(&app, &format!("?contract_id={dropped}")).await;
    assert!(receiver.received().is_empty(), "a dropped attempt is not sent");
    assert_eq!(one["log"][0]["outcome"], "DROPPED");
    app.control("POST", &format!("{}/advance", clock(MCHID)), Some(json!({"by": "15s"})))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        serde_json::from_slice::<Notification>(&got[0].body).unwrap().id,
        one["id"].as_str().unwrap()
    );

    notification_fault(&app, "DUPLICATE").await;
    signed_contract(&app, &receiver, "F2").await;
    let got = receiver.wait_for(3, WAIT).await;
    assert_eq!(got[1].body, got[2].body, "the same notification twice");

    notification_fault(&app, "SIGNTEST").await;
    signed_contract(&app, &receiver, "F3").await;
    let got = receiver.wait_for(4, WAIT).await;
    let probe = &got[3];
    assert!(probe.headers["wechatpay-signature"]
        .to_str()
        .unwrap()
        .starts_with("WECHATPAY/SIGNTEST/"));
    assert!(matches!(
        c.receive_notification(&probe.headers, &probe.body),
        Err(papay_client::Error::SignatureProbe)
    ));

    for (endpoint, kind) in [
        ("notifications", "SYSTEMERROR"),
        ("notifications", "RATE_LIMITED"),
        ("query-contract", "DROP"),
        ("*", "DUPLICATE"),
    ] {
        let (status, err) = app
            .control(
                "POST",
                &format!("/sandbox/v1/merchants/{MCHID}/faults"),
                Some(json!({"endpoint": endpoint, "kind": kind, "count": 1})),
            )
            .await;
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("PARAM_ERROR")),
            "{endpoint} {kind}"
        );
    }
}

#[tokio::test]
async fn private_targets_can_be_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let receiver = Receiver::start(dir.path());
    let config = receiver_config(&receiver) + "allow_private_targets = false\n";
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();
    let app = spawn_config(dir).await;
    signed_contract(&app, &receiver, "V1").await;
    let one = after_first_attempt(&app, "").await;
    assert!(receiver.received().is_empty());
    let error = one["log"][0]["error"].as_str().unwrap();
    assert!(error.contains("private address refused"), "{error}");
}

#[tokio::test]
async fn a_receiver_slower_than_five_seconds_has_failed() {
    let (app, receiver) = spawn_with_receiver().await;
    receiver.respond_with_delay(200, Duration::from_secs(6));
    signed_contract(&app, &receiver, "T1").await;
    let one = after_first_attempt(&app, "").await;
    let attempt = &one["log"][0];
    assert_eq!(attempt["outcome"], "FAILED");
    assert!(attempt["error"].as_str().unwrap().starts_with("timed out"), "{attempt}");
    assert!(
        (5000..6000).contains(&attempt["latency_ms"].as_u64().unwrap()),
        "{attempt}"
    );
    assert_eq!(one["status"], "PENDING");
}
