//! The simulated user on a signing session: resolve a link, agree, decline, let expire.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use time::OffsetDateTime;

use super::error::ErrorBody;
use super::views::SessionView;
use super::{Body, Caller, ControlError, Seg};
use crate::domain::contract::{Change, Contract, UserAction};
use crate::domain::merchant::Merchant;
use crate::domain::values::{ClientIp, OpenId};
use crate::http::{links, AppState};
use crate::store::SessionLookup;

/// The session behind `token` with its merchant, if the caller may see it.
async fn load(
    state: &AppState,
    caller: &Caller,
    token: &str,
) -> Result<Option<(Contract, bool, Arc<Merchant>)>, ControlError> {
    if !links::is_token(token) {
        return Ok(None);
    }
    let (contract, replaced) = match state.store().session(token).await? {
        None => return Ok(None),
        Some(SessionLookup::Current(c)) => (c, false),
        Some(SessionLookup::Replaced(c)) => (c, true),
    };
    if !caller.sees(&contract.mchid) {
        return Ok(None);
    }
    let merchant = state
        .directory()
        .fresh_merchant(&contract.mchid)
        .await?
        .ok_or(ControlError::SessionNotFound)?;
    Ok(Some((contract, replaced, merchant)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    link: String,
}

/// `POST /sandbox/v1/links/resolve`
#[utoipa::path(
    post, path = "/sandbox/v1/links/resolve", tag = "control",
    request_body = ResolveRequest,
    responses((status = 200, description = "The session behind the link", body = SessionView), (status = 404, description = "LINK_NOT_FOUND", body = ErrorBody))
)]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<ResolveRequest>,
) -> Result<Json<SessionView>, ControlError> {
    let token = links::token_from_link(&req.link).ok_or(ControlError::LinkNotFound)?;
    let (contract, replaced, merchant) = load(&state, &caller, &token).await?.ok_or(ControlError::LinkNotFound)?;
    let now = merchant.now(state.clock().now());
    Ok(Json(SessionView::new(&contract, replaced, now)))
}

/// Applies the simulated user's `action` to the session `token`: the one path the control API
/// and the dashboard share. Answers the change and the merchant's time it happened at.
pub(crate) async fn act_on_session(
    state: &AppState,
    caller: &Caller,
    token: &str,
    action: impl FnOnce(&Contract) -> Result<UserAction, ControlError>,
) -> Result<(Change, OffsetDateTime), ControlError> {
    let (contract, replaced, merchant) = load(state, caller, token).await?.ok_or(ControlError::SessionNotFound)?;
    if replaced {
        return Err(ControlError::SessionExpired);
    }
    let action = action(&contract)?;
    let now = merchant.now(state.clock().now());
    let change = state.store().act_on_session(token, &action, now).await??;
    state.wakeup().wake();
    Ok((change, now))
}

/// Applies `action` to the session and answers the session as it now stands.
async fn act(
    state: &AppState,
    caller: &Caller,
    token: &str,
    action: impl FnOnce(&Contract) -> Result<UserAction, ControlError>,
) -> Result<Json<SessionView>, ControlError> {
    let (change, now) = act_on_session(state, caller, token, action).await?;
    Ok(Json(SessionView::after(&change, now)))
}

/// Agreement as `given` (else the pre-sign's openid; neither is `OPENID_REQUIRED`) from
/// `client_ip` (`None`: from where the pre-sign expected).
pub(crate) fn agreement(
    given: Option<OpenId>,
    client_ip: Option<ClientIp>,
) -> impl FnOnce(&Contract) -> Result<UserAction, ControlError> {
    move |c| {
        let openid = given.or_else(|| c.openid.clone()).ok_or(ControlError::OpenIdRequired)?;
        Ok(UserAction::Agree { openid, client_ip })
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeRequest {
    openid: Option<String>,
    client_ip: Option<String>,
}

/// `POST /sandbox/v1/sessions/{session_id}/agree`
#[utoipa::path(
    post, path = "/sandbox/v1/sessions/{session_id}/agree", tag = "control",
    request_body = AgreeRequest,
    params(("session_id" = String, Path, description = "The session id (token) of a signing link")),
    responses((status = 200, description = "SIGNED, or SIGNFAIL with its reason", body = SessionView), (status = 400, description = "PARAM_ERROR, OPENID_REQUIRED", body = ErrorBody), (status = 404, description = "SESSION_NOT_FOUND", body = ErrorBody), (status = 409, description = "SESSION_CLOSED", body = ErrorBody), (status = 410, description = "SESSION_EXPIRED", body = ErrorBody))
)]
pub async fn agree(
    State(state): State<AppState>,
    caller: Caller,
    Seg(token): Seg,
    Body(req): Body<AgreeRequest>,
) -> Result<Json<SessionView>, ControlError> {
    let given = req.openid.as_deref().map(|o| OpenId::parse("openid", o)).transpose()?;
    let client_ip = req
        .client_ip
        .as_deref()
        .map(|ip| ClientIp::parse("client_ip", ip))
        .transpose()?;
    act(&state, &caller, &token, agreement(given, client_ip)).await
}

/// `POST /sandbox/v1/sessions/{session_id}/decline`
#[utoipa::path(
    post, path = "/sandbox/v1/sessions/{session_id}/decline", tag = "control",
    params(("session_id" = String, Path, description = "The session id (token) of a signing link")),
    responses((status = 200, description = "SIGNFAIL", body = SessionView), (status = 404, description = "SESSION_NOT_FOUND", body = ErrorBody), (status = 409, description = "SESSION_CLOSED", body = ErrorBody), (status = 410, description = "SESSION_EXPIRED", body = ErrorBody))
)]
pub async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Seg(token): Seg,
) -> Result<Json<SessionView>, ControlError> {
    act(&state, &caller, &token, |_| Ok(UserAction::Decline)).await
}

/// `POST /sandbox/v1/sessions/{session_id}/expire`
#[utoipa::path(
    post, path = "/sandbox/v1/sessions/{session_id}/expire", tag = "control",
    params(("session_id" = String, Path, description = "The session id (token) of a signing link")),
    responses((status = 200, description = "The session is dead; the contract reads NOTSIGN", body = SessionView), (status = 404, description = "SESSION_NOT_FOUND", body = ErrorBody), (status = 409, description = "SESSION_CLOSED", body = ErrorBody), (status = 410, description = "SESSION_EXPIRED", body = ErrorBody))
)]
pub async fn expire(
    State(state): State<AppState>,
    caller: Caller,
    Seg(token): Seg,
) -> Result<Json<SessionView>, ControlError> {
    act(&state, &caller, &token, |_| Ok(UserAction::Expire)).await
}
