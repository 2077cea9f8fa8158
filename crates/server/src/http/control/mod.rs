//! The test-control API under `/sandbox/v1/` (docs/control-api.md): plays the WeChat user,
//! drives a merchant's virtual clock, injects faults, and makes throwaway merchants.
//! Every call names one merchant (in the path, or through the contract or session it acts
//! on) and never touches another.

pub(crate) mod clock;
pub(crate) mod contracts;
pub mod error;
mod faults;
pub(crate) mod merchants;
pub(crate) mod notifications;
pub mod openapi;
pub(crate) mod sessions;
mod views;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

pub use error::ControlError;

use super::AppState;
use crate::domain::ids::Mchid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sandbox/v1/openapi.json", get(openapi::document))
        .route("/sandbox/v1/links/resolve", post(sessions::resolve))
        .route("/sandbox/v1/sessions/{session_id}/agree", post(sessions::agree))
        .route("/sandbox/v1/sessions/{session_id}/decline", post(sessions::decline))
        .route("/sandbox/v1/sessions/{session_id}/expire", post(sessions::expire))
        .route("/sandbox/v1/contracts/{contract_id}", get(contracts::get))
        .route(
            "/sandbox/v1/contracts/{contract_id}/terminate",
            post(contracts::terminate),
        )
        .route("/sandbox/v1/merchants", post(merchants::create))
        .route(
            "/sandbox/v1/merchants/{mchid}",
            axum::routing::delete(merchants::delete),
        )
        .route("/sandbox/v1/merchants/{mchid}/reset", post(merchants::reset))
        .route("/sandbox/v1/merchants/{mchid}/contracts", get(contracts::list))
        .route(
            "/sandbox/v1/merchants/{mchid}/clock",
            get(clock::show).put(clock::set).delete(clock::reset),
        )
        .route("/sandbox/v1/merchants/{mchid}/clock/advance", post(clock::advance))
        .route("/sandbox/v1/merchants/{mchid}/notifications", get(notifications::list))
        .route(
            "/sandbox/v1/merchants/{mchid}/notifications/pause",
            post(notifications::pause),
        )
        .route(
            "/sandbox/v1/merchants/{mchid}/notifications/resume",
            post(notifications::resume),
        )
        .route("/sandbox/v1/notifications/{id}", get(notifications::get))
        .route("/sandbox/v1/notifications/{id}/resend", post(notifications::resend))
        .route(
            "/sandbox/v1/merchants/{mchid}/faults",
            get(faults::list).post(faults::add).delete(faults::clear),
        )
}

/// Who is calling the control API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Open loopback access or the admin token: any merchant.
    Admin,
    /// A merchant's own control token: that merchant only.
    Merchant(Mchid),
}

impl Caller {
    /// Whether the caller may act on `mchid`'s data.
    pub fn sees(&self, mchid: &Mchid) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Merchant(own) => own == mchid,
        }
    }

    /// `403 NO_AUTH` unless the caller may act on `mchid`.
    pub fn may(&self, mchid: &Mchid) -> Result<(), ControlError> {
        crate::observe::merchant(mchid.as_str());
        if self.sees(mchid) {
            Ok(())
        } else {
            Err(ControlError::NoAuth(format!(
                "this token cannot act on merchant {mchid}"
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ControlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return if state.control().open_without_token {
                Ok(Caller::Admin)
            } else {
                Err(ControlError::Unauthorized(
                    "the control API needs \"Authorization: Bearer <token>\" when papay listens beyond loopback",
                ))
            };
        };
        let token = bearer_token(header).ok_or(ControlError::Unauthorized(BEARER_FORMAT))?;
        Caller::with_token(state, token).await
    }
}

/// What a malformed `Authorization` header is told.
pub const BEARER_FORMAT: &str = "the Authorization header must be \"Bearer <token>\"";

/// The token of an `Authorization: Bearer <token>` header; `None` when it is not one.
pub fn bearer_token(header: &axum::http::HeaderValue) -> Option<&str> {
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl Caller {
    /// Who `token` is: the admin token, a merchant's control token, else `401`. The control
    /// API's bearer header and the dashboard's cookie both come here.
    pub async fn with_token(state: &AppState, token: &str) -> Result<Caller, ControlError> {
        if state.control().is_admin(token) {
            return Ok(Caller::Admin);
        }
        let digest = crate::domain::merchant::control_token_digest(token);
        match state.store().merchant_by_control_token(&digest).await? {
            Some(mchid) => Ok(Caller::Merchant(mchid)),
            None => Err(ControlError::Unauthorized("unknown control token")),
        }
    }
}

/// A JSON body read into `T`; malformed or mistyped input is `400 PARAM_ERROR` naming the
/// problem. An empty body reads as `{}`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ControlError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| ControlError::Param(format!("cannot read the request body: {e}")))?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(Body)
            .map_err(|e| ControlError::Param(format!("the request body is not what this call takes: {e}")))
    }
}

/// How many entries a list answers unless `limit` says otherwise, and at most.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

/// A list's `limit` query parameter.
pub fn list_limit(v: &str) -> Result<u32, ControlError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| ControlError::Param(format!("limit must be 1 to {MAX_LIMIT}")))
}

/// The `{mchid}` path segment, as a merchant the caller may act on.
pub async fn merchant_in_path(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<std::sync::Arc<crate::domain::merchant::Merchant>, ControlError> {
    let mchid = Mchid::parse(raw).map_err(|_| ControlError::MerchantNotFound)?;
    caller.may(&mchid)?;
    state
        .directory()
        .fresh_merchant(&mchid)
        .await?
        .ok_or(ControlError::MerchantNotFound)
}

/// The one path segment of a route, as text; an undecodable one is `400 PARAM_ERROR`.
pub struct Seg(pub String);

impl FromRequestParts<AppState> for Seg {
    type Rejection = ControlError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(s)| Seg(s))
            .map_err(|e| ControlError::Param(format!("bad path: {e}")))
    }
}
