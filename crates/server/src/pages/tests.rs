//! Rendering tests: the ids and fields the handlers and browser tests rely on, escaping of
//! user data, self-containment, and that the QR code really encodes the signing URL (decoded
//! with `rqrr` from both the module matrix and the drawn SVG of the same `QrCode`).

use image::{GrayImage, Luma};
use qrcode::types::Color;
use qrcode::QrCode;

use super::*;

const EVIL: &str = r#""><script>alert(1)</script>"#;
const URL: &str = concat!(
    "http://127.0.0.1:8080/global/papay/contracts/login",
    "?os_session_id=20261127123456789012345678901234567890123456789&lang=en"
);

fn signing(openid: Option<&'static str>) -> SigningView<'static> {
    SigningView {
        merchant_name: "Acme Coffee",
        mchid: "1900000100",
        plan_name: "Monthly beans",
        plan_id: 12535,
        user_display_name: Some("Alice"),
        channel: "H5",
        session_id: "20261127000000000000000000000000000000000000001",
        expires_at: "2026-11-27 20:00:00 (UTC+8)",
        contract_validity_days: 365,
        openid,
        default_openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        form_action: "/global/papay/contracts/login",
        error: None,
        known_openids: &[],
    }
}

fn outcome(outcome: Outcome<'static>, return_url: Option<&'static str>) -> String {
    outcome_page(&OutcomeView {
        merchant_name: "Acme Coffee",
        plan_name: "Monthly beans",
        outcome,
        return_url,
        return_appid: None,
    })
    .into_string()
}

/// One of every page, for checks that apply to all of them.
fn all_pages() -> Vec<String> {
    let mut pages = vec![
        signing_page(&signing(None)).into_string(),
        signing_page(&signing(Some("fixed"))).into_string(),
        qr_page(&QrView {
            merchant_name: "Acme",
            plan_name: "Plan",
            user_display_name: None,
            signing_url: URL,
            expires_at: "soon",
            note: None,
        })
        .into_string(),
        outcome(
            Outcome::Failed {
                reason: "You declined.",
            },
            None,
        ),
        session_entry_page(Some("No such session.")).into_string(),
    ];
    pages.extend([Notice::Expired, Notice::Replaced, Notice::NotFound].map(|n| notice_page(n).into_string()));
    pages
}

#[test]
fn every_page_is_a_self_contained_mobile_document() {
    for html in all_pages() {
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{html}");
        assert!(html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
        assert!(html.contains("<title>") && html.contains(layout::HEADER));
        assert_eq!(html.matches("<style>").count(), 1, "one inline stylesheet");
        for external in ["<script", "<link", " src=", "url(", "@import", "<?xml"] {
            assert!(!html.contains(external), "{external} in {html}");
        }
    }
}

#[test]
fn signing_page_asks_for_the_openid_and_posts_one_form() {
    let html = signing_page(&signing(None)).into_string();
    assert_eq!(html.matches("<form").count(), 1);
    assert!(html.contains(r#"<form method="post" action="/global/papay/contracts/login">"#));
    assert!(html.contains(
        r#"<input type="hidden" name="os_session_id" value="20261127000000000000000000000000000000000000001">"#
    ));
    assert!(html.contains(r#"<label for="openid">"#));
    assert!(html.contains(
        r#"id="openid" type="text" name="openid" value="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" list="openid-known" required"#
    ));
    assert!(html.contains(r#"class="btn primary" id="agree" type="submit" name="decision" value="agree""#));
    assert!(html.contains(r#"class="btn secondary" id="decline" type="submit" name="decision" value="decline""#));
    assert!(html.contains("formnovalidate"), "declining must not require an openid");
    for shown in [
        "Acme Coffee",
        "1900000100",
        "Monthly beans",
        "12535",
        "Alice",
        "H5",
        "365 days once signed",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    assert!(html.contains("2026-11-27 20:00:00 (UTC+8)"), "dates are shown as given");
    assert!(!html.contains(r#"type="hidden" name="openid""#));
}

#[test]
fn signing_page_with_a_fixed_openid_sends_it_hidden() {
    let html = signing_page(&signing(Some("oFixed_123"))).into_string();
    assert!(html.contains(r#"<input type="hidden" name="openid" value="oFixed_123">"#));
    assert!(html.contains(r#"<span class="mono" id="openid-fixed">oFixed_123</span>"#));
    assert!(!html.contains(r#"id="openid""#), "no editable openid input");
    assert!(
        !html.contains("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        "the cookie default is ignored"
    );
}

#[test]
fn signing_page_without_a_default_openid_leaves_the_input_empty() {
    let view = SigningView {
        default_openid: None,
        user_display_name: None,
        contract_validity_days: 1,
        ..signing(None)
    };
    let html = signing_page(&view).into_string();
    assert!(html.contains(r#"id="openid" type="text" name="openid" list="openid-known" required"#));
    assert!(html.contains("1 day once signed"));
    assert!(!html.contains("Account"));
}

#[test]
fn user_data_is_escaped_everywhere() {
    let view = SigningView {
        merchant_name: EVIL,
        mchid: EVIL,
        plan_name: EVIL,
        user_display_name: Some(EVIL),
        channel: EVIL,
        session_id: EVIL,
        expires_at: EVIL,
        default_openid: Some(EVIL),
        form_action: EVIL,
        error: Some(EVIL),
        ..signing(None)
    };
    let fixed = SigningView {
        openid: Some(EVIL),
        ..view
    };
    let qr = QrView {
        merchant_name: EVIL,
        plan_name: EVIL,
        user_display_name: Some(EVIL),
        signing_url: EVIL,
        expires_at: EVIL,
        note: None,
    };
    let outcomes = [
        Outcome::Signed {
            contract_id: EVIL,
            signed_time: EVIL,
            contract_expires: EVIL,
        },
        Outcome::Failed { reason: EVIL },
        Outcome::Terminated { when: EVIL },
    ];
    let mut pages = vec![
        signing_page(&view).into_string(),
        signing_page(&fixed).into_string(),
        qr_page(&qr).into_string(),
        session_entry_page(Some(EVIL)).into_string(),
    ];
    for o in outcomes {
        let v = OutcomeView {
            merchant_name: EVIL,
            plan_name: EVIL,
            outcome: o,
            return_url: Some(EVIL),
            return_appid: Some(EVIL),
        };
        pages.push(outcome_page(&v).into_string());
    }
    for html in pages {
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }
}

#[test]
fn qr_page_shows_the_code_and_the_link() {
    let html = qr_page(&QrView {
        merchant_name: "Acme Coffee",
        plan_name: "Monthly beans",
        user_display_name: Some("Alice"),
        signing_url: URL,
        expires_at: "2026-11-27 20:00:00 (UTC+8)",
        note: None,
    })
    .into_string();
    assert_eq!(html.matches(r#"<svg id="qr" role="img""#).count(), 1);
    let href = URL.replace('&', "&amp;");
    assert!(html.contains(&format!(r#"<a class="btn secondary" id="open-link" href="{href}">"#)));
    for shown in [
        "Scan with WeChat",
        "Acme Coffee",
        "Monthly beans",
        "Alice",
        "2026-11-27 20:00:00 (UTC+8)",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
}

#[test]
fn qr_page_survives_a_url_too_long_to_encode() {
    let url = format!("https://example.com/{}", "x".repeat(8000));
    let html = qr_page(&QrView {
        merchant_name: "m",
        plan_name: "p",
        user_display_name: None,
        signing_url: &url,
        expires_at: "e",
        note: None,
    })
    .into_string();
    assert!(!html.contains("<svg"));
    assert!(html.contains(r#"id="open-link""#) && html.contains("too long"));
}

/// `code`'s module matrix as a grayscale image: 4 px per module, 4-module quiet zone.
fn matrix_image(code: &QrCode) -> GrayImage {
    const PX: u32 = 4;
    const QUIET: u32 = 4;
    let modules = u32::try_from(code.width()).unwrap();
    let side = (modules + 2 * QUIET) * PX;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / PX, y / PX);
        let inside = (QUIET..QUIET + modules).contains(&mx) && (QUIET..QUIET + modules).contains(&my);
        let dark = inside && code[((mx - QUIET) as usize, (my - QUIET) as usize)] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    })
}

/// Rasterizes the SVG `qrcode` draws: a white background rect and one black path made of
/// `M{x} {y}h{w}v{h}H{x}V{y}` rectangles, in pixel units. Returns the image and its side.
fn svg_image(svg: &str) -> (GrayImage, u32) {
    let attr = |name: &str| -> &str {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        &svg[start..start + svg[start..].find('"').unwrap()]
    };
    let side: u32 = attr("width").parse().unwrap();
    assert_eq!(attr("height"), attr("width"));
    assert!(svg.contains(r##"fill="#ffffff""##) && svg.contains(r##"<path fill="#000000""##));
    let mut img = GrayImage::from_pixel(side, side, Luma([255]));
    for rect in attr("d").split('M').filter(|s| !s.is_empty()) {
        let n: Vec<u32> = rect
            .split(['h', 'v', 'H', 'V', ' '])
            .map(|t| t.parse().unwrap())
            .collect();
        let (x, y, w, h) = (n[0], n[1], n[2], n[3]);
        assert_eq!((n[4], n[5]), (x, y), "closed rectangle");
        for py in y..y + h {
            for px in x..x + w {
                img.put_pixel(px, py, Luma([0]));
            }
        }
    }
    (img, side)
}

fn decode(img: GrayImage) -> String {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code");
    grids[0].decode().unwrap().1
}

#[test]
fn qr_code_decodes_back_to_the_signing_url() {
    for url in [
        URL,
        "https://papay.example/global/papay/contracts/login?os_session_id=1",
    ] {
        let code = qr::encode(url).unwrap();
        assert_eq!(decode(matrix_image(&code)), url, "module matrix");

        let svg = qr::svg(&code).into_string();
        assert!(svg.starts_with(r#"<svg id="qr" role="img" aria-label="#), "{svg}");
        let (img, side) = svg_image(&svg);
        assert!(side >= qr::MIN_SIZE_PX && qr::MIN_SIZE_PX >= 260, "{side} px");
        // The quiet zone: a 4-module white border (module side = side / modules incl. border).
        let module = side / (u32::try_from(code.width()).unwrap() + 8);
        assert!(module >= 4, "{module} px per module");
        assert!((0..side).all(|i| img[(i, 4 * module - 1)].0 == [255] && img[(4 * module - 1, i)].0 == [255]));
        assert_eq!(decode(img), url, "drawn SVG");
    }
}

#[test]
fn outcome_pages_carry_the_state() {
    let signed = outcome(
        Outcome::Signed {
            contract_id: "20261127000000000001",
            signed_time: "t1",
            contract_expires: "t2",
        },
        Some("https://merchant.example/done?a=1&b=2"),
    );
    assert!(signed.contains(r#"<section id="outcome" data-state="SIGNED">"#));
    assert!(signed.contains("20261127000000000001") && signed.contains("t1") && signed.contains("t2"));
    assert!(signed.contains(
        r#"<a class="btn primary" id="return" href="https://merchant.example/done?a=1&amp;b=2">Return to merchant</a>"#
    ));

    let failed = outcome(
        Outcome::Failed {
            reason: "You declined.",
        },
        None,
    );
    assert!(failed.contains(r#"data-state="SIGNFAIL""#) && failed.contains("You declined."));
    assert!(!failed.contains(r#"id="return""#));

    let terminated = outcome(
        Outcome::Terminated {
            when: "2026-12-01 09:00:00 (UTC+8)",
        },
        None,
    );
    assert!(terminated.contains(r#"data-state="TERMINATED""#));
    assert!(terminated.contains("2026-12-01 09:00:00 (UTC+8)"));
}

#[test]
fn outcome_return_app_is_text_and_odd_return_urls_are_not_links() {
    let html = outcome_page(&OutcomeView {
        merchant_name: "m",
        plan_name: "p",
        outcome: Outcome::Failed { reason: "r" },
        return_url: Some("JavaScript:alert(1)"),
        return_appid: Some("wxd678efh567hg6787"),
    })
    .into_string();
    assert!(html.contains(r#"id="return-app""#) && html.contains("Returning to app"));
    assert!(html.contains("wxd678efh567hg6787"));
    assert!(!html.contains(r#"id="return""#) && !html.contains("href="));
    assert!(html.contains(r#"id="return-blocked""#));

    let http = outcome(Outcome::Failed { reason: "r" }, Some("HTTP://merchant.example/"));
    assert!(http.contains(r#"id="return""#));
}

#[test]
fn notice_pages_say_what_happened() {
    for (n, kind, heading) in [
        (Notice::Expired, "expired", "This signing link has expired"),
        (
            Notice::Replaced,
            "replaced",
            "This signing link was replaced by a newer one",
        ),
        (Notice::NotFound, "not-found", "No such signing link"),
    ] {
        let html = notice_page(n).into_string();
        assert!(
            html.contains(&format!(r#"<section id="notice" data-kind="{kind}">"#)),
            "{html}"
        );
        assert!(html.contains(&format!("<h1>{heading}</h1>")));
        assert!(html.contains(&format!("<title>{heading} · papay sandbox</title>")));
    }
}

#[test]
fn session_entry_page_is_a_get_form() {
    let html = session_entry_page(None).into_string();
    assert!(html.contains(r#"<form method="get" action="/papay/open">"#));
    assert!(html.contains(r#"<label for="session-id">"#));
    assert!(html.contains(r#"<input id="session-id" type="text" name="sessionId" required"#));
    assert!(!html.contains(r#"id="error""#));

    let html = session_entry_page(Some("That session_id is not known.")).into_string();
    assert!(html.contains(r#"<p class="error" id="error" role="alert">That session_id is not known.</p>"#));
}
