//! The test-control API: plays the WeChat user so tests can drive contracts to any state.
//! (The signing pages and the rest of the control surface come with the user-side work.)

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;

use super::contracts::{contract_id_path, contract_json};
use super::error::ApiError;
use super::input::Input;
use super::AppState;
use crate::domain::contract::Refusal;
use crate::domain::values::OpenId;

/// `POST /papay/control/contracts/{contract_id}/agree` with optional `{"openid": "…"}`: the
/// user agrees on the signing page. Answers the contract as the query API would show it.
pub async fn agree(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<papay_protocol::contracts::Contract>, ApiError> {
    let id = contract_id_path(id)?;
    let input = if body.is_empty() {
        Input::query(None)
    } else {
        Input::body(&body)?
    };
    let given = input
        .opt_str("openid")
        .and_then(|o| o.map(|o| OpenId::parse("openid", o)).transpose())
        .map_err(|e| ApiError::from_contract(e.into(), "body"))?;
    let contract = state.store().contract(&id).await?.ok_or(ApiError::ContractNotExist)?;
    let openid = given
        .or(contract.openid)
        .ok_or_else(|| ApiError::param_field("openid", "body", "openid is required: the pre-sign gave none"))?;
    match state.store().agree(&id, &openid, state.clock().now()).await? {
        Ok(c) => Ok(Json(contract_json(&c))),
        Err(Refusal::SessionClosed) => Err(ApiError::param(
            "the signing session is over (signed, failed, expired or replaced)",
        )),
        Err(_) => Err(ApiError::ContractNotExist),
    }
}
