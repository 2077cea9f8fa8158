//! Throwaway merchants (create, delete) and per-merchant resets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{merchant_in_path, Body, Caller, ControlError, Seg};
use crate::http::AppState;
use crate::provision::throwaway;
use crate::store::Deleted;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    name: Option<String>,
}

/// Everything a test needs to act as the new merchant. Its secrets are in this answer only.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedMerchant {
    mchid: String,
    name: String,
    appid: String,
    plan_id: i64,
    merchant_serial: String,
    merchant_private_key_pem: String,
    merchant_certificate_pem: String,
    platform_serial: String,
    platform_certificate_pem: String,
    apiv3_key: String,
    v2_key: String,
    control_token: String,
}

const ATTEMPTS: usize = 5;

/// `POST /sandbox/v1/merchants`
#[utoipa::path(
    post, path = "/sandbox/v1/merchants", tag = "control",
    request_body = CreateMerchant,
    responses((status = 201, description = "A throwaway merchant and its credentials", body = CreatedMerchant), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 403, description = "NO_AUTH", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateMerchant>,
) -> Result<(StatusCode, Json<CreatedMerchant>), ControlError> {
    if caller != Caller::Admin {
        return Err(ControlError::NoAuth(
            "a merchant's token cannot create merchants".into(),
        ));
    }
    if let Some(name) = &req.name {
        if !(1..=64).contains(&name.chars().count()) {
            return Err(ControlError::Param("name must be 1 to 64 characters".into()));
        }
    }
    for _ in 0..ATTEMPTS {
        let t = throwaway::generate(req.name.as_deref(), state.clock().now()).map_err(|e| {
            tracing::error!(error = %e, "cannot generate throwaway credentials");
            ControlError::System
        })?;
        if !state
            .store()
            .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &t.control_token_digest())
            .await?
        {
            continue;
        }
        tracing::info!(mchid = %t.merchant.mchid, "throwaway merchant created");
        state.directory().fresh_merchant(&t.merchant.mchid).await?;
        let c = &t.credentials;
        let key_pem = c.merchant_key.to_pkcs8_pem().map_err(|_| ControlError::System)?;
        return Ok((
            StatusCode::CREATED,
            Json(CreatedMerchant {
                mchid: c.identity.mchid.clone(),
                name: c.identity.name.clone(),
                appid: c.identity.appid.clone(),
                plan_id: c.identity.plan_id,
                merchant_serial: c.merchant_cert.serial().to_string(),
                merchant_private_key_pem: key_pem,
                merchant_certificate_pem: c.merchant_cert.pem().to_string(),
                platform_serial: c.platform_cert.serial().to_string(),
                platform_certificate_pem: c.platform_cert.pem().to_string(),
                apiv3_key: c.apiv3_key.expose().to_string(),
                v2_key: c.v2_key.clone(),
                control_token: t.control_token.clone(),
            }),
        ));
    }
    tracing::error!("no free merchant id after {ATTEMPTS} attempts");
    Err(ControlError::System)
}

/// `DELETE /sandbox/v1/merchants/{mchid}`
#[utoipa::path(
    delete, path = "/sandbox/v1/merchants/{mchid}", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 204, description = "Deleted with everything it owned"), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
) -> Result<StatusCode, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    match state.store().delete_merchant(&m.mchid).await? {
        Deleted::Deleted => {
            state.directory().fresh_merchant(&m.mchid).await?;
            state.journal().forget(m.mchid.as_str());
            tracing::info!(mchid = %m.mchid, "throwaway merchant deleted");
            Ok(StatusCode::NO_CONTENT)
        }
        Deleted::NotFound => Err(ControlError::MerchantNotFound),
        Deleted::NotThrowaway => Err(ControlError::NoAuth(format!(
            "merchant {} comes from papay's configuration; only throwaway merchants can be deleted",
            m.mchid
        ))),
    }
}

/// `POST /sandbox/v1/merchants/{mchid}/reset`
#[utoipa::path(
    post, path = "/sandbox/v1/merchants/{mchid}/reset", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 204, description = "Contracts, faults, clock and the request journal's entries forgotten"), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn reset(State(state): State<AppState>, caller: Caller, Seg(mchid): Seg) -> Result<StatusCode, ControlError> {
    reset_merchant(&state, &caller, &mchid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets the merchant's contracts, notifications, faults, clock and journal entries (shared
/// with the dashboard).
pub(crate) async fn reset_merchant(state: &AppState, caller: &Caller, mchid: &str) -> Result<(), ControlError> {
    let m = merchant_in_path(state, caller, mchid).await?;
    state.store().reset_merchant(&m.mchid).await?;
    state.directory().fresh_merchant(&m.mchid).await?;
    state.journal().forget(m.mchid.as_str());
    Ok(())
}
