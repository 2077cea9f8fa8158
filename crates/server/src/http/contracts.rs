//! The Global papay contract endpoints (PROTOCOL.md §2): five pre-sign modes, two queries,
//! terminate. Thin: parse the request into domain input, call the store, shape the answer.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use papay_protocol::contracts as wire;
use papay_protocol::error_body::ErrorBody;
use papay_protocol::time_format::{parse_rfc3339, rfc3339_beijing};

use super::auth::Authenticated;
use super::error::ApiError;
use super::input::Input;
use super::{links, AppState};
use crate::domain::contract::{Api, Channel, Contract, Party, TerminationMode};
use crate::domain::error::ContractError;
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::merchant::Merchant;
use crate::domain::presign::{check_party, check_plan, new_contract, PresignRequest};
use crate::domain::values::{
    bounded, ClientIp, ContractId, DisplayName, FieldError, NotifyUrl, OpenId, OutContractCode, ReturnUrl,
    TerminationNote,
};

fn app_id(field: &'static str, s: &str) -> Result<AppId, FieldError> {
    bounded(field, s, 1, 32)?;
    AppId::parse(s).map_err(|_| FieldError::new(field, "must contain only letters, digits, '_' and '-'"))
}

/// Common mode (`appid`) or Institutional mode (`sp_appid` + `sub_mchid` [+ `sub_appid`]).
fn party(input: &Input, caller: &Mchid) -> Result<Party, FieldError> {
    if let Some(sp_mchid) = input.opt_str("sp_mchid")? {
        if sp_mchid != caller.as_str() {
            return Err(FieldError::new(
                "sp_mchid",
                "must equal the mchid of the Authorization header",
            ));
        }
    }
    if input.has("sub_mchid") {
        if input.has("appid") {
            return Err(FieldError::new(
                "appid",
                "must not be sent with sub_mchid (Institutional mode uses sp_appid)",
            ));
        }
        let sub = input.str("sub_mchid")?;
        bounded("sub_mchid", sub, 1, 32)?;
        let sub_mchid = Mchid::parse(sub).map_err(|_| FieldError::new("sub_mchid", "must be digits"))?;
        let sp_appid = app_id("sp_appid", input.str("sp_appid")?)?;
        let sub_appid = input
            .opt_str("sub_appid")?
            .map(|s| app_id("sub_appid", s))
            .transpose()?;
        Ok(Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        })
    } else {
        for field in ["sp_appid", "sub_appid"] {
            if input.has(field) {
                return Err(FieldError::new(
                    field,
                    "is only for Institutional mode, which requires sub_mchid",
                ));
            }
        }
        Ok(Party::Common {
            appid: app_id("appid", input.str("appid")?)?,
        })
    }
}

fn presign_request(channel: Channel, input: &Input, caller: &Mchid) -> Result<PresignRequest, FieldError> {
    let party = party(input, caller)?;
    let plan_id =
        PlanId::new(input.int("plan_id")?).map_err(|_| FieldError::new("plan_id", "must be a positive integer"))?;
    let out_contract_code = OutContractCode::parse("out_contract_code", input.str("out_contract_code")?)?;
    let user_display_name = match (channel, input.opt_str("user_display_name")?) {
        (_, Some(name)) => Some(DisplayName::parse("user_display_name", name)?),
        (Channel::MiniProgram, None) => None,
        (_, None) => return Err(FieldError::new("user_display_name", "is required")),
    };
    let success_notify_url = NotifyUrl::parse("success_notify_url", input.str("success_notify_url")?)?;
    let openid = match channel {
        Channel::Jsapi | Channel::MiniProgram => Some(OpenId::parse("openid", input.str("openid")?)?),
        Channel::App => input
            .opt_str("openid")?
            .map(|o| OpenId::parse("openid", o))
            .transpose()?,
        Channel::H5 | Channel::Web => None,
    };
    let return_url = match channel {
        Channel::H5 | Channel::Jsapi | Channel::Web => input
            .opt_str("return_url")?
            .map(|u| ReturnUrl::parse("return_url", u))
            .transpose()?,
        Channel::App | Channel::MiniProgram => None,
    };
    let return_appid = match channel {
        Channel::H5 => input
            .opt_str("return_appid")?
            .map(|a| app_id("return_appid", a))
            .transpose()?,
        _ => None,
    };
    let user_client_ip = match channel {
        Channel::H5 | Channel::App | Channel::MiniProgram => input
            .opt_str("user_client_ip")?
            .map(|ip| ClientIp::parse("user_client_ip", ip))
            .transpose()?,
        Channel::Jsapi | Channel::Web => None,
    };
    let expired_time = match input.opt_str("expired_time")? {
        None => None,
        Some(t) => {
            bounded("expired_time", t, 1, 64)?;
            Some(parse_rfc3339(t).ok_or_else(|| {
                FieldError::new(
                    "expired_time",
                    "must be an RFC 3339 time such as 2018-06-08T10:34:56+08:00",
                )
            })?)
        }
    };
    Ok(PresignRequest {
        api: Api::V3,
        channel,
        party,
        plan_id,
        out_contract_code,
        user_display_name,
        success_notify_url,
        openid,
        return_url,
        return_appid,
        user_client_ip,
        expired_time,
    })
}

