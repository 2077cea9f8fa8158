//! The signing pages in a real browser: headless Chromium driven over WebDriver clicks what a
//! person would click, while the merchant side goes through `papay-client` as a merchant's
//! code would. Screenshots land in `harness::screenshot_dir()`.

mod dashboard;
mod harness;

use papay_protocol::contracts::{Contract, PresignRequest};

use self::harness::{decode_qr, with_browser, Browser};
use crate::helpers::*;

const OPENID: &str = "ouFhd5X9s9WteC3eWRjXV3lea123";

async fn contract(app: &TestApp, code: &str) -> Contract {
    app.client()
        .query_contract_by_code(code, PLAN, &common())
        .await
        .unwrap()
}

/// The HTTP status of a plain GET (WebDriver cannot see statuses).
async fn status_of(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// Opens a JSAPI `sign_url`: checks what the signing page shows and screenshots it as `shot`.
async fn open_jsapi_signing_page(b: &Browser, sign_url: &str, shot: &str) {
    b.open(sign_url).await;
    let card = b.text("main").await;
    for shown in [
        "Test Store",
        MCHID,
        "Monthly membership",
        &PLAN.to_string(),
        "Zhang San",
        "JSAPI",
    ] {
        assert!(card.contains(shown), "{shown:?} not on the signing page:\n{card}");
    }
    assert_eq!(b.text("#openid-fixed").await, OPENID);
    assert!(
        !b.has("#openid").await,
        "the pre-sign fixed the openid; nothing to type"
    );
    b.screenshot(shot).await;
}

#[tokio::test]
async fn jsapi_user_agrees_in_the_browser() {
    with_browser(|b| async move {
        let app = spawn_app().await;
        let sign_url = app
            .client()
            .presign_jsapi(&jsapi("BROWSERAGREE"))
            .await
            .unwrap()
            .sign_url;

        open_jsapi_signing_page(&b, &sign_url, "jsapi-signing.png").await;
        assert_eq!(
            contract(&app, "BROWSERAGREE").await.state,
            "SIGNING",
            "opening the page"
        );

        b.click("#agree").await;
        assert_eq!(b.attr("#outcome", "data-state").await, "SIGNED");
        b.screenshot("jsapi-signed.png").await;

        let signed = contract(&app, "BROWSERAGREE").await;
        assert_eq!(signed.state, "SIGNED");
        assert!(signed.signed_time.is_some(), "{signed:?}");
        assert_eq!(signed.openid.as_deref(), Some(OPENID));
        assert_eq!(b.text("#contract-id").await, signed.contract_id);
        assert_eq!(b.attr("#return", "href").await, "https://yoursite.com");
        // After the POST-redirect-GET the browser is back on the signing link.
        assert_eq!(b.current_url().await, sign_url);
    })
    .await;
}

#[tokio::test]
async fn jsapi_user_declines_in_the_browser() {
    with_browser(|b| async move {
        let app = spawn_app().await;
        let sign_url = app
            .client()
            .presign_jsapi(&jsapi("BROWSERDECLINE"))
            .await
            .unwrap()
            .sign_url;

        open_jsapi_signing_page(&b, &sign_url, "decline-signing.png").await;
        b.click("#decline").await;
        assert_eq!(b.attr("#outcome", "data-state").await, "SIGNFAIL");
        assert!(!b.text("#reason").await.is_empty());
        b.screenshot("decline-outcome.png").await;

        let failed = contract(&app, "BROWSERDECLINE").await;
        assert_eq!(failed.state, "SIGNFAIL");
        assert_eq!(failed.signed_time, None);
    })
    .await;
}

#[tokio::test]
async fn web_qr_code_encodes_the_signing_page_and_a_typed_openid_signs() {
    with_browser(|b| async move {
        let app = spawn_app().await;
        let req = PresignRequest {
            openid: None,
            ..jsapi("BROWSERWEB")
        };
        let show_code_url = app.client().presign_web(&req).await.unwrap().show_code_url;
        let token = show_code_url.split_once("os_session_id=").unwrap().1;
        let sign_url = format!("{}/global/papay/contracts/login?os_session_id={token}", app.base_url);

        b.open(&show_code_url).await;
        b.find("#qr").await;
        let png = b.screenshot("web-qr.png").await;
        assert_eq!(decode_qr(&png), [sign_url.as_str()], "the QR code in the screenshot");
        assert_eq!(contract(&app, "BROWSERWEB").await.state, "NOTSIGN", "showing the code");

        b.click("#open-link").await;
        b.type_into("#openid", "oWebTyped_0123456789abcdefgh").await;
        assert_eq!(b.current_url().await, sign_url);
        b.screenshot("web-signing.png").await;
        b.click("#agree").await;
        assert_eq!(b.attr("#outcome", "data-state").await, "SIGNED");
        b.screenshot("web-signed.png").await;

        let signed = contract(&app, "BROWSERWEB").await;
        assert_eq!(signed.state, "SIGNED");
        assert_eq!(signed.openid.as_deref(), Some("oWebTyped_0123456789abcdefgh"));
    })
    .await;
}

#[tokio::test]
async fn an_expired_link_shows_the_expired_notice_with_410() {
    with_browser(|b| async move {
        let app = spawn_app().await;
        let sign_url = app
            .client()
            .presign_jsapi(&jsapi("BROWSEREXPIRED"))
            .await
            .unwrap()
            .sign_url;
        let session = app
            .session_of(&contract(&app, "BROWSEREXPIRED").await.contract_id)
            .await;
        let (status, body) = app
            .control("POST", &format!("/sandbox/v1/sessions/{session}/expire"), None)
            .await;
        assert_eq!(status, 200, "{body}");

        b.open(&sign_url).await;
        assert_eq!(b.attr("#notice", "data-kind").await, "expired");
        assert!(!b.has("#agree").await);
        b.screenshot("expired.png").await;
        assert_eq!(status_of(&sign_url).await, 410);
        assert_eq!(contract(&app, "BROWSEREXPIRED").await.state, "NOTSIGN");
    })
    .await;
}

#[tokio::test]
async fn a_replaced_link_shows_the_replaced_notice_with_410() {
    with_browser(|b| async move {
        let app = spawn_app().await;
        let c = app.client();
        let old = c.presign_jsapi(&jsapi("BROWSERREPLACED")).await.unwrap().sign_url;
        let new = c.presign_jsapi(&jsapi("BROWSERREPLACED")).await.unwrap().sign_url;
        assert_ne!(old, new);

        b.open(&old).await;
        assert_eq!(b.attr("#notice", "data-kind").await, "replaced");
        assert!(!b.has("#agree").await);
        b.screenshot("replaced.png").await;
        assert_eq!(status_of(&old).await, 410);

        // The newest link still works.
        b.open(&new).await;
        b.find("#agree").await;
        assert_eq!(status_of(&new).await, 200);
    })
    .await;
}

#[tokio::test]
async fn v2_redirect_url_lands_on_the_signing_page_and_a_typed_openid_signs() {
    use papay_client::v2::{ContractState, H5EntrustWebRequest, QueryContractRequest, V2ApiKey, V2Client};

    with_browser(|b| async move {
        let app = spawn_app().await;
        let v2 = V2Client::new(&app.base_url, MCHID, V2ApiKey::parse(crate::helpers::V2_KEY).unwrap()).unwrap();
        let req = H5EntrustWebRequest::new(
            APPID,
            PLAN.to_string(),
            "BROWSERV2",
            4242,
            "微信代扣 BROWSERV2",
            "https://yoursite.com/papay/v2notify",
            "127.0.0.1",
        );
        let redirect = v2.h5entrustweb(&req).await.unwrap();
        let token = redirect
            .split_once("session_id=")
            .unwrap()
            .1
            .split(['&', '#'])
            .next()
            .unwrap()
            .to_string();
        let sign_url = format!("{}/global/papay/contracts/login?os_session_id={token}", app.base_url);

        b.open(&redirect).await;
        let card = b.text("main").await;
        for shown in ["Test Store", MCHID, "Monthly membership", "微信代扣 BROWSERV2"] {
            assert!(card.contains(shown), "{shown:?} not on the signing page:\n{card}");
        }
        // The 303 keeps the redirect_url's fragment.
        assert!(b.current_url().await.starts_with(&sign_url));
        b.type_into("#openid", "oV2Browser_0123456789abcdefg").await;
        b.screenshot("v2-signing.png").await;
        b.click("#agree").await;
        assert_eq!(b.attr("#outcome", "data-state").await, "SIGNED");
        b.screenshot("v2-signed.png").await;

        let q = v2
            .query_contract(&QueryContractRequest::by_plan_and_code(
                APPID,
                PLAN.to_string(),
                "BROWSERV2",
            ))
            .await
            .unwrap();
        assert_eq!(q.contract_state, ContractState::Signed);
        assert_eq!(q.openid, "oV2Browser_0123456789abcdefg");
        assert_eq!(q.request_serial, 4242);
        assert_eq!(b.text("#contract-id").await, q.contract_id);
    })
    .await;
}
