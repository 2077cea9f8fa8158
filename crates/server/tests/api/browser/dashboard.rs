//! The dashboard in headless Chromium on a laptop-sized window: a contract pre-signed through
//! `papay-client` appears in the list, is agreed from its page, its notification attempt shows
//! with its status, and resend adds a second attempt. Screenshots of every step go to
//! `harness::screenshot_dir()/dashboard/` (`docs/screenshots/dashboard/` holds a committed set).

use std::time::Duration;

use papay_protocol::contracts::PresignRequest;

use super::harness::{with_viewport, Browser, Viewport};
use crate::helpers::*;
use crate::notifications::spawn_with_receiver;

const DESKTOP: Viewport = Viewport::Desktop {
    width: 1280,
    height: 900,
};

async fn shot(b: &Browser, name: &str) {
    b.screenshot_full(&format!("dashboard/{name}")).await;
}

/// Reloads `url` until `css` matches `n` elements (bounded).
async fn reload_until(b: &Browser, url: &str, css: &str, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        b.open(url).await;
        let found = b.count(css).await;
        if found >= n {
            assert_eq!(found, n, "{css} on {url}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n}× {css} never appeared on {url}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test]
async fn a_contract_is_agreed_and_its_notification_resent_from_the_dashboard() {
    with_viewport(DESKTOP, |b| async move {
        std::fs::create_dir_all(super::harness::screenshot_dir().join("dashboard")).unwrap();
        let (app, receiver) = spawn_with_receiver().await;
        let client = app.client();
        client
            .presign_jsapi(&PresignRequest {
                success_notify_url: receiver.url("/papay/notify"),
                ..jsapi("DASHBROWSER")
            })
            .await
            .unwrap();
        client
            .presign_jsapi(&PresignRequest {
                success_notify_url: receiver.url("/papay/notify"),
                openid: Some("oUser2".into()),
                ..jsapi("DASHSECOND")
            })
            .await
            .unwrap();
        let id = client
            .query_contract_by_code("DASHBROWSER", PLAN, &common())
            .await
            .unwrap()
            .contract_id;
        // A refused signature, so the journal has something to explain.
        let forged = app
            .client_builder()
            .merchant(
                MCHID,
                app.merchant_serial(),
                papay_protocol::keys::PrivateKey::generate().unwrap(),
            )
            .build()
            .unwrap();
        assert!(forged
            .query_contract_by_code("DASHBROWSER", PLAN, &common())
            .await
            .is_err());
        let wrong_v2 = papay_client::v2::V2Client::new(
            &app.base_url,
            MCHID,
            papay_client::v2::V2ApiKey::parse("0123456789abcdef0123456789abcdef").unwrap(),
        )
        .unwrap();
        let h5 = papay_client::v2::H5EntrustWebRequest::new(
            APPID,
            PLAN.to_string(),
            "DASHV2",
            1,
            "Zhang San",
            "https://yoursite.com/n",
            "119.145.83.6",
        );
        assert!(wrong_v2.h5entrustweb(&h5).await.is_err());

        let base = &app.base_url;
        b.open(&format!("{base}/dashboard")).await;
        assert_eq!(b.text("#count-contracts b").await, "2");
        shot(&b, "01-overview.png").await;

        b.click("nav a[href='/dashboard/contracts']").await;
        let row = format!("#contracts tr[data-contract-id='{id}']");
        assert!(b.text(&row).await.contains("NOTSIGN"));
        shot(&b, "02-contracts.png").await;

        b.click(&format!("{row} a")).await;
        assert_eq!(b.attr("#state .badge", "data-state").await, "NOTSIGN");
        assert!(b.has("#agree").await && b.has("#decline").await && b.has("#expire").await);
        shot(&b, "03-contract-pending.png").await;

        b.click("#agree").await;
        assert_eq!(b.attr("#state .badge", "data-state").await, "SIGNED");
        assert!(b.text("#notice").await.contains("agreed"));
        assert!(b.text("#history").await.contains("USER_AGREED"));
        receiver.wait_for(1, Duration::from_secs(10)).await;
        let page = format!("{base}/dashboard/contracts/{id}");
        reload_until(&b, &page, "tr.attempt", 1).await;
        assert_eq!(b.attr("tr.attempt", "data-outcome").await, "DELIVERED");
        assert!(b.text("tr.attempt").await.contains("200"));
        assert_eq!(
            client
                .query_contract_by_code("DASHBROWSER", PLAN, &common())
                .await
                .unwrap()
                .state,
            "SIGNED"
        );
        shot(&b, "04-contract-signed.png").await;

        receiver.respond_with(503, "busy, try later");
        b.click("button.resend").await;
        assert!(b.text("#notice").await.contains("queued"));
        receiver.wait_for(2, Duration::from_secs(10)).await;
        reload_until(&b, &page, "tr.attempt", 2).await;
        assert_eq!(b.attr("tr.attempt:nth-child(2)", "data-outcome").await, "FAILED");
        assert!(b.text("tr.attempt:nth-child(2)").await.contains("busy, try later"));
        shot(&b, "05-contract-resent.png").await;

        b.click("nav a[href='/dashboard/notifications']").await;
        assert!(b.text("#notifications").await.contains("PAPAY.SIGN"));
        shot(&b, "06-notifications.png").await;

        b.click("#notifications a[href^='/dashboard/notifications/']").await;
        assert_eq!(b.count("tr.attempt").await, 2);
        shot(&b, "07-notification.png").await;

        b.open(&format!("{base}/dashboard/merchants")).await;
        shot(&b, "08-merchants.png").await;
        b.click(&format!("#merchants a[href='/dashboard/merchants/{MCHID}']"))
            .await;
        b.type_into("#by", "2h").await;
        b.click("#advance").await;
        assert!(b.text("#notice").await.contains("clock moved ahead"));
        shot(&b, "09-merchant.png").await;
        b.click("#reset").await;
        assert!(b.has("#confirm-reset").await);
        shot(&b, "10-merchant-reset-confirm.png").await;

        b.open(&format!("{base}/dashboard/requests?failures=1")).await;
        assert!(b.text("#requests").await.contains("SIGN_ERROR"));
        assert_eq!(b.count("pre.expected").await, 2, "the APIv3 and the v2 refusal");
        assert!(b.text("#requests").await.contains("key=<redacted>"));
        shot(&b, "11-requests.png").await;

        b.open(&format!("{base}/dashboard/contracts/20260101000000000000"))
            .await;
        assert_eq!(b.text("#error-title").await, "Contract not found");
        shot(&b, "12-not-found.png").await;
        b.open(&format!("{base}/dashboard/login")).await;
        assert!(b.has("#token").await);
        shot(&b, "13-sign-in.png").await;
    })
    .await;
}
