//! `Client::receive_notification` against notifications built exactly as a server builds them,
//! with nothing but `papay-protocol`: the platform key signs `timestamp\nnonce\nbody\n`, the
//! resource comes from `notifications::seal`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use papay_client::protocol::aead::{AeadError, ApiV3Key};
use papay_client::protocol::contracts::Identity;
use papay_client::protocol::headers::{
    REQUEST_ID, SIGNATURE_SCHEME, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE, WECHATPAY_SIGNATURE_TYPE,
    WECHATPAY_TIMESTAMP,
};
use papay_client::protocol::keys::PrivateKey;
use papay_client::protocol::nonce::{aead_nonce, response_nonce, upper_hex};
use papay_client::protocol::notifications::{
    seal, Notification, PapayEvent, EVENT_SIGN, EVENT_TERMINATE, RESOURCE_TYPE, SUMMARY_SIGN, SUMMARY_TERMINATE,
};
use papay_client::protocol::pki::Certificate;
use papay_client::protocol::signing::response_signing_string;
use papay_client::{Client, Error};
use time::{Duration, OffsetDateTime};

const NOW: i64 = 1_700_000_000;

struct Fixture {
    platform_key: PrivateKey,
    serial: String,
    /// Another RSA key, for forged signatures.
    other_key: PrivateKey,
    apiv3: ApiV3Key,
    client: Client,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let platform_key = PrivateKey::generate().unwrap();
        let not_before = OffsetDateTime::from_unix_timestamp(NOW).unwrap() - Duration::days(1);
        let cert = Certificate::generate(
            &platform_key,
            "Tenpay.com sandbox",
            "Tenpay",
            not_before,
            Duration::days(365),
        )
        .unwrap();
        let apiv3 = ApiV3Key::generate();
        let client = Client::builder()
            .merchant("10000100", upper_hex::<20>(), PrivateKey::generate().unwrap())
            .apiv3_key(apiv3.clone())
            .platform_certificate(&cert)
            .build()
            .unwrap();
        Fixture {
            platform_key,
            serial: cert.serial().to_string(),
            other_key: PrivateKey::generate().unwrap(),
            apiv3,
            client,
        }
    })
}

fn common_sign_event() -> PapayEvent {
    PapayEvent {
        mchid: Some("10000100".into()),
        identity: Identity::common("wxcbda96de0b165486"),
        out_contract_code: "100001256".into(),
        plan_id: 123,
        contract_id: "202109211651000001".into(),
        openid: "ouFhd5X9s9WteC3eWRjXV3lea123".into(),
        operate_time: "2023-11-15T06:13:20+08:00".into(),
        contract_expired_time: Some("2024-11-15T06:13:20+08:00".into()),
        ..PapayEvent::default()
    }
}

fn institutional_terminate_event() -> PapayEvent {
    PapayEvent {
        sp_mchid: Some("10000091".into()),
        identity: Identity::institutional("wxcbda96de0b165486", "10000097", None),
        out_contract_code: "100001257".into(),
        plan_id: 456,
        contract_id: "202109211651000002".into(),
        openid: "ouFhd5X9s9WteC3eWRjXV3lea124".into(),
        operate_time: "2023-11-15T06:13:20+08:00".into(),
        contract_termination_mode: Some("USER".into()),
        ..PapayEvent::default()
    }
}

fn envelope(key: &ApiV3Key, event_type: &str, event: &PapayEvent) -> Notification {
    let summary = if event_type == EVENT_SIGN {
        SUMMARY_SIGN
    } else {
        SUMMARY_TERMINATE
    };
    Notification {
        id: format!("EV-{}", upper_hex::<8>()),
        create_time: "2023-11-15T06:13:20+08:00".into(),
        event_type: event_type.into(),
        resource_type: RESOURCE_TYPE.into(),
        summary: summary.into(),
        resource: seal(key, &aead_nonce(), event).unwrap(),
    }
}

fn body_of(n: &Notification) -> Vec<u8> {
    serde_json::to_vec(n).unwrap()
}

