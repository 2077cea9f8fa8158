//! The domestic APIv2 papay endpoints (PROTOCOL.md §5): `h5entrustweb` (GET, signed query
//! string) and `querycontract` / `deletecontract` (POST, signed XML), direct and partner.
//!
//! They share nothing with the APIv3 transport: no certificates, no `Authorization`, every
//! answer is HTTP 200 with an XML body, and authenticity is the `sign` parameter computed with
//! the merchant's v2 key (the service provider's for `/papay/partner/…`). Each call goes the
//! same way: read the parameters (query string or XML, strictly), parse them into a typed
//! request, find the merchant, verify `sign`, apply an injected fault, then act on the same
//! contracts, state machine and store as APIv3.

mod contracts;
mod error;
mod h5entrustweb;
mod identity;
pub(crate) mod view;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use papay_protocol::v2::sign::{self, SignError, SignType};
use papay_protocol::v2::xml::{self, Limits};
use papay_protocol::v2::Params;
use std::sync::Arc;

use super::AppState;
use crate::domain::fault::{FaultEndpoint, FaultKind};
use crate::domain::merchant::Merchant;
pub use error::{Shape, V2Error};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/papay/h5entrustweb", any(h5entrustweb::direct))
        .route("/papay/partner/h5entrustweb", any(h5entrustweb::partner))
        .route("/papay/querycontract", any(contracts::query_direct))
        .route("/papay/partner/querycontract", any(contracts::query_partner))
        .route("/papay/deletecontract", any(contracts::delete_direct))
        .route("/papay/partner/deletecontract", any(contracts::delete_partner))
}

/// The XML answer, HTTP 200 whatever it says.
fn xml_answer(p: &Params) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml::write(p),
    )
        .into_response()
}

/// Answers `result`, shaping a failure as the API does.
fn answer(result: Result<Params, V2Error>, shape: Shape) -> Response {
    match result {
        Ok(p) => xml_answer(&p),
        Err(e) => {
            crate::observe::answer_code(e.code());
            xml_answer(&e.params(shape))
        }
    }
}

/// The signed parameters of a POST API's XML body.
async fn read_xml(method: &Method, body: Body) -> Result<Params, V2Error> {
    if method != Method::POST {
        return Err(V2Error::Method("REQUIRE_POST_METHOD"));
    }
    let limits = Limits::default();
    let bytes = axum::body::to_bytes(body, limits.max_bytes).await.map_err(|_| {
        V2Error::Format(format!(
            "XML_FORMAT_ERROR: the body is larger than {} bytes",
            limits.max_bytes
        ))
    })?;
    xml::parse(&bytes, &limits).map_err(|e| V2Error::Format(format!("XML_FORMAT_ERROR: {e}")))
}

/// What the journal shows of a `sign` that did not verify: the §5.1 string papay signed,
/// its key withheld, beside the `sign` and `sign_type` the request carried.
fn signature_check(params: &Params, sign_type: Option<SignType>) -> crate::observe::SignatureCheck {
    let string_a = sign::string_a(params);
    let sep = if string_a.is_empty() { "" } else { "&" };
    crate::observe::SignatureCheck {
        reason: format!(
            "sign does not verify as {} with the merchant's v2 API key",
            sign_type.map_or("MD5 or HMAC-SHA256 (by its length)", SignType::as_str)
        ),
        expected: crate::observe::clip(&format!("{string_a}{sep}key=<redacted>"), 8192),
        carried: format!(
            "sign={} sign_type={}",
            params.get("sign").unwrap_or(""),
            params.get("sign_type").unwrap_or("(none)")
        ),
    }
}

/// The merchant `mch_id` names, once `sign` verifies with its v2 key: the algorithm that
/// verified, after any fault injected into `endpoint` for this merchant.
async fn authenticate(
    state: &AppState,
    params: &Params,
    mch_id: &str,
    sign_type: Option<SignType>,
    endpoint: FaultEndpoint,
) -> Result<(Arc<Merchant>, SignType), V2Error> {
    let merchant = state
        .directory()
        .merchant(mch_id)
        .await?
        .ok_or_else(|| V2Error::NoAuth(format!("mch_id {mch_id} is not a merchant of this papay")))?;
    crate::observe::merchant(mch_id);
    let key = merchant.v2_key.as_ref().ok_or_else(|| {
        V2Error::NoAuth(format!(
            "mch_id {mch_id} has no v2 API key configured (set v2_key for this merchant)"
        ))
    })?;
    let verified = sign::verify(params, key.expose(), sign_type).inspect_err(|e| {
        if *e == SignError::Mismatch {
            crate::observe::signature_refused("bad_signature", Some(signature_check(params, sign_type)));
        }
    });
    let verified = verified.map_err(|e| match e {
        SignError::Missing => V2Error::Param("`sign` is required".into()),
        SignError::UnknownSignType(t) => V2Error::Param(format!("`sign_type` {t} must be MD5 or HMAC-SHA256")),
        SignError::Mismatch => V2Error::Sign(match sign_type {
            Some(t) => format!("`sign` does not verify as {t} with the v2 API key of mch_id {mch_id}"),
            None => format!(
                "`sign` does not verify with the v2 API key of mch_id {mch_id} (no sign_type: a 32-hex sign is checked as MD5, a 64-hex one as HMAC-SHA256)"
            ),
        }),
    })?;
    if merchant.sandbox.faults_pending {
        if let Some(f) = state.store().take_fault(&merchant.mchid, endpoint).await? {
            match f.kind {
                FaultKind::SystemError => return Err(V2Error::System),
                FaultKind::RateLimited => return Err(V2Error::RateLimited),
                FaultKind::Latency => {
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(f.latency_ms))).await;
                }
                FaultKind::SignTest | FaultKind::Drop | FaultKind::Duplicate => {}
            }
        }
    }
    Ok((merchant, verified))
}
