//! The signing page: what the user agrees to, which openid signs, and the Agree / Decline
//! decision.
//!
//! Both buttons submit ONE form (`decision=agree|decline`) so the handler has a single POST
//! to validate. The openid is either fixed by the pre-sign (shown, sent as a hidden field) or
//! typed by the tester (prefilled from the `papay_openid` cookie); Decline skips the browser's
//! "required" check because declining needs no openid.

use maud::{html, Markup};

use super::layout::{fact, page};

/// Everything the signing page shows, already formatted by the caller.
#[derive(Debug, Clone, Copy)]
pub struct SigningView<'a> {
    pub merchant_name: &'a str,
    pub mchid: &'a str,
    pub plan_name: &'a str,
    pub plan_id: u64,
    pub user_display_name: Option<&'a str>,
    /// `"H5"`, `"JSAPI"`, `"WEB"`, `"APP"` or `"MINIPROGRAM"`.
    pub channel: &'a str,
    /// The session token, posted back as the hidden field `os_session_id`.
    pub session_id: &'a str,
    /// Already formatted, e.g. `"2026-11-27 20:00:00 (UTC+8)"`.
    pub expires_at: &'a str,
    /// How long the contract is valid once signed.
    pub contract_validity_days: u32,
    /// `Some`: the pre-sign fixed the openid (shown, not editable, sent as hidden `openid`).
    pub openid: Option<&'a str>,
    /// With no fixed openid: the value to prefill the `openid` input with.
    pub default_openid: Option<&'a str>,
    /// Openids this browser used before, offered to pick from (`datalist#openid-known`).
    pub known_openids: &'a [&'a str],
    /// Where the form POSTs, e.g. `"/global/papay/contracts/login"`.
    pub form_action: &'a str,
    /// Why the last submission was refused (e.g. a malformed openid), shown above the form.
    pub error: Option<&'a str>,
}

/// The signing page (form with ids `agree`, `decline` and, when the openid is not fixed,
/// `openid`).
pub fn signing_page(v: &SigningView) -> Markup {
    let body = html! {
        h1 { "Authorize automatic payments" }
        p.lead {
            "Once you agree, " strong { (v.merchant_name) }
            " may deduct payments from your WeChat Pay under the plan below, without asking you each time."
        }
        dl.facts {
            (fact("Merchant", html! { (v.merchant_name) " " span.mono.muted { (v.mchid) } }))
            (fact("Plan", html! { (v.plan_name) " " span.mono.muted { "#" (v.plan_id) } }))
            @if let Some(name) = v.user_display_name {
                (fact("Account", html! { (name) }))
            }
            (fact("Valid for", html! { (days(v.contract_validity_days)) " once signed" }))
            (fact("Channel", html! { (v.channel) }))
            @if let Some(openid) = v.openid {
                (fact("Signing as (openid)", html! { span.mono #openid-fixed { (openid) } }))
            }
        }
        @if let Some(error) = v.error {
            p.error #error role="alert" { (error) }
        }
        form method="post" action=(v.form_action) {
            input type="hidden" name="os_session_id" value=(v.session_id);
            @if let Some(openid) = v.openid {
                input type="hidden" name="openid" value=(openid);
            } @else {
                div.field {
                    label for="openid" { "WeChat user (openid) who signs" }
                    input #openid type="text" name="openid" value=[v.default_openid] list="openid-known" required
                        autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="openid-hint";
                    p.hint #openid-hint { "The merchant did not say which user signs; enter an openid." }
                    datalist #openid-known {
                        @for o in v.known_openids {
                            option value=(o) {}
                        }
                    }
                }
            }
            button #agree .btn .primary type="submit" name="decision" value="agree" { "Agree and sign" }
            button #decline .btn .secondary type="submit" name="decision" value="decline" formnovalidate {
                "Decline"
            }
        }
        p.note { "This link expires at " (v.expires_at) ". Sandbox: no real contract or money is involved." }
    };
    page("Authorize automatic payments", body)
}

/// "1 day", "30 days".
fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}
