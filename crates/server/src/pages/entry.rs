//! The session entry form behind `GET /papay/open` without a `sessionId`.
//!
//! APP and mini-program pre-signs return a bare `session_id` that real WeChat would consume in
//! `WXOpenBusinessView` or the signing mini program; in the sandbox a tester pastes it here and
//! lands on the same signing page.

use maud::{html, Markup};

use super::layout::page;

/// Where the form is submitted (GET, field `sessionId`).
const ACTION: &str = "/papay/open";

/// The entry form (`#session-id` input), with `error` shown above it when given.
pub fn session_entry_page(error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Open a signing session" }
        p.sub { "For APP and mini-program pre-signs, which return a session_id instead of a link." }
        @if let Some(error) = error {
            p.error #error role="alert" { (error) }
        }
        form method="get" action=(ACTION) {
            div.field {
                label for="session-id" { "Session ID" }
                input #session-id type="text" name="sessionId" required
                    autocomplete="off" autocapitalize="off" spellcheck="false";
            }
            button #open .btn .primary type="submit" { "Open" }
        }
    };
    page("Open a signing session", body)
}
