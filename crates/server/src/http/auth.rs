//! Request authentication (PROTOCOL.md §1.3.4): parse `Authorization`, check the timestamp
//! window, find the merchant and its API credential by serial, verify the signature over the
//! exact method, request-target and body bytes, optionally refuse a replayed nonce.

use std::sync::Arc;

use axum::http::HeaderMap;
use papay_protocol::authorization::{Authorization, AuthorizationError};
use papay_protocol::error_body::SignInformation;
use papay_protocol::headers::AUTHORIZATION;
use papay_protocol::signing::{request_signing_string, truncated_sign_message};

use super::error::{ApiError, SignFailure};
use super::replay::WINDOW_SECS;
use super::AppState;
use crate::domain::merchant::Merchant;
use crate::observe::{self, SignatureCheck};

/// A request whose signature verified; handlers receive it as an extractor.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub merchant: Arc<Merchant>,
}

/// Why authentication failed, and the merchant when it was identified (its answer is signed).
pub struct Rejection {
    pub error: ApiError,
    pub merchant: Option<Arc<Merchant>>,
}

impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Rejection { error, merchant: None }
    }
}

pub async fn authenticate(
    state: &AppState,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Authenticated, Rejection> {
    let outcome = check(state, method, target, headers, body).await;
    match &outcome {
        Ok(auth) => observe::merchant(auth.merchant.mchid.as_str()),
        Err(rejection) => {
            if let Some(m) = &rejection.merchant {
                observe::merchant(m.mchid.as_str());
            }
            if let ApiError::Sign(failure) = &rejection.error {
                observe::signature_refused(
                    failure.reason(),
                    Some(signature_check(failure, method, target, headers, body)),
                );
            }
        }
    }
    outcome
}

/// What the journal shows of a refused request: the string papay expected to be signed
/// (when the header could be read) beside the `Authorization` header the request carried.
fn signature_check(
    failure: &SignFailure,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> SignatureCheck {
    let carried = headers
        .get(AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let expected = carried
        .as_deref()
        .and_then(|raw| Authorization::parse(raw).ok())
        .map(|auth| {
            let message = request_signing_string(method, target, &auth.timestamp, &auth.nonce_str, body);
            observe::clip(&String::from_utf8_lossy(&message), 8192)
        })
        .unwrap_or_else(|| "(none: the Authorization header could not be read)".into());
    SignatureCheck {
        reason: failure.describe(),
        expected,
        carried: carried.map_or_else(|| "(no Authorization header)".into(), |c| format!("Authorization: {c}")),
    }
}

async fn check(
    state: &AppState,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Authenticated, Rejection> {
    let sign = |f| ApiError::Sign(f);
    let raw = match headers.get(AUTHORIZATION) {
        None => return Err(sign(SignFailure::Malformed("the Authorization header is missing".into())).into()),
        Some(v) => v
            .to_str()
            .map_err(|_| sign(SignFailure::Malformed("the Authorization header is not ASCII".into())))?,
    };
    let auth = Authorization::parse(raw).map_err(|e| match e {
        AuthorizationError::WrongScheme(_) => sign(SignFailure::WrongScheme(e.to_string())),
        other => sign(SignFailure::Malformed(other.to_string())),
    })?;
    let timestamp = auth
        .timestamp_secs()
        .map_err(|e| sign(SignFailure::Malformed(e.to_string())))?;
    let now = state.clock().now().unix_timestamp();
    if (now - timestamp).abs() > WINDOW_SECS {
        return Err(sign(SignFailure::TimestampOutOfWindow).into());
    }

    let merchant = state
        .directory()
        .merchant(&auth.mchid)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "merchant lookup failed");
            ApiError::System
        })?
        .ok_or_else(|| sign(SignFailure::UnknownMerchant))?;
    let reject = |f: SignFailure| Rejection {
        error: sign(f),
        merchant: Some(merchant.clone()),
    };
    if merchant.apiv3_key.is_none() {
        return Err(reject(SignFailure::NoApiV3Key));
    }
    if merchant.api_credentials.is_empty() {
        return Err(reject(SignFailure::NoCertificate));
    }
    let credential = merchant
        .api_credential(&auth.serial_no)
        .ok_or_else(|| reject(SignFailure::UnknownSerial))?;
    if credential.expired_at(state.clock().now()) {
        return Err(reject(SignFailure::CertificateExpired));
    }

    let message = request_signing_string(method, target, &auth.timestamp, &auth.nonce_str, body);
    if credential.public_key.verify_base64(&message, &auth.signature).is_err() {
        let info = SignInformation {
            method: method.to_string(),
            url: target.to_string(),
            truncated_sign_message: truncated_sign_message(method, target, &auth.timestamp, &auth.nonce_str, body),
            sign_message_length: message.len(),
        };
        return Err(reject(SignFailure::BadSignature(info)));
    }
    if let Some(cache) = state.replay() {
        if !cache.first_use(&auth.mchid, &auth.nonce_str, now) {
            return Err(reject(SignFailure::ReplayedNonce));
        }
    }
    Ok(Authenticated { merchant })
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Authenticated>().cloned().ok_or_else(|| {
            tracing::error!("an APIv3 handler ran outside the authenticating transport");
            ApiError::System
        })
    }
}
