//! Who may use the dashboard: the control API's rule (`Caller`). Open when papay listens on
//! loopback only; otherwise the admin token sees every merchant and a merchant's control
//! token sees only that merchant. Browsers cannot send a bearer header, so the token may also
//! come from the sign-in form, kept in an HttpOnly, SameSite=Strict cookie scoped to
//! `/dashboard`; `Authorization: Bearer` works too (scripts, tests).
//!
//! State-changing forms are POSTs, and a POST is refused unless the browser says it comes from
//! the dashboard's own origin (`Sec-Fetch-Site`, else `Origin` against `Host`), so a page
//! elsewhere cannot drive papay through a visitor's browser, on loopback or not.

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use super::input::Form;
use super::{ok, see_other, DashError};
use crate::dashboard::{self, Who};
use crate::http::control::{self, Caller, ControlError};
use crate::http::AppState;

/// The cookie holding the dashboard token.
pub const COOKIE_NAME: &str = "papay_dashboard";

/// The person looking at the dashboard.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    label: String,
    /// Signed in through the form (so "Sign out" applies).
    by_cookie: bool,
}

impl Viewer {
    /// What the navigation bar says about the viewer.
    pub fn who(&self) -> Option<Who<'_>> {
        Some(Who {
            label: &self.label,
            can_sign_out: self.by_cookie,
        })
    }

    fn new(caller: Caller, by_cookie: bool, open: bool) -> Self {
        let label = match (&caller, open) {
            (Caller::Admin, true) => "admin (open on loopback)".to_string(),
            (Caller::Admin, false) => "admin".to_string(),
            (Caller::Merchant(m), _) => format!("merchant {m}"),
        };
        Viewer {
            caller,
            label,
            by_cookie,
        }
    }
}

/// The dashboard token a cookie header carries, decoded.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| {
            form_urlencoded::parse(format!("t={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = DashError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let open = state.control().open_without_token;
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = control::bearer_token(header).ok_or(DashError::SignIn {
                problem: Some(control::BEARER_FORMAT),
                clear_cookie: false,
                open,
            })?;
            return match Caller::with_token(state, token).await {
                Ok(caller) => Ok(Viewer::new(caller, false, false)),
                Err(ControlError::Unauthorized(why)) => Err(DashError::SignIn {
                    problem: Some(why),
                    clear_cookie: false,
                    open,
                }),
                Err(e) => Err(e.into()),
            };
        }
        if let Some(token) = cookie_token(&parts.headers) {
            return match Caller::with_token(state, &token).await {
                Ok(caller) => Ok(Viewer::new(caller, true, false)),
                Err(ControlError::Unauthorized(_)) => Err(DashError::SignIn {
                    problem: Some("the saved token is no longer valid; sign in again"),
                    clear_cookie: true,
                    open,
                }),
                Err(e) => Err(e.into()),
            };
        }
        if open {
            return Ok(Viewer::new(Caller::Admin, false, true));
        }
        Err(DashError::SignIn {
            problem: None,
            clear_cookie: false,
            open,
        })
    }
}

/// Present on every state-changing handler: refuses a POST another site's page sent.
pub struct SameOrigin;

/// Whether the request's headers show it came from the dashboard's own origin. Browsers send
/// `Sec-Fetch-Site` (all current ones) or at least `Origin` on a POST; a client sending
/// neither (curl, an SDK) is not a browser another site could drive.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), headers.get(HOST).map(HeaderValue::to_str)) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = DashError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if same_origin(&parts.headers) {
            Ok(SameOrigin)
        } else {
            Err(DashError::CrossSite)
        }
    }
}

fn cookie(value: &str, max_age: Option<u32>, secure: bool) -> HeaderValue {
    let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut c = format!("{COOKIE_NAME}={encoded}; Path=/dashboard; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c)
        .unwrap_or_else(|_| HeaderValue::from_static("papay_dashboard=; Path=/dashboard; Max-Age=0"))
}

/// A `Set-Cookie` value that removes the dashboard cookie.
pub(super) fn clearing_cookie() -> HeaderValue {
    cookie("", Some(0), false)
}

/// `GET /dashboard/login`
pub async fn login_form(State(state): State<AppState>) -> Response {
    ok(dashboard::login_page(None, state.control().open_without_token))
}

/// `POST /dashboard/login` with `token`: checks it, then keeps it in the cookie.
pub async fn login(State(state): State<AppState>, _: SameOrigin, Form(form): Form) -> Result<Response, DashError> {
    form.only(&["token"])?;
    let open = state.control().open_without_token;
    let token = form.get("token").ok_or(DashError::SignIn {
        problem: Some("enter a control token"),
        clear_cookie: false,
        open,
    })?;
    match Caller::with_token(&state, token).await {
        Ok(_) => {
            let mut r = see_other("/dashboard");
            let secure = state.public_url().starts_with("https://");
            r.headers_mut().insert(SET_COOKIE, cookie(token, None, secure));
            Ok(r)
        }
        Err(ControlError::Unauthorized(_)) => Err(DashError::SignIn {
            problem: Some("papay knows no such token: use the admin control_token or a merchant's control token"),
            clear_cookie: false,
            open,
        }),
        Err(e) => Err(e.into()),
    }
}

/// `POST /dashboard/logout`: forgets the cookie.
pub async fn logout(_: SameOrigin) -> Response {
    let mut r = see_other("/dashboard");
    r.headers_mut().insert(SET_COOKIE, clearing_cookie());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_same_origin_posts_pass() {
        assert!(same_origin(&headers(&[])), "no browser headers: not a browser");
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(
            !same_origin(&headers(&[("origin", "http://127.0.0.1:8080")])),
            "no Host to compare"
        );
    }

    #[test]
    fn the_cookie_round_trips_any_token() {
        let set = cookie("admin token; with=odd chars", None, false);
        let value = set.to_str().unwrap().split(';').next().unwrap().to_string();
        let h = headers(&[("cookie", &format!("other=1; {value}"))]);
        assert_eq!(cookie_token(&h).as_deref(), Some("admin token; with=odd chars"));
        assert!(set.to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
    }
}
