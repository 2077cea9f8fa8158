//! The sign-in form (browsers cannot send a bearer header, so the token goes through a form
//! into an HttpOnly cookie) and the error page every refused request gets.

use maud::{html, Markup};

use super::layout::{page, Section};

/// The sign-in page; `problem` says why the last attempt (or the request) was refused; `open`:
/// papay listens on loopback only, so signing in is optional.
pub fn login_page(problem: Option<&str>, open: bool) -> Markup {
    page(
        "Sign in",
        Section::None,
        None,
        html! {
            div.card style="max-width:520px;margin:40px auto" {
                h1 { "Sign in to the dashboard" }
                p.lead {
                    @if open {
                        "papay listens on loopback only, so the dashboard is open without a token. Sign in to see it "
                        "as a token sees it: the admin "
                    } @else {
                        "papay listens beyond loopback, so the dashboard needs a token: the admin "
                    }
                    code { "control_token" } " from papay's config sees every merchant; a throwaway "
                    "merchant's control token sees only that merchant."
                }
                @if let Some(p) = problem {
                    div.notice.bad role="alert" id="problem" { (p) }
                }
                form method="post" action="/dashboard/login" {
                    div.field style="margin:0 0 12px" {
                        label for="token" { "Control token" }
                        input #token type="password" name="token" autocomplete="off" required style="width:100%";
                    }
                    button.btn.primary type="submit" id="sign-in" { "Sign in" }
                }
                p.muted.small style="margin:14px 0 0" {
                    "The token is kept in an HttpOnly, SameSite=Strict cookie for this browser session only."
                }
            }
        },
    )
}

/// A refused request: the status in words and what went wrong.
pub fn error_page(status: u16, title: &str, message: &str) -> Markup {
    page(
        title,
        Section::None,
        None,
        html! {
            div.card style="max-width:640px;margin:40px auto" {
                p.muted.small { "HTTP " (status) }
                h1 #error-title { (title) }
                p #error-message { (message) }
                p { a href="/dashboard" { "Back to the overview" } }
            }
        },
    )
}
