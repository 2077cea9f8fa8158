//! Every documented authentication failure, table-driven: exact status, code and body
//! (snapshots), and the server keeps serving afterwards.

use http::{HeaderValue, Method};
use papay_client::{ApiErrorBody, Client, Error, PreparedRequest};
use papay_protocol::keys::PrivateKey;

use crate::helpers::*;

const CERTS: &str = "/v3/global/certificates";
const PRESIGN: &str = "/v3/global/papay/contracts/jsapi-pre-entrust-sign";
const BODY: &str = r#"{"appid":"wx8a3e6b0c5d2f4e71","plan_id":12535,"out_contract_code":"C1"}"#;
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

fn with_header(mut req: PreparedRequest, value: Option<&str>) -> PreparedRequest {
    match value {
        Some(v) => req.headers.insert("authorization", HeaderValue::from_str(v).unwrap()),
        None => req.headers.remove("authorization"),
    };
    req
}

fn auth_header(req: &PreparedRequest) -> String {
    req.headers["authorization"].to_str().unwrap().to_string()
}

async fn rejected(client: &Client, req: PreparedRequest) -> ApiErrorBody {
    match client.execute(req).await {
        Err(Error::Api(body)) => *body,
        other => panic!("expected an error answer, got {other:?}"),
    }
}

