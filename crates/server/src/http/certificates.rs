//! `GET /v3/global/certificates` (and the `/v3/certificates`, `/hk/v3/certificates` aliases
//! the SDKs call): the merchant's platform certificates, each AEAD-encrypted with its APIv3
//! key (PROTOCOL.md §1.5).

use axum::extract::{RawQuery, State};
use axum::Json;
use papay_protocol::aead::ALGORITHM;
use papay_protocol::certificates::{CertificateList, EncryptedResource, PlatformCertificate, CERTIFICATE_AAD};
use papay_protocol::time_format::rfc3339_beijing;

use super::auth::Authenticated;
use super::error::ApiError;
use super::AppState;

/// `GET /v3/global/certificates` (PROTOCOL.md §1.5)
#[utoipa::path(
    get, path = "/v3/global/certificates", tag = "certificates",
    summary = "Download the platform certificates",
    description = "Each certificate is AEAD_AES_256_GCM-encrypted with the merchant's APIv3 key (associated_data `certificate`). Also served at `/v3/certificates` and `/hk/v3/certificates`.",
    params(("algorithm_type" = Option<String>, Query, description = "RSA (default), SM2 (an empty list: papay has no SM2 certificates) or ALL")),
    responses((status = 200, description = "The usable platform certificates", body = CertificateList))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<CertificateList>, ApiError> {
    let algorithm = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "algorithm_type")
        .map(|(_, v)| v.into_owned());
    let include_rsa = match algorithm.as_deref() {
        None | Some("RSA") | Some("ALL") => true,
        Some("SM2") => false,
        Some(other) => {
            return Err(ApiError::param_field(
                "algorithm_type",
                "query",
                format!("algorithm_type {other:?} is not one of RSA, SM2, ALL"),
            ))
        }
    };
    let merchant = &auth.merchant;
    let Some(apiv3_key) = &merchant.apiv3_key else {
        return Err(ApiError::System);
    };
    let now = state.clock().now();
    let mut data = Vec::new();
    for key in merchant.platform_keys.iter().filter(|_| include_rsa) {
        let cert = &key.certificate;
        if cert.not_after() < now {
            continue;
        }
        let nonce = papay_protocol::nonce::aead_nonce();
        let ciphertext = apiv3_key
            .encrypt(&nonce, CERTIFICATE_AAD, cert.pem().as_bytes())
            .map_err(|e| {
                tracing::error!(error = %e, "encrypting a certificate failed");
                ApiError::System
            })?;
        data.push(PlatformCertificate {
            serial_no: key.serial.to_string(),
            effective_time: rfc3339_beijing(cert.not_before()),
            expire_time: rfc3339_beijing(cert.not_after()),
            encrypt_certificate: EncryptedResource {
                algorithm: ALGORITHM.to_string(),
                nonce,
                associated_data: CERTIFICATE_AAD.to_string(),
                ciphertext,
            },
        });
    }
    Ok(Json(CertificateList { data }))
}
