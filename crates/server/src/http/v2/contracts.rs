//! `POST /papay/querycontract`, `/papay/deletecontract` and their `/papay/partner/…` forms
//! (PROTOCOL.md §5.3, §5.4): find a v2 contract by `contract_id` or `plan_id` +
//! `contract_code`, show it or terminate it (mode 3), answer MD5-signed XML.

use axum::body::Body;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use papay_protocol::v2::papay::{
    deletecontract_success, querycontract_success, with_sign, ContractSelector, DeleteContract, QueryContract,
    SubMerchant, V2ParamError, Variant,
};
use papay_protocol::v2::sign::{sign_type_param, SignType};
use papay_protocol::v2::Params;
use std::sync::Arc;

use super::identity::{party, plan_id};
use super::view::v2_contract;
use super::{answer, authenticate, read_xml, Shape, V2Error};
use crate::domain::contract::{Contract, TerminationMode};
use crate::domain::fault::FaultEndpoint;
use crate::domain::merchant::Merchant;
use crate::domain::presign::check_party;
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};
use crate::http::AppState;

pub async fn query_direct(State(state): State<AppState>, method: Method, body: Body) -> Response {
    answer(query(&state, &method, body, Variant::Direct).await, Shape::ErrCode)
}

pub async fn query_partner(State(state): State<AppState>, method: Method, body: Body) -> Response {
    answer(query(&state, &method, body, Variant::Partner).await, Shape::ErrCode)
}

pub async fn delete_direct(State(state): State<AppState>, method: Method, body: Body) -> Response {
    answer(delete(&state, &method, body, Variant::Direct).await, Shape::ErrCode)
}

pub async fn delete_partner(State(state): State<AppState>, method: Method, body: Body) -> Response {
    answer(delete(&state, &method, body, Variant::Partner).await, Shape::ErrCode)
}

/// querycontract and deletecontract name no algorithm: MD5, unless the caller sends `sign_type`.
fn sign_type(params: &Params) -> Result<SignType, V2Error> {
    sign_type_param(params)
        .map(|t| t.unwrap_or(SignType::Md5))
        .map_err(|_| V2Error::Param("`sign_type` must be MD5 or HMAC-SHA256".into()))
}

/// The merchant's v2 contract the selector names, if the caller's identity may see it.
async fn find(
    state: &AppState,
    merchant: &Merchant,
    appid: &str,
    sub: Option<&SubMerchant>,
    selector: &ContractSelector,
) -> Result<Contract, V2Error> {
    let mch_id = merchant.mchid.as_str();
    let asked = party(appid, sub, mch_id)?;
    check_party(merchant, &asked)?;
    let found = match selector {
        ContractSelector::ContractId(id) => {
            let id = ContractId::parse("contract_id", id).map_err(|_| V2Error::ContractNotExist)?;
            state.store().contract_by_id(&merchant.mchid, &id).await?
        }
        ContractSelector::PlanAndCode {
            plan_id: plan,
            contract_code,
        } => match (
            plan_id(plan, mch_id),
            OutContractCode::parse_v2("contract_code", contract_code),
        ) {
            (Ok(plan), Ok(code)) => {
                state
                    .store()
                    .contract_by_code(&merchant.mchid, asked.sub_mchid(), plan, &code)
                    .await?
            }
            _ => None,
        },
    };
    found
        .filter(|c| c.party.admits(&asked) && v2_contract(c).is_some())
        .ok_or(V2Error::ContractNotExist)
}

/// The signed success answer for `c` as `build` shapes it.
fn signed(
    merchant: &Merchant,
    c: &Contract,
    build: fn(&papay_protocol::v2::papay::V2Contract) -> Params,
) -> Result<Params, V2Error> {
    let view = v2_contract(c).ok_or(V2Error::ContractNotExist)?;
    let key = merchant.v2_key.as_ref().ok_or(V2Error::System)?;
    Ok(with_sign(build(&view), key.expose(), SignType::Md5))
}

/// A POST API's request: how it is parsed, who sends it, which faults target it.
trait PostRequest: Sized {
    const ENDPOINT: FaultEndpoint;
    fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError>;
    fn mch_id(&self) -> &str;
}

impl PostRequest for QueryContract {
    const ENDPOINT: FaultEndpoint = FaultEndpoint::V2QueryContract;
    fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError> {
        QueryContract::parse(p, variant)
    }
    fn mch_id(&self) -> &str {
        &self.mch_id
    }
}

impl PostRequest for DeleteContract {
    const ENDPOINT: FaultEndpoint = FaultEndpoint::V2DeleteContract;
    fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError> {
        DeleteContract::parse(p, variant)
    }
    fn mch_id(&self) -> &str {
        &self.mch_id
    }
}

/// The request a POST API's signed XML body carries, and the merchant it authenticated.
async fn authenticated<R: PostRequest>(
    state: &AppState,
    method: &Method,
    body: Body,
    variant: Variant,
) -> Result<(R, Arc<Merchant>), V2Error> {
    let params = read_xml(method, body).await?;
    let req = R::parse(&params, variant).map_err(|e| V2Error::Param(e.to_string()))?;
    let (merchant, _) = authenticate(state, &params, req.mch_id(), Some(sign_type(&params)?), R::ENDPOINT).await?;
    Ok((req, merchant))
}

async fn query(state: &AppState, method: &Method, body: Body, variant: Variant) -> Result<Params, V2Error> {
    let (req, merchant) = authenticated::<QueryContract>(state, method, body, variant).await?;
    let c = find(state, &merchant, &req.appid, req.sub_merchant.as_ref(), &req.selector).await?;
    let now = merchant.now(state.clock().now());
    signed(&merchant, &c.observed(now), querycontract_success)
}

async fn delete(state: &AppState, method: &Method, body: Body, variant: Variant) -> Result<Params, V2Error> {
    let (req, merchant) = authenticated::<DeleteContract>(state, method, body, variant).await?;
    let remark = TerminationNote::parse_v2("contract_termination_remark", &req.contract_termination_remark)?;
    let c = find(state, &merchant, &req.appid, req.sub_merchant.as_ref(), &req.selector).await?;
    let now = merchant.now(state.clock().now());
    let ended = state
        .store()
        .terminate(
            &merchant.mchid,
            &c.contract_id,
            TerminationMode::Merchant,
            Some(&remark),
            now,
        )
        .await?
        .map_err(V2Error::from)?;
    state.wakeup().wake();
    signed(&merchant, &ended, deletecontract_success)
}