#[tokio::test]
async fn authentication_failures_table() {
    let app = spawn_app().await;
    let client = app.client();
    let serial = app.merchant_serial();
    let key = || PrivateKey::from_pem(&keys().merchant_key).unwrap();
    let other =
        |mchid: &str, serial: &str, key: PrivateKey| app.client_builder().merchant(mchid, serial, key).build().unwrap();
    let get = |c: &Client| c.prepare_at(Method::GET, CERTS, None, now(), NONCE).unwrap();
    let post = |c: &Client| {
        c.prepare_at(Method::POST, PRESIGN, Some(BODY.into()), now(), NONCE)
            .unwrap()
    };

    let signed = get(&client);
    let header = auth_header(&signed);
    let mut tampered_body = post(&client);
    tampered_body.body = BODY.replace("C1", "C2").into_bytes();
    let mut tampered_query = client
        .prepare_at(
            Method::GET,
            "/v3/global/certificates?algorithm_type=RSA",
            None,
            now(),
            NONCE,
        )
        .unwrap();
    tampered_query.path_and_query = "/v3/global/certificates?algorithm_type=ALL".into();
    let tampered_query_ts = now();

    // (name, request, expected status, whether the answer is signed)
    let cases: Vec<(&str, PreparedRequest, u16, bool)> = vec![
        ("no_header", with_header(get(&client), None), 401, false),
        (
            "other_schema",
            with_header(get(&client), Some("Bearer abc.def")),
            401,
            false,
        ),
        (
            "malformed_header",
            with_header(
                get(&client),
                Some(&header.replace("mchid=\"1900000100\"", "mchid=1900000100")),
            ),
            401,
            false,
        ),
        (
            "duplicated_key",
            with_header(get(&client), Some(&format!("{header},nonce_str=\"X\""))),
            401,
            false,
        ),
        ("unknown_mchid", get(&other("1234567890", &serial, key())), 401, false),
        (
            "no_apiv3_key",
            get(&other(MCHID_NO_APIV3_KEY, &serial, key())),
            401,
            true,
        ),
        (
            "no_certificate",
            get(&other(MCHID_NO_CERTIFICATE, &serial, key())),
            401,
            true,
        ),
        (
            "expired_certificate",
            get(&other(
                MCHID_EXPIRED_CERTIFICATE,
                &serial_of(&keys().expired_cert),
                key(),
            )),
            401,
            true,
        ),
        (
            "unknown_serial",
            get(&other(MCHID, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", key())),
            401,
            true,
        ),
        (
            "wrong_key",
            post(&other(MCHID, &serial, PrivateKey::generate().unwrap())),
            401,
            true,
        ),
        ("tampered_body", tampered_body, 401, true),
        ("tampered_query", tampered_query, 401, true),
        (
            "timestamp_6_minutes_old",
            client.prepare_at(Method::GET, CERTS, None, now() - 360, NONCE).unwrap(),
            401,
            false,
        ),
        (
            "timestamp_6_minutes_ahead",
            client.prepare_at(Method::GET, CERTS, None, now() + 360, NONCE).unwrap(),
            401,
            false,
        ),
    ];

    for (name, req, status, signed) in cases {
        let body = rejected(&client, req).await;
        assert_eq!(body.status, status, "{name}");
        assert_eq!(body.code, "SIGN_ERROR", "{name}");
        assert_eq!(body.signed, signed, "{name}: signed answer");
        let request_id = body.request_id.clone().unwrap();
        assert!(request_id.ends_with("-268435458"), "{name}: {request_id}");
        let json = serde_json::json!({"code": body.code, "message": body.message, "detail": body.detail});
        insta::assert_json_snapshot!(format!("auth_{name}"), json, {
            ".detail.sign_information.truncated_sign_message" => "[asserted below]",
        });
        if name == "tampered_query" {
            let info = &body.detail.as_ref().unwrap()["sign_information"];
            let expected = format!("GET\n/v3/global/certificates?algorithm_type=ALL\n{tampered_query_ts}\n{NONCE}\n\n");
            assert_eq!(info["truncated_sign_message"], expected.as_str());
            assert_eq!(info["sign_message_length"], expected.len());
            assert_eq!(info["url"], "/v3/global/certificates?algorithm_type=ALL");
        }
        if name == "tampered_body" {
            let info = &body.detail.as_ref().unwrap()["sign_information"];
            let text = info["truncated_sign_message"].as_str().unwrap();
            assert!(text.starts_with(&format!("POST\n{PRESIGN}\n")), "{text}");
            assert!(
                text.ends_with(&format!("{NONCE}\n{}\n", BODY.replace("C1", "C2"))),
                "{text}"
            );
        }
    }

    // Still serving, and the same request signed properly is accepted.
    let certs = client.download_certificates().await.unwrap();
    assert_eq!(certs.len(), 1);
}

fn serial_of(pem: &str) -> String {
    papay_protocol::pki::Certificate::from_pem(pem)
        .unwrap()
        .serial()
        .to_string()
}

#[tokio::test]
async fn serial_is_compared_case_insensitively() {
    let app = spawn_app().await;
    let lower = app.merchant_serial().to_ascii_lowercase();
    let client = app
        .client_builder()
        .merchant(MCHID, lower, PrivateKey::from_pem(&keys().merchant_key).unwrap())
        .build()
        .unwrap();
    client.download_certificates().await.unwrap();
}

#[tokio::test]
async fn replayed_nonce_is_refused_only_with_the_option_on() {
    for (replay_protection, second_ok) in [(true, false), (false, true)] {
        let app = spawn_app_with(replay_protection).await;
        let client = app.client();
        let first = client.prepare_at(Method::GET, CERTS, None, now(), NONCE).unwrap();
        client.execute(first.clone()).await.unwrap();
        let second = client.execute(first).await;
        match (second_ok, second) {
            (true, Ok(answer)) => assert_eq!(answer.status, 200),
            (false, Err(Error::Api(body))) => {
                assert_eq!((body.status, body.code.as_str()), (401, "SIGN_ERROR"));
                assert_eq!(
                    body.message,
                    "Http头Authorization中的nonce_str在5分钟内已使用，请勿重放请求"
                );
            }
            (expect, got) => panic!("replay_protection={replay_protection}: expected ok={expect}, got {got:?}"),
        }
        // A fresh nonce is always fine.
        client.download_certificates().await.unwrap();
    }
}

#[tokio::test]
async fn errors_speak_english_when_asked() {
    let app = spawn_app().await;
    let client = app.client_builder().accept_language("en-US,en;q=0.9").build().unwrap();
    let req = client.prepare_at(Method::GET, CERTS, None, now() - 360, NONCE).unwrap();
    let body = rejected(&client, req).await;
    assert_eq!(
        body.message,
        "The timestamp in the Authorization header must be within 5 minutes of the request time"
    );
}
