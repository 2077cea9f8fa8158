//! Fault injection: the next N calls of an endpoint by a merchant misbehave.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{merchant_in_path, Body, Caller, ControlError, Seg};
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind, MAX_COUNT, MAX_LATENCY_MS};
use crate::http::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct FaultView {
    id: i64,
    endpoint: &'static str,
    kind: &'static str,
    remaining: u32,
    latency_ms: u32,
}

impl From<&Fault> for FaultView {
    fn from(f: &Fault) -> Self {
        FaultView {
            id: f.id,
            endpoint: f.endpoint.as_str(),
            kind: f.kind.as_str(),
            remaining: f.remaining,
            latency_ms: f.latency_ms,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FaultList {
    faults: Vec<FaultView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFault {
    endpoint: String,
    kind: String,
    count: u32,
    latency_ms: Option<u32>,
}

/// `POST /sandbox/v1/merchants/{mchid}/faults`
#[utoipa::path(
    post, path = "/sandbox/v1/merchants/{mchid}/faults", tag = "control",
    request_body = AddFault,
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 201, description = "The fault, pending", body = FaultView), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
    Body(req): Body<AddFault>,
) -> Result<(StatusCode, Json<FaultView>), ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    let endpoint = FaultEndpoint::parse(&req.endpoint).ok_or_else(|| {
        let names: Vec<_> = FaultEndpoint::ALL.iter().map(|e| e.as_str()).collect();
        ControlError::Param(format!(
            "endpoint {:?} is not one of {}",
            req.endpoint,
            names.join(", ")
        ))
    })?;
    let kind = FaultKind::parse(&req.kind).ok_or_else(|| {
        let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        ControlError::Param(format!("kind {:?} is not one of {}", req.kind, names.join(", ")))
    })?;
    if !kind.applies_to(endpoint) {
        return Err(ControlError::Param(format!(
            "a {} fault does not apply to {} (notifications take DROP, DUPLICATE, LATENCY, SIGNTEST; APIv3 endpoints SYSTEMERROR, RATE_LIMITED, LATENCY, SIGNTEST; APIv2 endpoints SYSTEMERROR, RATE_LIMITED, LATENCY)",
            kind.as_str(),
            endpoint.as_str()
        )));
    }
    if !(1..=MAX_COUNT).contains(&req.count) {
        return Err(ControlError::Param(format!("count must be 1 to {MAX_COUNT}")));
    }
    let latency_ms = match (kind, req.latency_ms) {
        (FaultKind::Latency, Some(ms)) if (1..=MAX_LATENCY_MS).contains(&ms) => ms,
        (FaultKind::Latency, _) => {
            return Err(ControlError::Param(format!(
                "a LATENCY fault needs latency_ms from 1 to {MAX_LATENCY_MS}"
            )))
        }
        (_, Some(_)) => return Err(ControlError::Param("latency_ms goes only with kind LATENCY".into())),
        (_, None) => 0,
    };
    let fault = state
        .store()
        .add_fault(&m.mchid, endpoint, kind, req.count, latency_ms)
        .await?;
    state.directory().fresh_merchant(&m.mchid).await?;
    Ok((StatusCode::CREATED, Json(FaultView::from(&fault))))
}

/// `GET /sandbox/v1/merchants/{mchid}/faults`
#[utoipa::path(
    get, path = "/sandbox/v1/merchants/{mchid}/faults", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 200, description = "Faults with calls left", body = FaultList), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
) -> Result<Json<FaultList>, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    let faults = state.store().faults(&m.mchid).await?;
    Ok(Json(FaultList {
        faults: faults.iter().map(FaultView::from).collect(),
    }))
}

/// `DELETE /sandbox/v1/merchants/{mchid}/faults`
#[utoipa::path(
    delete, path = "/sandbox/v1/merchants/{mchid}/faults", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 204, description = "Cleared"), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn clear(State(state): State<AppState>, caller: Caller, Seg(mchid): Seg) -> Result<StatusCode, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    state.store().clear_faults(&m.mchid).await?;
    state.directory().fresh_merchant(&m.mchid).await?;
    Ok(StatusCode::NO_CONTENT)
}