/// The headers a server sends with `body`, signed by `signer` at `timestamp`.
fn signed_headers(signer: &PrivateKey, serial: &str, timestamp: i64, body: &[u8]) -> HeaderMap {
    let (ts, nonce) = (timestamp.to_string(), response_nonce());
    let signature = signer.sign_base64(&response_signing_string(&ts, &nonce, body)).unwrap();
    headers(&[
        (WECHATPAY_TIMESTAMP, &ts),
        (WECHATPAY_NONCE, &nonce),
        (WECHATPAY_SIGNATURE, &signature),
        (WECHATPAY_SERIAL, serial),
        (WECHATPAY_SIGNATURE_TYPE, SIGNATURE_SCHEME),
        (REQUEST_ID, &upper_hex::<16>()),
    ])
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
    }
    h
}

fn deliver(body: &[u8]) -> (HeaderMap, Vec<u8>) {
    let f = fixture();
    (signed_headers(&f.platform_key, &f.serial, NOW, body), body.to_vec())
}

fn verification_message(result: Result<papay_client::VerifiedNotification, Error>) -> String {
    match result {
        Err(Error::Verification(m)) => m,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn verifies_and_decrypts_both_modes_and_events() {
    let f = fixture();
    for (event_type, event) in [
        (EVENT_SIGN, common_sign_event()),
        (EVENT_TERMINATE, institutional_terminate_event()),
    ] {
        let n = envelope(&f.apiv3, event_type, &event);
        let (h, body) = deliver(&body_of(&n));
        let got = f.client.receive_notification_at(&h, &body, NOW).unwrap();
        assert_eq!(got.envelope, n);
        assert_eq!(got.event, event);
        assert_eq!(got.signed_by, f.serial);
    }
}

#[test]
fn accepts_skew_below_five_minutes_and_verifies_with_the_real_clock() {
    let f = fixture();
    let body = body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event()));
    for ts in [NOW - 299, NOW + 299] {
        let h = signed_headers(&f.platform_key, &f.serial, ts, &body);
        assert!(f.client.receive_notification_at(&h, &body, NOW).is_ok());
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let h = signed_headers(&f.platform_key, &f.serial, now, &body);
    assert!(f.client.receive_notification(&h, &body).is_ok());
    assert_eq!(f.client.verify_notification(&h, &body).unwrap(), f.serial);
}

#[test]
fn refuses_a_tampered_body() {
    let f = fixture();
    let (h, body) = deliver(&body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event())));
    let tampered = String::from_utf8(body).unwrap().replace(EVENT_SIGN, EVENT_TERMINATE);
    let m = verification_message(f.client.receive_notification_at(&h, tampered.as_bytes(), NOW));
    assert!(m.contains("Wechatpay-Signature"), "{m}");
    // One byte more (a trailing newline) is a different body, too.
    let (h, mut body) = deliver(&body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event())));
    body.push(b'\n');
    verification_message(f.client.receive_notification_at(&h, &body, NOW));
}

#[test]
fn refuses_a_wrong_platform_key_or_unknown_serial() {
    let f = fixture();
    let body = body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event()));
    let forged = signed_headers(&f.other_key, &f.serial, NOW, &body);
    let m = verification_message(f.client.receive_notification_at(&forged, &body, NOW));
    assert!(m.contains("Wechatpay-Signature"), "{m}");
    let unknown = signed_headers(&f.platform_key, "0123456789ABCDEF0123456789ABCDEF01234567", NOW, &body);
    let m = verification_message(f.client.receive_notification_at(&unknown, &body, NOW));
    assert!(m.contains("not a certificate or public key this client holds"), "{m}");
}

#[test]
fn refuses_a_resource_sealed_with_another_apiv3_key() {
    let f = fixture();
    let (h, body) = deliver(&body_of(&envelope(
        &ApiV3Key::generate(),
        EVENT_SIGN,
        &common_sign_event(),
    )));
    let err = f.client.receive_notification_at(&h, &body, NOW).unwrap_err();
    assert!(matches!(err, Error::Decrypt(AeadError::Open)), "{err:?}");
}

