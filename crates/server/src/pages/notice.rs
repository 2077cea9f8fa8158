//! Pages for links that cannot be used: expired, replaced by a newer pre-sign, or never issued.
//!
//! Plain human sentences only (no ids, no internals); `#notice[data-kind]` lets tests tell the
//! cases apart. The handler picks the status (`410` for the first two, `404` for the last).

use maud::{html, Markup};

use super::layout::page;

/// Why a signing link cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Expired,
    Replaced,
    NotFound,
}

impl Notice {
    /// The `data-kind` attribute: `expired`, `replaced` or `not-found`.
    pub fn kind(self) -> &'static str {
        match self {
            Notice::Expired => "expired",
            Notice::Replaced => "replaced",
            Notice::NotFound => "not-found",
        }
    }
}

/// The notice page: `#notice[data-kind]` with a heading and what to do next.
pub fn notice_page(n: Notice) -> Markup {
    let (heading, advice) = match n {
        Notice::Expired => (
            "This signing link has expired",
            "Go back to the merchant and start signing again to get a new link.",
        ),
        Notice::Replaced => (
            "This signing link was replaced by a newer one",
            "The merchant has issued a newer link for this contract. Use the newest link instead.",
        ),
        Notice::NotFound => (
            "No such signing link",
            "Check that the whole link was copied, or ask the merchant for a new one.",
        ),
    };
    let body = html! {
        section #notice data-kind=(n.kind()) {
            div.icon.neutral aria-hidden="true" { "!" }
            h1 { (heading) }
            p.sub { (advice) }
        }
    };
    page(heading, body)
}