/// Validates and records a pre-sign; returns the stored contract.
async fn presign(state: &AppState, merchant: &Merchant, channel: Channel, body: &[u8]) -> Result<Contract, ApiError> {
    let input = Input::body(body)?;
    let body_err = |e: ContractError| ApiError::from_contract(e, "body");
    let req = presign_request(channel, &input, &merchant.mchid).map_err(|e| body_err(e.into()))?;
    check_party(merchant, &req.party).map_err(body_err)?;
    let plan = state.directory().plan(req.plan_id).await?;
    check_plan(merchant, plan.as_deref(), &req.party, req.plan_id).map_err(body_err)?;
    let contract = new_contract(merchant, req, merchant.now(state.clock().now())).map_err(body_err)?;
    state.store().presign(&contract).await?.map_err(|r| body_err(r.into()))
}

/// `POST /v3/global/papay/contracts/miniprogram-pre-entrust-sign` (PROTOCOL.md §2.1)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/miniprogram-pre-entrust-sign", tag = "contracts",
    summary = "Mini Program pre-sign",
    description = "`openid` required, `user_display_name` optional; expiry 5 min to 2 h (default 2 h).",
    request_body(content = wire::PresignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The session id the Mini Program opens", body = wire::SessionId),
        (status = 403, description = "NO_AUTH (plan, AppID or sub-merchant not the caller's) or CONTRACT_EXISTED (the code is signed or was terminated)", body = ErrorBody),
    )
)]
pub async fn miniprogram(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<wire::SessionId>, ApiError> {
    let c = presign(&state, &auth.merchant, Channel::MiniProgram, &body).await?;
    Ok(Json(wire::SessionId {
        session_id: c.session.token.to_string(),
    }))
}

/// `POST /v3/global/papay/contracts/app-pre-entrust-sign` (PROTOCOL.md §2.5)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/app-pre-entrust-sign", tag = "contracts",
    summary = "APP pre-sign",
    description = "`user_display_name` required; optional `openid`, `user_client_ip`; expiry 5 min to 2 h (default 2 h).",
    request_body(content = wire::PresignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The session id the APP opens", body = wire::SessionId),
        (status = 403, description = "NO_AUTH (plan, AppID or sub-merchant not the caller's) or CONTRACT_EXISTED (the code is signed or was terminated)", body = ErrorBody),
    )
)]
pub async fn app(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<wire::SessionId>, ApiError> {
    let c = presign(&state, &auth.merchant, Channel::App, &body).await?;
    Ok(Json(wire::SessionId {
        session_id: c.session.token.to_string(),
    }))
}

/// `POST /v3/global/papay/contracts/h5-pre-entrust-sign` (PROTOCOL.md §2.2)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/h5-pre-entrust-sign", tag = "contracts",
    summary = "H5 pre-sign (mobile browser)",
    description = "`user_display_name` required; optional `return_url`, `return_appid`, `user_client_ip`; expiry 5 to 10 min (default 10 min).",
    request_body(content = wire::PresignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The signing page URL", body = wire::SignUrl),
        (status = 403, description = "NO_AUTH (plan, AppID or sub-merchant not the caller's) or CONTRACT_EXISTED (the code is signed or was terminated)", body = ErrorBody),
    )
)]
pub async fn h5(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<wire::SignUrl>, ApiError> {
    let c = presign(&state, &auth.merchant, Channel::H5, &body).await?;
    Ok(Json(wire::SignUrl {
        sign_url: links::sign_url(state.public_url(), c.session.token.as_str()),
    }))
}

/// `POST /v3/global/papay/contracts/jsapi-pre-entrust-sign` (PROTOCOL.md §2.3)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/jsapi-pre-entrust-sign", tag = "contracts",
    summary = "JSAPI pre-sign (inside WeChat)",
    description = "`openid` and `user_display_name` required; optional `return_url`; expiry 5 min to 2 h (default 2 h).",
    request_body(content = wire::PresignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The signing page URL", body = wire::SignUrl),
        (status = 403, description = "NO_AUTH (plan, AppID or sub-merchant not the caller's) or CONTRACT_EXISTED (the code is signed or was terminated)", body = ErrorBody),
    )
)]
pub async fn jsapi(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<wire::SignUrl>, ApiError> {
    let c = presign(&state, &auth.merchant, Channel::Jsapi, &body).await?;
    Ok(Json(wire::SignUrl {
        sign_url: links::sign_url(state.public_url(), c.session.token.as_str()),
    }))
}

/// `POST /v3/global/papay/contracts/web-pre-entrust-sign` (PROTOCOL.md §2.4)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/web-pre-entrust-sign", tag = "contracts",
    summary = "PC-web pre-sign (QR code)",
    description = "`user_display_name` required; optional `return_url`; expiry 5 to 10 min (default 10 min).",
    request_body(content = wire::PresignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The page showing the QR code", body = wire::ShowCodeUrl),
        (status = 403, description = "NO_AUTH (plan, AppID or sub-merchant not the caller's) or CONTRACT_EXISTED (the code is signed or was terminated)", body = ErrorBody),
    )
)]
pub async fn web(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> Result<Json<wire::ShowCodeUrl>, ApiError> {
    let c = presign(&state, &auth.merchant, Channel::Web, &body).await?;
    Ok(Json(wire::ShowCodeUrl {
        show_code_url: links::show_code_url(state.public_url(), c.session.token.as_str()),
    }))
}

fn path_value(p: Result<Path<String>, PathRejection>, field: &'static str) -> Result<String, ApiError> {
    p.map(|Path(v)| v)
        .map_err(|_| ApiError::param_field(field, "path", format!("{field} is not valid UTF-8")))
}

/// The `{contract_id}` path segment (also used by the control API).
pub fn contract_id_path(p: Result<Path<String>, PathRejection>) -> Result<ContractId, ApiError> {
    ContractId::parse("contract_id", &path_value(p, "contract_id")?)
        .map_err(|e| ApiError::from_contract(e.into(), "path"))
}

/// The identity a query names, checked against the caller's AppID and sub-merchant bindings.
fn asked_party(input: &Input, merchant: &Merchant, location: &str) -> Result<Party, ApiError> {
    let asked = party(input, &merchant.mchid).map_err(|e| ApiError::from_contract(e.into(), location))?;
    check_party(merchant, &asked).map_err(|e| ApiError::from_contract(e, location))?;
    Ok(asked)
}

/// The contract if it is the caller's APIv3 one and the identity matches; otherwise
/// CONTRACT_NOT_EXIST (APIv2 contracts live behind the v2 APIs).
fn visible(contract: Option<Contract>, asked: &Party) -> Result<Contract, ApiError> {
    contract
        .filter(|c| c.api == Api::V3 && c.party.admits(asked))
        .ok_or(ApiError::ContractNotExist)
}

/// `GET /v3/global/papay/contracts/{contract_id}` (PROTOCOL.md §2.6)
#[utoipa::path(
    get, path = "/v3/global/papay/contracts/{contract_id}", tag = "contracts",
    summary = "Query a contract by contract_id",
    params(
        ("contract_id" = String, Path, description = "papay's contract id", min_length = 1, max_length = 64),
        ("appid" = Option<String>, Query, description = "Common mode: an AppID of the merchant", max_length = 32, example = "wx8a3e6b0c5d2f4e71"),
        ("sp_appid" = Option<String>, Query, description = "Institutional mode: an AppID of the institution", max_length = 32),
        ("sub_mchid" = Option<String>, Query, description = "Institutional mode: the sub-merchant (selects the mode)", max_length = 32),
        ("sub_appid" = Option<String>, Query, description = "Institutional mode, optional: an AppID of the sub-merchant", max_length = 32),
    ),
    responses(
        (status = 200, description = "The contract", body = wire::Contract),
        (status = 403, description = "CONTRACT_NOT_EXIST (unknown, another merchant's, another identity's or an APIv2 contract) or NO_AUTH", body = ErrorBody),
    )
)]
pub async fn by_id(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<wire::Contract>, ApiError> {
    let id = contract_id_path(id)?;
    let asked = asked_party(&Input::query(query.as_deref()), &auth.merchant, "query")?;
    let contract = visible(state.store().contract_by_id(&auth.merchant.mchid, &id).await?, &asked)?;
    Ok(Json(contract_json(
        &contract.observed(auth.merchant.now(state.clock().now())),
    )))
}

/// `GET /v3/global/papay/contracts/out-contract-code/{out_contract_code}` (PROTOCOL.md §2.7)
#[utoipa::path(
    get, path = "/v3/global/papay/contracts/out-contract-code/{out_contract_code}", tag = "contracts",
    summary = "Query a contract by out_contract_code and plan_id",
    params(
        ("out_contract_code" = String, Path, description = "The merchant's contract number", min_length = 1, max_length = 32, example = "C20261127001"),
        ("plan_id" = i64, Query, description = "The plan the code was used under", minimum = 1, example = 12535),
        ("appid" = Option<String>, Query, description = "Common mode: an AppID of the merchant", max_length = 32, example = "wx8a3e6b0c5d2f4e71"),
        ("sp_appid" = Option<String>, Query, description = "Institutional mode: an AppID of the institution", max_length = 32),
        ("sub_mchid" = Option<String>, Query, description = "Institutional mode: the sub-merchant (selects the mode)", max_length = 32),
        ("sub_appid" = Option<String>, Query, description = "Institutional mode, optional: an AppID of the sub-merchant", max_length = 32),
    ),
    responses(
        (status = 200, description = "The contract", body = wire::Contract),
        (status = 403, description = "CONTRACT_NOT_EXIST or NO_AUTH", body = ErrorBody),
    )
)]
pub async fn by_code(
    State(state): State<AppState>,
    auth: Authenticated,
    code: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<wire::Contract>, ApiError> {
    let code = OutContractCode::parse("out_contract_code", &path_value(code, "out_contract_code")?)
        .map_err(|e| ApiError::from_contract(e.into(), "path"))?;
    let input = Input::query(query.as_deref());
    let query_err = |e: ContractError| ApiError::from_contract(e, "query");
    let asked = party(&input, &auth.merchant.mchid).map_err(|e| query_err(e.into()))?;
    let plan_id = input
        .int("plan_id")
        .and_then(|p| PlanId::new(p).map_err(|_| FieldError::new("plan_id", "must be a positive integer")))
        .map_err(|e| query_err(e.into()))?;
    check_party(&auth.merchant, &asked).map_err(query_err)?;
    let found = state
        .store()
        .contract_by_code(&auth.merchant.mchid, asked.sub_mchid(), plan_id, &code)
        .await?;
    let contract = visible(found, &asked)?;
    Ok(Json(contract_json(
        &contract.observed(auth.merchant.now(state.clock().now())),
    )))
}

/// `POST /v3/global/papay/contracts/{contract_id}/terminate` (PROTOCOL.md §2.8)
#[utoipa::path(
    post, path = "/v3/global/papay/contracts/{contract_id}/terminate", tag = "contracts",
    summary = "Terminate a signed contract",
    description = "The contract becomes TERMINATED (mode MERCHANT) and PAPAY.TERMINATE goes to the plan's termination_notify_url.",
    params(("contract_id" = String, Path, description = "papay's contract id", min_length = 1, max_length = 64)),
    request_body(content = wire::TerminateRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Terminated; the body is empty (signed as such)"),
        (status = 403, description = "CONTRACT_NOT_EXIST (also for a contract not SIGNED) or NO_AUTH", body = ErrorBody),
    )
)]
pub async fn terminate(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id = contract_id_path(id)?;
    let input = Input::body(&body)?;
    let body_err = |e: ContractError| ApiError::from_contract(e, "body");
    let asked = party(&input, &auth.merchant.mchid).map_err(|e| body_err(e.into()))?;
    let note = TerminationNote::parse(
        "termination_note",
        input.str("termination_note").map_err(|e| body_err(e.into()))?,
    )
    .map_err(|e| body_err(e.into()))?;
    check_party(&auth.merchant, &asked).map_err(body_err)?;
    let mchid = &auth.merchant.mchid;
    visible(state.store().contract_by_id(mchid, &id).await?, &asked)?;
    let now = auth.merchant.now(state.clock().now());
    state
        .store()
        .terminate(mchid, &id, TerminationMode::Merchant, Some(&note), now)
        .await?
        .map_err(|r| body_err(r.into()))?;
    state.wakeup().wake();
    Ok(StatusCode::NO_CONTENT)
}

