//! The QR page: the signing URL as a scannable code, for a desktop browser the user points
//! their phone at.
//!
//! The code is drawn server-side as inline SVG (no script, no image request) in black on white
//! with the standard 4-module quiet zone and at least [`MIN_SIZE_PX`] across. [`encode`] and
//! [`svg`] are separate so the tests decode the very `QrCode` value the page draws.

use maud::{html, Markup, PreEscaped};
use qrcode::render::svg;
use qrcode::types::QrError;
use qrcode::QrCode;

use super::layout::page;

/// Smallest rendered side, quiet zone included; phones scan this easily off a laptop screen.
pub(super) const MIN_SIZE_PX: u32 = 264;

/// What the QR page shows, already formatted by the caller.
#[derive(Debug, Clone, Copy)]
pub struct QrView<'a> {
    pub merchant_name: &'a str,
    pub plan_name: &'a str,
    pub user_display_name: Option<&'a str>,
    /// Encoded in the QR code byte for byte, and the target of the `open-link` link.
    pub signing_url: &'a str,
    /// Already formatted.
    pub expires_at: &'a str,
    /// Shown under the code, e.g. that a phone cannot reach a loopback address.
    pub note: Option<&'a str>,
}

/// The QR page: an inline SVG with id `qr` encoding `signing_url`, and a link `open-link` to it.
pub fn qr_page(v: &QrView) -> Markup {
    let body = html! {
        h1 { "Scan with WeChat" }
        p.sub {
            (v.merchant_name) " · " (v.plan_name)
            @if let Some(name) = v.user_display_name { " · for " (name) }
        }
        div.qr {
            @match encode(v.signing_url) {
                Ok(code) => (svg(&code)),
                // Only an absurdly long URL gets here; the link below still works.
                Err(_) => p.error role="alert" { "This link is too long to show as a QR code; use the link below." },
            }
        }
        p.lead {
            "Open WeChat on your phone, tap " strong { "+" } " then " strong { "Scan" }
            ", and point the camera at the code to review and sign the contract."
        }
        @if let Some(note) = v.note {
            p.hint #qr-note { (note) }
        }
        a #open-link .btn .secondary href=(v.signing_url) { "Open the signing page on this device" }
        p.note { "This code expires at " (v.expires_at) "." }
    };
    page("Scan with WeChat", body)
}

/// The QR code for `data`, as the page draws it.
pub(super) fn encode(data: &str) -> Result<QrCode, QrError> {
    QrCode::new(data.as_bytes())
}

/// `code` as an inline `<svg id="qr">`: black on white, quiet zone, at least [`MIN_SIZE_PX`].
pub(super) fn svg(code: &QrCode) -> Markup {
    let drawn = code
        .render::<svg::Color>()
        .quiet_zone(true)
        .min_dimensions(MIN_SIZE_PX, MIN_SIZE_PX)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Drop the XML declaration (meaningless inside HTML) and name the element. `drawn` is
    // qrcode's own output (numbers and fixed colours), never user text.
    let svg = match drawn.find("<svg") {
        Some(at) => format!(
            r#"<svg id="qr" role="img" aria-label="QR code of the signing link"{}"#,
            &drawn[at + "<svg".len()..]
        ),
        None => drawn,
    };
    PreEscaped(svg)
}
