//! The APIv3 transport around every `/v3/` and `/hk/v3/` route: read the body (bounded),
//! authenticate, run the handler, then sign the answer (errors included) with the
//! merchant's platform key per PROTOCOL.md §1.4. Faults injected through the control API
//! (docs/control-api.md) act here, after authentication, so they hit exactly the calls a
//! merchant makes.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use papay_protocol::headers::{
    JSON_CONTENT_TYPE, SIGNATURE_SCHEME, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE,
    WECHATPAY_SIGNATURE_TYPE, WECHATPAY_TIMESTAMP,
};

use super::auth::authenticate;
use super::error::ApiError;
use super::lang::{with_lang, Lang};
use super::AppState;
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::merchant::Merchant;

/// Largest request body accepted on APIv3 routes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub async fn apiv3(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let mut response = with_lang(lang, handle(state, request, next)).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.content_language()));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, must-revalidate"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

async fn handle(state: AppState, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::param(format!("the request body is larger than {MAX_BODY_BYTES} bytes")).into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/")
        .to_string();
    let requested_key = parts
        .headers
        .get(WECHATPAY_SERIAL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut probe = false;
    let (response, merchant) = match authenticate(&state, parts.method.as_str(), &target, &parts.headers, &body).await {
        Ok(auth) => {
            let merchant = auth.merchant.clone();
            let fault = match take_fault(&state, &merchant, parts.uri.path()).await {
                Ok(f) => f,
                Err(e) => return sign(&state, e.into_response(), &merchant, requested_key.as_deref(), false).await,
            };
            let response = match fault.map(|f| (f.kind, f.latency_ms)) {
                Some((FaultKind::SystemError, _)) => ApiError::System.into_response(),
                Some((FaultKind::RateLimited, _)) => ApiError::RateLimited.into_response(),
                other => {
                    if let Some((FaultKind::Latency, ms)) = other {
                        tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
                    }
                    probe = matches!(other, Some((FaultKind::SignTest, _)));
                    parts.extensions.insert(auth);
                    next.run(Request::from_parts(parts, Body::from(body))).await
                }
            };
            (response, Some(merchant))
        }
        Err(rejection) => (rejection.error.into_response(), rejection.merchant),
    };
    match merchant {
        Some(m) => sign(&state, response, &m, requested_key.as_deref(), probe).await,
        None => response,
    }
}

/// The fault injected into this call, if the merchant has one pending for its endpoint.
async fn take_fault(state: &AppState, merchant: &Merchant, path: &str) -> Result<Option<Fault>, ApiError> {
    if !merchant.sandbox.faults_pending {
        return Ok(None);
    }
    let Some(endpoint) = fault_endpoint(path) else {
        return Ok(None);
    };
    Ok(state.store().take_fault(&merchant.mchid, endpoint).await?)
}

/// Which fault-injection endpoint an APIv3 path is.
fn fault_endpoint(path: &str) -> Option<FaultEndpoint> {
    let last = path.rsplit('/').next()?;
    Some(match last {
        "certificates" => FaultEndpoint::Certificates,
        "terminate" => FaultEndpoint::TerminateContract,
        _ => {
            if let Some(e) = FaultEndpoint::parse(last).filter(|e| *e != FaultEndpoint::Any && !e.is_v2()) {
                e
            } else if path.contains("/papay/contracts/out-contract-code/") {
                FaultEndpoint::QueryContractByCode
            } else if path.contains("/papay/contracts/") {
                FaultEndpoint::QueryContract
            } else {
                return None;
            }
        }
    })
}

/// Adds `Wechatpay-*` headers signed over the exact body bytes sent.
/// With `probe`, the signature is a deliberately invalid `WECHATPAY/SIGNTEST/` one (§1.4).
async fn sign(
    state: &AppState,
    response: Response,
    merchant: &Merchant,
    requested_key: Option<&str>,
    probe: bool,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return ApiError::System.into_response();
    };
    let Some(key) = merchant.signing_key(requested_key) else {
        tracing::error!(mchid = %merchant.mchid, "merchant has no platform key");
        return ApiError::System.into_response();
    };
    let Ok(signed) = key.sign(state.clock().now().unix_timestamp(), &body, probe) else {
        tracing::error!(mchid = %merchant.mchid, "signing the answer failed");
        return ApiError::System.into_response();
    };
    let h = &mut parts.headers;
    if !body.is_empty()
        && h.get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    set(WECHATPAY_TIMESTAMP, &signed.timestamp);
    set(WECHATPAY_NONCE, &signed.nonce);
    set(WECHATPAY_SIGNATURE, &signed.signature);
    set(WECHATPAY_SERIAL, &signed.serial);
    set(WECHATPAY_SIGNATURE_TYPE, SIGNATURE_SCHEME);
    Response::from_parts(parts, Body::from(body))
}
