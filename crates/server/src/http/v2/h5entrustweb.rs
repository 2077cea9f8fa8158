//! `GET /papay/h5entrustweb` and `/papay/partner/h5entrustweb` (PROTOCOL.md §5.2): a v2 H5
//! pre-sign. The signed query string becomes an H5 contract of the shared domain model, whose
//! `redirect_url` opens papay's signing page for 10 minutes.

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use papay_protocol::v2::papay::{h5entrustweb_success, H5EntrustWeb, Variant};
use papay_protocol::v2::{query, Params};

use super::{answer, authenticate, Shape, V2Error};
use crate::domain::contract::{Api, Channel, Party, V2Terms};
use crate::domain::error::ContractError;
use crate::domain::fault::FaultEndpoint;
use crate::domain::ids::{AppId, Mchid, PlanId};
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

/// A domain message in v2's parameter names (the domain speaks APIv3's).
fn v2_names(s: &str) -> String {
    s.replace("sub_mchid", "sub_mch_id")
        .replace("sp_appid", "appid")
        .replace("mchid", "mch_id")
}

/// A domain rule the request breaks, as the v2 answer names it.
pub(super) fn refused(e: ContractError) -> V2Error {
    match e {
        ContractError::Field(f) => V2Error::Param(v2_names(&format!("`{}` {}", f.field, f.issue))),
        ContractError::NoAuth(why) => V2Error::NoAuth(v2_names(&why)),
        ContractError::ContractExisted => {
            V2Error::Invalid("contract_code was signed under this plan already (the contract is signed or terminated); use a new contract_code".into())
        }
        ContractError::ContractNotExist => V2Error::ContractNotExist,
    }
}

/// The identity a v2 request names: `appid` (direct) or `appid` + `sub_mch_id` [+ `sub_appid`].
pub(super) fn party(
    appid: &str,
    sub: Option<&papay_protocol::v2::papay::SubMerchant>,
    mch_id: &str,
) -> Result<Party, V2Error> {
    let unbound = |field: &str, v: &str| V2Error::Param(format!("`{field}` {v} is not bound to mch_id {mch_id}"));
    let appid = AppId::parse(appid).map_err(|_| unbound("appid", appid))?;
    Ok(match sub {
        None => Party::Common { appid },
        Some(s) => Party::Institutional {
            sp_appid: appid,
            sub_mchid: Mchid::parse(&s.sub_mch_id).map_err(|_| {
                V2Error::NoAuth(format!("sub_mch_id {} is not a sub-merchant of {mch_id}", s.sub_mch_id))
            })?,
            sub_appid: s
                .sub_appid
                .as_deref()
                .map(|a| AppId::parse(a).map_err(|_| unbound("sub_appid", a)))
                .transpose()?,
        },
    })
}

/// A v2 `plan_id` (digits) as papay's plan id; one that cannot be a plan is no plan of the merchant's.
pub(super) fn plan_id(s: &str, mch_id: &str) -> Result<PlanId, V2Error> {
    s.parse::<i64>()
        .ok()
        .and_then(|n| PlanId::new(n).ok())
        .ok_or_else(|| V2Error::NoAuth(format!("plan_id {s} does not belong to mch_id {mch_id}")))
}

fn field<T>(r: Result<T, crate::domain::values::FieldError>) -> Result<T, V2Error> {
    r.map_err(|e| refused(e.into()))
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
    check_party(&merchant, &party).map_err(refused)?;
    let plan_id = plan_id(&req.plan_id, &req.mch_id)?;
    let plan = state.directory().plan(plan_id).await?;
    check_plan(&merchant, plan.as_deref(), &party, plan_id).map_err(refused)?;
    let request = PresignRequest {
        api: Api::V2(V2Terms {
            request_serial: req.request_serial,
            sign_type,
        }),
        channel: Channel::H5,
        party,
        plan_id,
        out_contract_code: field(OutContractCode::parse_v2("contract_code", &req.contract_code))?,
        user_display_name: Some(field(DisplayName::parse_v2(
            "contract_display_account",
            &req.contract_display_account,
        ))?),
        success_notify_url: field(NotifyUrl::parse_v2("notify_url", &req.notify_url))?,
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
    let contract = new_contract(&merchant, request, now).map_err(refused)?;
    let stored = state.store().presign(&contract).await?.map_err(|r| refused(r.into()))?;
    Ok(h5entrustweb_success(&links::v2_redirect_url(
        state.public_url(),
        stored.session.token.as_str(),
    )))
}
