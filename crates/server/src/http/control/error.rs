//! The control API's errors: `{code, message}` with a status, mapped in this one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::domain::contract::Refusal;
use crate::domain::values::FieldError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// 401: a token is required (non-loopback listener) or the one given is unknown.
    Unauthorized(&'static str),
    /// 403: the caller's token belongs to another merchant, or the action is not allowed.
    NoAuth(String),
    /// 400: malformed input; the message names the field.
    Param(String),
    /// 400: neither the pre-sign nor the call says which user signs.
    OpenIdRequired,
    LinkNotFound,
    SessionNotFound,
    ContractNotFound,
    MerchantNotFound,
    NotificationNotFound,
    /// 409: the session is decided, terminated or deleted.
    SessionClosed,
    /// 410: the session expired or a newer pre-sign replaced it.
    SessionExpired,
    /// 409: only a SIGNED contract can be terminated.
    NotTerminable,
    /// 500: papay failed; the cause is logged, never sent.
    System,
}

impl ControlError {
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        use ControlError::*;
        match self {
            Unauthorized(why) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", (*why).into()),
            NoAuth(why) => (StatusCode::FORBIDDEN, "NO_AUTH", why.clone()),
            Param(why) => (StatusCode::BAD_REQUEST, "PARAM_ERROR", why.clone()),
            OpenIdRequired => (
                StatusCode::BAD_REQUEST,
                "OPENID_REQUIRED",
                "the pre-sign gave no openid: say which WeChat user agrees (\"openid\")".into(),
            ),
            LinkNotFound => (
                StatusCode::NOT_FOUND,
                "LINK_NOT_FOUND",
                "papay issued no signing session for this link".into(),
            ),
            SessionNotFound => (
                StatusCode::NOT_FOUND,
                "SESSION_NOT_FOUND",
                "no signing session has this id".into(),
            ),
            ContractNotFound => (StatusCode::NOT_FOUND, "CONTRACT_NOT_EXIST", "no such contract".into()),
            MerchantNotFound => (StatusCode::NOT_FOUND, "MERCHANT_NOT_FOUND", "no such merchant".into()),
            NotificationNotFound => (
                StatusCode::NOT_FOUND,
                "NOTIFICATION_NOT_FOUND",
                "no such notification".into(),
            ),
            SessionClosed => (
                StatusCode::CONFLICT,
                "SESSION_CLOSED",
                "the signing session is over: the user already decided, or the contract ended".into(),
            ),
            SessionExpired => (
                StatusCode::GONE,
                "SESSION_EXPIRED",
                "the signing link has expired or was replaced by a newer pre-sign".into(),
            ),
            NotTerminable => (
                StatusCode::CONFLICT,
                "CONTRACT_NOT_TERMINABLE",
                "only a SIGNED contract can be terminated".into(),
            ),
            System => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEMERROR",
                "papay failed; see its log".into(),
            ),
        }
    }
}

impl From<Refusal> for ControlError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::SessionClosed | Refusal::ContractExisted => ControlError::SessionClosed,
            Refusal::SessionExpired => ControlError::SessionExpired,
            Refusal::UnknownSession => ControlError::SessionNotFound,
            Refusal::NotTerminable => ControlError::NotTerminable,
        }
    }
}

impl From<FieldError> for ControlError {
    fn from(e: FieldError) -> Self {
        ControlError::Param(format!("{} {}", e.field, e.issue))
    }
}

impl From<StoreError> for ControlError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        ControlError::System
    }
}

/// Every control-API error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// e.g. `SESSION_EXPIRED`
    pub code: &'static str,
    pub message: String,
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        crate::observe::answer_code(code);
        (status, Json(ErrorBody { code, message })).into_response()
    }
}
