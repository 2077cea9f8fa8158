//! The sandbox dashboard at `/dashboard` (issue 9): thin handlers that load what a page shows,
//! call the same use-cases as the control API (`super::control`), and render
//! `crate::dashboard`. Access follows the control API's rule (see `access.rs`); every
//! state-changing form is a same-origin POST answered by a redirect to the page it came from.

mod access;
mod contracts;
mod input;
mod merchants;
mod notifications;
mod overview;
mod requests;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use maud::Markup;

use super::control::ControlError;
use super::AppState;
use crate::store::StoreError;

pub use access::Viewer;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::show))
        .route("/dashboard/", get(overview::show))
        .route("/dashboard/login", get(access::login_form).post(access::login))
        .route("/dashboard/logout", post(access::logout))
        .route("/dashboard/merchants", get(merchants::list))
        .route("/dashboard/merchants/{mchid}", get(merchants::show))
        .route(
            "/dashboard/merchants/{mchid}/reset",
            get(merchants::confirm_reset).post(merchants::reset),
        )
        .route(
            "/dashboard/merchants/{mchid}/clock/advance",
            post(merchants::advance_clock),
        )
        .route("/dashboard/merchants/{mchid}/clock/reset", post(merchants::reset_clock))
        .route(
            "/dashboard/merchants/{mchid}/notifications/pause",
            post(merchants::pause),
        )
        .route(
            "/dashboard/merchants/{mchid}/notifications/resume",
            post(merchants::resume),
        )
        .route("/dashboard/contracts", get(contracts::list))
        .route("/dashboard/contracts/{contract_id}", get(contracts::show))
        .route("/dashboard/contracts/{contract_id}/agree", post(contracts::agree))
        .route("/dashboard/contracts/{contract_id}/decline", post(contracts::decline))
        .route("/dashboard/contracts/{contract_id}/expire", post(contracts::expire))
        .route(
            "/dashboard/contracts/{contract_id}/terminate",
            post(contracts::terminate),
        )
        .route("/dashboard/notifications", get(notifications::list))
        .route("/dashboard/notifications/{id}", get(notifications::show))
        .route("/dashboard/notifications/{id}/resend", post(notifications::resend))
        .route("/dashboard/requests", get(requests::list))
        .route("/dashboard/{*rest}", any(unknown_page))
}

/// Pages are built per request from live state: never cached, never framed, no scripts.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn html(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, axum::response::Html(markup.into_string())).into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// A 200 page.
fn ok(markup: Markup) -> Response {
    html(StatusCode::OK, markup)
}

/// `303 See Other` to `to` (a dashboard path built by papay, never from input).
fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Why a dashboard request was refused; each becomes an HTML page with its status.
#[derive(Debug)]
pub enum DashError {
    /// Any refusal the control API's use-cases give (400, 403, 404, 409, 410, 500).
    Control(ControlError),
    /// No token, or a token papay does not know: the sign-in page, `401`.
    SignIn {
        problem: Option<&'static str>,
        clear_cookie: bool,
        /// papay listens on loopback only (the page says signing in is optional).
        open: bool,
    },
    /// A POST from another site: `403`.
    CrossSite,
    /// A dashboard path that names no page: `404`.
    NoPage,
}

impl From<ControlError> for DashError {
    fn from(e: ControlError) -> Self {
        DashError::Control(e)
    }
}

impl From<StoreError> for DashError {
    fn from(e: StoreError) -> Self {
        DashError::Control(e.into())
    }
}

impl From<crate::domain::values::FieldError> for DashError {
    fn from(e: crate::domain::values::FieldError) -> Self {
        DashError::Control(e.into())
    }
}

/// A heading for each control-API code, in words.
fn title(code: &str) -> &'static str {
    match code {
        "PARAM_ERROR" | "OPENID_REQUIRED" => "Bad input",
        "NO_AUTH" => "Not allowed",
        "UNAUTHORIZED" => "Sign-in needed",
        "CONTRACT_NOT_EXIST" => "Contract not found",
        "MERCHANT_NOT_FOUND" => "Merchant not found",
        "NOTIFICATION_NOT_FOUND" => "Notification not found",
        "SESSION_NOT_FOUND" | "LINK_NOT_FOUND" => "Signing session not found",
        "SESSION_CLOSED" => "The signing session is over",
        "SESSION_EXPIRED" => "The signing session has expired",
        "CONTRACT_NOT_TERMINABLE" => "The contract cannot be terminated",
        _ => "papay failed",
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        match self {
            DashError::Control(ControlError::Unauthorized(why)) => DashError::SignIn {
                problem: Some(why),
                clear_cookie: false,
                open: false,
            }
            .into_response(),
            DashError::Control(e) => {
                let (status, code, message) = e.parts();
                html(
                    status,
                    crate::dashboard::error_page(status.as_u16(), title(code), &message),
                )
            }
            DashError::SignIn {
                problem,
                clear_cookie,
                open,
            } => {
                let mut r = html(StatusCode::UNAUTHORIZED, crate::dashboard::login_page(problem, open));
                if clear_cookie {
                    r.headers_mut()
                        .insert(axum::http::header::SET_COOKIE, access::clearing_cookie());
                }
                r
            }
            DashError::NoPage => html(
                StatusCode::NOT_FOUND,
                crate::dashboard::error_page(404, "Page not found", "The dashboard has no such page."),
            ),
            DashError::CrossSite => html(
                StatusCode::FORBIDDEN,
                crate::dashboard::error_page(
                    403,
                    "Cross-site request refused",
                    "The dashboard only accepts forms sent from its own pages. Open the dashboard and use its buttons.",
                ),
            ),
        }
    }
}

async fn unknown_page() -> DashError {
    DashError::NoPage
}
