//! The APIv3 error body `{code, message[, detail]}` (PROTOCOL.md §1.7) and the
//! `sign_information` detail of a failed signature check (§1.3.4).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// What the server expected to be signed, so a merchant can diff it against their own string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInformation {
    pub method: String,
    pub url: String,
    pub truncated_sign_message: String,
    pub sign_message_length: usize,
}
