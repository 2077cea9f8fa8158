//! The platform certificate list of `GET /v3/global/certificates` (PROTOCOL.md §1.5).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `associated_data` of every encrypted certificate.
pub const CERTIFICATE_AAD: &str = "certificate";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateList {
    pub data: Vec<PlatformCertificate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlatformCertificate {
    pub serial_no: String,
    pub effective_time: String,
    pub expire_time: String,
    pub encrypt_certificate: EncryptedResource,
}

/// An AEAD_AES_256_GCM-encrypted value as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub nonce: String,
    pub associated_data: String,
    pub ciphertext: String,
}
