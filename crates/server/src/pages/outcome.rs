//! The outcome page shown after the decision (or when a decided session's link is reopened).
//!
//! `#outcome[data-state]` carries the contract state in WeChat's own words (`SIGNED`,
//! `SIGNFAIL`, `TERMINATED`) so browser tests can assert on it without parsing prose. The
//! "Return to merchant" link is only offered for `http(s)` URLs: `return_url` is merchant input
//! checked only for length, and a `javascript:` href would run script despite escaping.

use maud::{html, Markup};

use super::layout::{fact, page};

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    Signed {
        contract_id: &'a str,
        signed_time: &'a str,
        contract_expires: &'a str,
    },
    /// `reason` is a full sentence, e.g. "You declined.".
    Failed {
        reason: &'a str,
    },
    Terminated {
        when: &'a str,
    },
}

impl Outcome<'_> {
    /// The contract state as WeChat names it; the `data-state` attribute.
    pub fn state(&self) -> &'static str {
        match self {
            Outcome::Signed { .. } => "SIGNED",
            Outcome::Failed { .. } => "SIGNFAIL",
            Outcome::Terminated { .. } => "TERMINATED",
        }
    }
}

/// What the outcome page shows, already formatted by the caller.
#[derive(Debug, Clone, Copy)]
pub struct OutcomeView<'a> {
    pub merchant_name: &'a str,
    pub plan_name: &'a str,
    pub outcome: Outcome<'a>,
    /// The pre-sign's `return_url`: a link with id `return` (only if it is http or https).
    pub return_url: Option<&'a str>,
    /// The pre-sign's `return_appid`: shown as text, a sandbox cannot launch an app.
    pub return_appid: Option<&'a str>,
}

/// The outcome page: `#outcome[data-state]`, optional `#return` link and `#return-app` note.
pub fn outcome_page(v: &OutcomeView) -> Markup {
    let (title, icon, class) = match v.outcome {
        Outcome::Signed { .. } => ("Contract signed", "✓", "ok"),
        Outcome::Failed { .. } => ("Contract not signed", "×", "neutral"),
        Outcome::Terminated { .. } => ("Contract terminated", "–", "neutral"),
    };
    let body = html! {
        section #outcome data-state=(v.outcome.state()) {
            div.icon.(class) aria-hidden="true" { (icon) }
            h1 { (title) }
            p.sub { (v.merchant_name) " · " (v.plan_name) }
            @match v.outcome {
                Outcome::Signed { contract_id, signed_time, contract_expires } => {
                    p.lead { "Automatic payments to " strong { (v.merchant_name) } " are now authorized." }
                    dl.facts {
                        (fact("Contract ID", html! { span.mono #contract-id { (contract_id) } }))
                        (fact("Signed", html! { (signed_time) }))
                        (fact("Valid until", html! { (contract_expires) }))
                    }
                }
                Outcome::Failed { reason } => p.lead #reason { (reason) },
                Outcome::Terminated { when } => {
                    p.lead { "This contract was terminated; no further payments will be deducted." }
                    dl.facts { (fact("Terminated", html! { (when) })) }
                }
            }
        }
        @if let Some(url) = v.return_url {
            @if is_web_url(url) {
                a #return .btn .primary href=(url) { "Return to merchant" }
            } @else {
                p.note #return-blocked {
                    "The merchant's return address is not an http(s) link, so it is not offered: "
                    span.mono { (url) }
                }
            }
        }
        @if let Some(appid) = v.return_appid {
            p.note #return-app {
                "Returning to app " span.mono { (appid) } " (a sandbox cannot open apps; switch back yourself)."
            }
        }
    };
    page(title, body)
}

/// Whether `url` is an absolute http or https URL (the only schemes safe to put in an href).
fn is_web_url(url: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        url.as_bytes()
            .get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
    })
}