/// The §2.6 contract object: Common or Institutional identity fields, then the contract.
pub fn contract_json(c: &Contract) -> wire::Contract {
    let t = |t: Option<time::OffsetDateTime>| t.map(rfc3339_beijing);
    let mut out = wire::Contract {
        contract_id: c.contract_id.to_string(),
        plan_id: c.plan_id.get(),
        out_contract_code: c.out_contract_code.to_string(),
        user_display_name: c.user_display_name.as_ref().map(|d| d.to_string()),
        state: c.state.as_str().to_string(),
        signed_time: t(c.signed_time),
        expired_time: t(c.expired_time),
        terminated_time: t(c.terminated_time),
        termination_mode: c.termination_mode.map(|m| m.as_str().to_string()),
        termination_note: c.termination_note.as_ref().map(|n| n.to_string()),
        openid: c.openid.as_ref().map(|o| o.to_string()),
        ..wire::Contract::default()
    };
    match &c.party {
        Party::Common { appid } => {
            out.mchid = Some(c.mchid.to_string());
            out.identity = wire::Identity::common(appid.to_string());
        }
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => {
            out.sp_mchid = Some(c.mchid.to_string());
            out.identity = wire::Identity::institutional(
                sp_appid.to_string(),
                sub_mchid.to_string(),
                sub_appid.as_ref().map(|a| a.to_string()),
            );
        }
    }
    out
}
