//! A merchant's contracts as the control API shows them, and termination by the user or the
//! merchant platform.

use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::views::ContractDetail;
use super::{list_limit, merchant_in_path, Body, Caller, ControlError, Seg, DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::contract::{Contract, ContractState, TerminationMode};
use crate::domain::ids::PlanId;
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};
use crate::http::AppState;
use crate::store::{ContractFilter, NotificationFilter};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractList {
    contracts: Vec<ContractDetail>,
}

fn filter(query: Option<&str>) -> Result<ContractFilter, ControlError> {
    let mut f = ContractFilter {
        limit: DEFAULT_LIMIT,
        ..ContractFilter::default()
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "state" => {
                f.state = Some(
                    ContractState::parse(&v)
                        .ok_or_else(|| ControlError::Param(format!("state {v:?} is not a contract state")))?,
                );
            }
            "plan_id" => {
                let id = v.parse::<i64>().ok().and_then(|n| PlanId::new(n).ok());
                f.plan_id = Some(id.ok_or_else(|| ControlError::Param("plan_id must be a positive integer".into()))?);
            }
            "out_contract_code" => f.out_contract_code = Some(OutContractCode::parse("out_contract_code", &v)?),
            "limit" => f.limit = list_limit(&v)?,
            other => return Err(ControlError::Param(format!("unknown query parameter {other:?}"))),
        }
    }
    Ok(f)
}

/// `GET /sandbox/v1/merchants/{mchid}/contracts`
#[utoipa::path(
    get, path = "/sandbox/v1/merchants/{mchid}/contracts", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id"), ("state" = Option<String>, Query, description = "A contract state, e.g. SIGNED"), ("plan_id" = Option<i64>, Query), ("out_contract_code" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "Newest first", body = ContractList), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
    RawQuery(query): RawQuery,
) -> Result<Json<ContractList>, ControlError> {
    let merchant = merchant_in_path(&state, &caller, &mchid).await?;
    let f = filter(query.as_deref())?;
    let now = merchant.now(state.clock().now());
    let contracts = state.store().contracts(&merchant.mchid, &f).await?;
    Ok(Json(ContractList {
        contracts: contracts
            .iter()
            .map(|c| ContractDetail::new(c, &[], &[], now))
            .collect(),
    }))
}

/// The contract with this id if the caller may see it (else "not found", as for a missing one).
pub(crate) async fn visible(state: &AppState, caller: &Caller, raw: &str) -> Result<Contract, ControlError> {
    let id = ContractId::parse("contract_id", raw).map_err(|_| ControlError::ContractNotFound)?;
    state
        .store()
        .contract(&id)
        .await?
        .filter(|c| caller.sees(&c.mchid))
        .ok_or(ControlError::ContractNotFound)
}

async fn detail(state: &AppState, c: &Contract) -> Result<Json<ContractDetail>, ControlError> {
    let merchant = state
        .directory()
        .fresh_merchant(&c.mchid)
        .await?
        .ok_or(ControlError::ContractNotFound)?;
    let history = state.store().transitions(&c.contract_id).await?;
    let filter = NotificationFilter {
        contract_id: Some(c.contract_id.clone()),
        limit: MAX_LIMIT,
        ..NotificationFilter::default()
    };
    let mut queued = state.store().notifications_of(&c.mchid, &filter).await?;
    queued.reverse();
    Ok(Json(ContractDetail::new(
        c,
        &history,
        &queued,
        merchant.now(state.clock().now()),
    )))
}

/// `GET /sandbox/v1/contracts/{contract_id}`
#[utoipa::path(
    get, path = "/sandbox/v1/contracts/{contract_id}", tag = "control",
    params(("contract_id" = String, Path, description = "The contract id")),
    responses((status = 200, description = "With its transition history", body = ContractDetail), (status = 404, description = "CONTRACT_NOT_EXIST", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Seg(id): Seg,
) -> Result<Json<ContractDetail>, ControlError> {
    let c = visible(&state, &caller, &id).await?;
    detail(&state, &c).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateRequest {
    #[serde(rename = "as")]
    by: String,
    note: Option<String>,
}

/// `POST /sandbox/v1/contracts/{contract_id}/terminate`: the user cancels in the WeChat wallet
/// (`USER`) or the merchant platform ends it (`PLATFORM`).
#[utoipa::path(
    post, path = "/sandbox/v1/contracts/{contract_id}/terminate", tag = "control",
    request_body = TerminateRequest,
    params(("contract_id" = String, Path, description = "The contract id")),
    responses((status = 200, description = "TERMINATED", body = ContractDetail), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 404, description = "CONTRACT_NOT_EXIST", body = ErrorBody), (status = 409, description = "CONTRACT_NOT_TERMINABLE", body = ErrorBody))
)]
pub async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Seg(id): Seg,
    Body(req): Body<TerminateRequest>,
) -> Result<Json<ContractDetail>, ControlError> {
    let mode = termination_by(&req.by)?;
    let note = req
        .note
        .as_deref()
        .map(|n| TerminationNote::parse("note", n))
        .transpose()?;
    let after = terminate_as(&state, &caller, &id, mode, note.as_ref()).await?;
    detail(&state, &after).await
}

/// Who terminates, from `USER` or `PLATFORM` (the merchant terminates through its own API).
pub(crate) fn termination_by(text: &str) -> Result<TerminationMode, ControlError> {
    match text {
        "USER" => Ok(TerminationMode::User),
        "PLATFORM" => Ok(TerminationMode::Platform),
        other => Err(ControlError::Param(format!(
            "\"as\" must be \"USER\" or \"PLATFORM\" (the merchant terminates through the API), not {other:?}"
        ))),
    }
}

/// Terminates the contract `id` (if the caller may see it) at its merchant's time: the one
/// path the control API and the dashboard share.
pub(crate) async fn terminate_as(
    state: &AppState,
    caller: &Caller,
    id: &str,
    mode: TerminationMode,
    note: Option<&TerminationNote>,
) -> Result<Contract, ControlError> {
    let c = visible(state, caller, id).await?;
    let merchant = state
        .directory()
        .fresh_merchant(&c.mchid)
        .await?
        .ok_or(ControlError::ContractNotFound)?;
    let now = merchant.now(state.clock().now());
    let after = state
        .store()
        .terminate(&c.mchid, &c.contract_id, mode, note, now)
        .await??;
    state.wakeup().wake();
    Ok(after)
}
