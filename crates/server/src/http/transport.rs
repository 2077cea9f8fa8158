//! The APIv3 transport around every `/v3/` and `/hk/v3/` route: read the body (bounded),
//! authenticate, run the handler, then sign the answer (errors included) with the
//! merchant's platform key per PROTOCOL.md §1.4.

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
use papay_protocol::signing::response_signing_string;

use super::auth::authenticate;
use super::error::ApiError;
use super::lang::{with_lang, Lang};
use super::AppState;
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
    let (response, merchant) = match authenticate(&state, parts.method.as_str(), &target, &parts.headers, &body).await {
        Ok(auth) => {
            let merchant = auth.merchant.clone();
            parts.extensions.insert(auth);
            (
                next.run(Request::from_parts(parts, Body::from(body))).await,
                Some(merchant),
            )
        }
        Err(rejection) => (rejection.error.into_response(), rejection.merchant),
    };
    match merchant {
        Some(m) => sign(&state, response, &m, requested_key.as_deref()).await,
        None => response,
    }
}

/// Adds `Wechatpay-*` headers signed over the exact body bytes sent.
async fn sign(state: &AppState, response: Response, merchant: &Merchant, requested_key: Option<&str>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return ApiError::System.into_response();
    };
    let Some(key) = merchant.signing_key(requested_key) else {
        tracing::error!(mchid = %merchant.mchid, "merchant has no platform key");
        return ApiError::System.into_response();
    };
    let timestamp = state.clock().now().unix_timestamp().to_string();
    let nonce = papay_protocol::nonce::response_nonce();
    let message = response_signing_string(&timestamp, &nonce, &body);
    let Ok(signature) = key.key.private_key.sign_base64(&message) else {
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
    set(WECHATPAY_TIMESTAMP, &timestamp);
    set(WECHATPAY_NONCE, &nonce);
    set(WECHATPAY_SIGNATURE, &signature);
    set(WECHATPAY_SERIAL, key.name);
    set(WECHATPAY_SIGNATURE_TYPE, SIGNATURE_SCHEME);
    Response::from_parts(parts, Body::from(body))
}
