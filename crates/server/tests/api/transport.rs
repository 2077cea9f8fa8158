//! What every APIv3 answer carries (PROTOCOL.md §1.4, §1.7) and how the signing key is chosen.

use http::Method;
use papay_client::Error;
use papay_protocol::keys::PublicKey;
use papay_protocol::pki::Certificate;

use crate::helpers::*;

fn is_request_id(id: &str, number: &str) -> bool {
    let (hex, n) = id.rsplit_once('-').unwrap();
    hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) && n == number
}

#[tokio::test]
async fn signed_answers_carry_every_header() {
    let app = spawn_app().await;
    let client = app.client();
    let answer = client
        .execute(client.prepare(Method::GET, "/v3/global/certificates", None).unwrap())
        .await
        .unwrap();
    let h = &answer.headers;
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(h["wechatpay-signature-type"], "WECHATPAY2-SHA256-RSA2048");
    assert_eq!(h["wechatpay-serial"], app.platform_serial().as_str());
    assert_eq!(h["wechatpay-nonce"].len(), 32);
    assert!((h["wechatpay-timestamp"].to_str().unwrap().parse::<i64>().unwrap() - now()).abs() <= 5);
    assert_eq!(h["wechatpay-signature"].len(), 344);
    assert_eq!(h["cache-control"], "no-cache, must-revalidate");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        is_request_id(answer.request_id.as_deref().unwrap(), "0"),
        "{:?}",
        answer.request_id
    );
    assert_eq!(answer.signed_by.as_deref(), Some(app.platform_serial().as_str()));
}

#[tokio::test]
async fn unknown_path_and_wrong_method_are_signed_json_errors() {
    let app = spawn_app().await;
    let client = app.client();
    for (method, path, status, code) in [
        (Method::GET, "/v3/global/papay/nothing-here", 404, "NOT_FOUND"),
        (Method::POST, "/hk/v3/unknown", 404, "NOT_FOUND"),
        (Method::POST, "/v3/global/certificates", 405, "METHOD_NOT_ALLOWED"),
        (Method::DELETE, "/v3/certificates", 405, "METHOD_NOT_ALLOWED"),
    ] {
        let err = client
            .execute(client.prepare(method.clone(), path, Some(b"{}".to_vec())).unwrap())
            .await
            .unwrap_err();
        let body = err.api().unwrap_or_else(|| panic!("{method} {path}: {err}"));
        assert_eq!((body.status, body.code.as_str()), (status, code), "{method} {path}");
        assert!(body.signed, "{method} {path} answer is signed");
        assert!(!body.message.is_empty());
    }
}

#[tokio::test]
async fn unauthenticated_paths_outside_v3_still_get_request_ids() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/nope", app.base_url)).await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(is_request_id(r.headers()["request-id"].to_str().unwrap(), "268435459"));
    let health = reqwest::get(format!("{}/healthz", app.base_url)).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn answer_is_signed_with_the_key_the_request_names() {
    let app = spawn_app().await;
    let platform_public = Certificate::from_pem(&keys().platform_cert)
        .unwrap()
        .public_key()
        .clone();

    // Public-key mode: the client holds only the public key and names its id.
    let pk_client = papay_client::Client::builder()
        .base_url(&app.base_url)
        .merchant(
            MCHID,
            app.merchant_serial(),
            papay_protocol::keys::PrivateKey::from_pem(&keys().merchant_key).unwrap(),
        )
        .apiv3_key(papay_protocol::aead::ApiV3Key::parse(&keys().apiv3_key).unwrap())
        .platform_public_key(PUBLIC_KEY_ID, platform_public.clone())
        .build()
        .unwrap();
    let answer = pk_client
        .execute(pk_client.prepare(Method::GET, "/v3/certificates", None).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.signed_by.as_deref(), Some(PUBLIC_KEY_ID));

    // A lower-case certificate serial is matched, and answered in its configured upper case.
    let lower = app
        .client_builder()
        .wechatpay_serial(app.platform_serial().to_ascii_lowercase())
        .build()
        .unwrap();
    let answer = lower
        .execute(lower.prepare(Method::GET, "/v3/certificates", None).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.signed_by.as_deref(), Some(app.platform_serial().as_str()));

    // A key the merchant does not hold: the newest certificate signs.
    let unknown = app
        .client_builder()
        .wechatpay_serial("PUB_KEY_ID_0000")
        .build()
        .unwrap();
    let answer = unknown
        .execute(unknown.prepare(Method::GET, "/v3/certificates", None).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.signed_by.as_deref(), Some(app.platform_serial().as_str()));

    // A client that trusts nothing the server signs with refuses the answer.
    let stranger = papay_client::Client::builder()
        .base_url(&app.base_url)
        .merchant(
            MCHID,
            app.merchant_serial(),
            papay_protocol::keys::PrivateKey::from_pem(&keys().merchant_key).unwrap(),
        )
        .platform_public_key(
            "PUB_KEY_ID_1",
            PublicKey::from_pem(
                &papay_protocol::keys::PrivateKey::generate()
                    .unwrap()
                    .public_key()
                    .to_pem(),
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let err = stranger
        .execute(stranger.prepare(Method::GET, "/v3/certificates", None).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Verification(_)), "{err}");
}

#[tokio::test]
async fn oversized_body_is_a_param_error() {
    let app = spawn_app().await;
    let client = app.client();
    let big = vec![b' '; papay::http::MAX_BODY_BYTES + 1];
    let err = client
        .execute(
            client
                .prepare(Method::POST, "/v3/global/certificates", Some(big))
                .unwrap(),
        )
        .await
        .unwrap_err();
    let body = err.api().unwrap();
    assert_eq!((body.status, body.code.as_str()), (400, "PARAM_ERROR"));
}
