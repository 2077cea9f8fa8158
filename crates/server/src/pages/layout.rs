//! The page shell every signing page shares.
//!
//! Modelled on WeChat's own signing page (grey background, one white card, green primary
//! button, system fonts, large tap targets) so integration testers see something familiar, but
//! with a "papay sandbox" header so nobody mistakes it for the real WeChat. Self-contained: one
//! inline `<style>`, no scripts, fonts or images, so it renders offline. `referrer` is off
//! because the signing URL carries the session token and must not leak to a merchant's
//! `return_url` through the `Referer` header.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Product line shown above every card.
pub(super) const HEADER: &str = "WeChat Pay · papay sandbox";

/// The one stylesheet (static, no user data, so pre-escaping it is safe).
const STYLE: &str = r#"
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%;scrollbar-gutter:stable}
body{margin:0;background:#EDEDED;color:#191919;
  font:16px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Helvetica Neue","Segoe UI",Roboto,
  "Noto Sans","Microsoft YaHei",Arial,sans-serif}
.wrap{max-width:480px;margin:0 auto;padding:0 12px 32px}
.top{text-align:center;font-size:13px;color:#7f7f7f;padding:14px 0 10px;margin:0}
.card{background:#fff;border-radius:12px;padding:24px 20px 20px}
h1{font-size:21px;font-weight:600;line-height:1.35;margin:0 0 6px;text-align:center}
.sub{color:#7f7f7f;text-align:center;margin:0 0 20px;font-size:15px;overflow-wrap:anywhere}
.lead{margin:0 0 16px;overflow-wrap:anywhere}
h1+.lead{margin-top:14px}
.facts{margin:0 0 20px;border-top:1px solid #f0f0f0}
.facts div{display:flex;justify-content:space-between;align-items:baseline;gap:16px;padding:9px 0;
  border-bottom:1px solid #f0f0f0}
.facts dt{color:#7f7f7f;flex:none}
.facts dd{margin:0;text-align:right;overflow-wrap:anywhere;min-width:0}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.94em}
.muted{color:#7f7f7f}
label{display:block;font-size:15px;color:#4c4c4c;margin:0 0 6px}
.hint{font-size:13px;color:#7f7f7f;margin:6px 0 0}
input[type=text]{display:block;width:100%;min-height:48px;padding:10px 12px;font:inherit;
  color:inherit;border:1px solid #d9d9d9;border-radius:8px;background:#fff}
input[type=text]:focus{outline:2px solid #07C160;outline-offset:1px;border-color:#07C160}
.field{margin:0 0 20px}
.btn{display:block;width:100%;min-height:48px;padding:12px 16px;margin:12px 0 0;border:0;
  border-radius:8px;font:inherit;font-size:17px;font-weight:600;line-height:24px;text-align:center;
  text-decoration:none;cursor:pointer}
.primary{background:#07C160;color:#fff}
.primary:hover{background:#06AD56}
.secondary{background:#F2F2F2;color:#06AD56}
.secondary:hover{background:#E6E6E6}
.btn:focus-visible{outline:3px solid #191919;outline-offset:2px}
.note{font-size:13px;color:#7f7f7f;text-align:center;margin:20px 0 0;overflow-wrap:anywhere}
.error{color:#FA5151;margin:0 0 16px}
.qr{display:flex;justify-content:center;margin:4px 0 16px}
.qr svg{display:block;max-width:100%;height:auto;background:#fff}
.icon{width:64px;height:64px;border-radius:50%;margin:0 auto 16px;display:flex;align-items:center;
  justify-content:center;font-size:34px;font-weight:700;color:#fff}
.ok{background:#07C160}.bad{background:#FA5151}.neutral{background:#B2B2B2}
"#;

/// Wraps `body` (the card's content) in the common document: doctype, `lang`, viewport,
/// title, the sandbox header and the card.
pub(super) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                meta name="color-scheme" content="light";
                title { (title) " · papay sandbox" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                div.wrap {
                    header { p.top { (HEADER) } }
                    main.card { (body) }
                }
            }
        }
    }
}

/// One row of a definition list of facts (label on the left, value on the right).
pub(super) fn fact(label: &str, value: Markup) -> Markup {
    html! { div { dt { (label) } dd { (value) } } }
}
