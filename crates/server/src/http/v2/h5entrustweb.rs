//! `GET /papay/h5entrustweb` and `/papay/partner/h5entrustweb` (PROTOCOL.md §5.2): a v2 H5
//! pre-sign. The signed query string becomes an H5 contract of the shared domain model, whose
//! `redirect_url` opens papay's signing page for 10 minutes.

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use papay_protocol::v2::papay::{h5entrustweb_success, H5EntrustWeb, Variant};
use papay_protocol::v2::{query, Params};

use super::identity::{party, plan_id};
use super::{answer, authenticate, Shape, V2Error};
use crate::domain::contract::{Api, Channel, V2Terms};
use crate::domain::fault::FaultEndpoint;
use crate::domain::ids::AppId;
use crate::domain::presign::{check_party, check_plan, new_contract, PresignRequest};
use crate::domain::values::{ClientIp, DisplayName, NotifyUrl, OutContractCode};
use crate::http::{links, AppState};

pub async fn direct(State(state): State<AppState>, method: Method, RawQuery(q): RawQuery) -> Response {
    answer(
        presign(&state, &method, q.as_deref(), Variant::Direct).await,
        Shape::ResultMsg,
    )
}

pub async fn partner(State(state): State<AppState>, method: Method, RawQuery(q): RawQuery) -> Response {
    answer(
        presign(&state, &method, q.as_deref(), Variant::Partner).await,
        Shape::ResultMsg,
    )
}

async fn presign(state: &AppState, method: &Method, raw: Option<&str>, variant: Variant) -> Result<Params, V2Error> {
    if method != Method::GET {
        return Err(V2Error::Method("REQUIRE_GET_METHOD"));
    }
    let params = query::decode(raw.unwrap_or_default()).map_err(|e| V2Error::Param(e.to_string()))?;
    let req = H5EntrustWeb::parse(&params, variant).map_err(|e| V2Error::Param(e.to_string()))?;
    let (merchant, sign_type) = authenticate(
        state,
        &params,
        &req.mch_id,
        req.sign_type,
        FaultEndpoint::V2H5EntrustWeb,
    )
    .await?;
    // The merchant's server stamps requests with real time, whatever its sandbox clock says.
    let real = state.clock().now();
    req.check_timestamp(real.unix_timestamp())
        .map_err(|e| V2Error::Param(e.to_string()))?;
    let now = merchant.now(real);
    let party = party(&req.appid, req.sub_merchant.as_ref(), &req.mch_id)?;
    check_party(&merchant, &party)?;
    let plan_id = plan_id(&req.plan_id, &req.mch_id)?;
    let plan = state.directory().plan(plan_id).await?;
    check_plan(&merchant, plan.as_deref(), &party, plan_id)?;
    let request = PresignRequest {
        api: Api::V2(V2Terms {
            request_serial: req.request_serial,
            sign_type,
        }),
        channel: Channel::H5,
        party,
        plan_id,
        out_contract_code: OutContractCode::parse_v2("contract_code", &req.contract_code)?,
        user_display_name: Some(DisplayName::parse_v2(
            "contract_display_account",
            &req.contract_display_account,
        )?),
        success_notify_url: NotifyUrl::parse_v2("notify_url", &req.notify_url)?,
        openid: None,
        return_url: None,
        return_appid: req
            .return_appid
            .as_deref()
            .map(|a| AppId::parse(a).map_err(|_| V2Error::Param(format!("`return_appid` {a} is not a valid AppID"))))
            .transpose()?,
        user_client_ip: Some(ClientIp::from_addr(req.clientip)),
        expired_time: None,
    };
    let contract = new_contract(&merchant, request, now)?;
    let stored = state.store().presign(&contract).await?.map_err(V2Error::from)?;
    Ok(h5entrustweb_success(&links::v2_redirect_url(
        state.public_url(),
        stored.session.token.as_str(),
    )))
}
