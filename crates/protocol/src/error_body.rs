//! The APIv3 error body `{code, message[, detail]}` (PROTOCOL.md §1.7) and the
//! `sign_information` detail of a failed signature check (§1.3.4).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The machine code, e.g. `PARAM_ERROR`.
    pub code: String,
    /// What went wrong, in the language `Accept-Language` asked for.
    pub message: String,
    /// Where known: the `field`, its `location` and the `issue`; for a bad signature the `sign_information`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// What the server expected to be signed, so a merchant can diff it against their own string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignInformation {
    pub method: String,
    pub url: String,
    pub truncated_sign_message: String,
    pub sign_message_length: usize,
}