#[test]
fn refuses_timestamps_five_minutes_or_more_away() {
    let f = fixture();
    let body = body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event()));
    for ts in [NOW - 300, NOW + 300, NOW - 86_400] {
        let h = signed_headers(&f.platform_key, &f.serial, ts, &body);
        let m = verification_message(f.client.receive_notification_at(&h, &body, NOW));
        assert!(m.contains("5 minutes or more"), "{m}");
    }
}

#[test]
fn refuses_a_signature_probe_distinctly() {
    let f = fixture();
    let (mut h, body) = deliver(&body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event())));
    let probe = format!("WECHATPAY/SIGNTEST/{}", h[WECHATPAY_SIGNATURE].to_str().unwrap());
    h.insert(WECHATPAY_SIGNATURE, HeaderValue::from_str(&probe).unwrap());
    let err = f.client.receive_notification_at(&h, &body, NOW).unwrap_err();
    assert!(matches!(err, Error::SignatureProbe), "{err:?}");
    assert!(err.to_string().contains("non-2xx"), "{err}");
}

#[test]
fn refuses_a_missing_header() {
    let f = fixture();
    let (h, body) = deliver(&body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event())));
    for (name, shown) in [
        (WECHATPAY_TIMESTAMP, "Wechatpay-Timestamp"),
        (WECHATPAY_NONCE, "Wechatpay-Nonce"),
        (WECHATPAY_SIGNATURE, "Wechatpay-Signature"),
        (WECHATPAY_SERIAL, "Wechatpay-Serial"),
    ] {
        let mut partial = h.clone();
        partial.remove(name);
        let m = verification_message(f.client.receive_notification_at(&partial, &body, NOW));
        assert_eq!(m, format!("unsigned: missing {shown} header"));
    }
}

#[test]
fn refuses_another_algorithm_or_resource_type_even_when_signed() {
    let f = fixture();
    let mut n = envelope(&f.apiv3, EVENT_SIGN, &common_sign_event());
    n.resource.algorithm = "AEAD_SM4_GCM".into();
    let (h, body) = deliver(&body_of(&n));
    let m = verification_message(f.client.receive_notification_at(&h, &body, NOW));
    assert!(m.contains("AEAD_SM4_GCM"), "{m}");

    let mut n = envelope(&f.apiv3, EVENT_SIGN, &common_sign_event());
    n.resource_type = "plain-resource".into();
    let (h, body) = deliver(&body_of(&n));
    let m = verification_message(f.client.receive_notification_at(&h, &body, NOW));
    assert!(m.contains("plain-resource"), "{m}");
}

#[test]
fn reports_signed_but_malformed_bodies_and_a_missing_apiv3_key() {
    let f = fixture();
    let (h, body) = deliver(br#"{"id":"EV-1"}"#);
    let err = f.client.receive_notification_at(&h, &body, NOW).unwrap_err();
    assert!(
        matches!(&err, Error::Decode(m) if m.starts_with("notification envelope: missing field")),
        "{err:?}"
    );

    let mut n = envelope(&f.apiv3, EVENT_SIGN, &common_sign_event());
    n.resource.ciphertext = f
        .apiv3
        .encrypt(&n.resource.nonce, "papay", br#"{"mchid":"1"}"#)
        .unwrap();
    let (h, body) = deliver(&body_of(&n));
    let err = f.client.receive_notification_at(&h, &body, NOW).unwrap_err();
    assert!(
        matches!(&err, Error::Decode(m) if m.starts_with("notification resource: missing field")),
        "{err:?}"
    );

    let keyless = Client::builder()
        .merchant("10000100", upper_hex::<20>(), f.other_key.clone())
        .platform_public_key(&f.serial, f.platform_key.public_key())
        .build()
        .unwrap();
    let (h, body) = deliver(&body_of(&envelope(&f.apiv3, EVENT_SIGN, &common_sign_event())));
    let err = keyless.receive_notification_at(&h, &body, NOW).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
