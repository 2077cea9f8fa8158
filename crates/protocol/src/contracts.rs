//! JSON bodies of the Global papay contract endpoints (PROTOCOL.md §2), shared by the server
//! (which writes answers) and the client (which writes requests and reads answers).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of all five pre-sign requests: an [`Identity`] (Common or Institutional mode) and
/// the contract's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresignRequest {
    #[serde(flatten)]
    pub identity: Identity,
    /// The deduction template (plan) id.
    #[schema(minimum = 1, example = 12535)]
    pub plan_id: i64,
    /// The merchant's contract number: digits and letters only.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[0-9A-Za-z]+$",
        example = "C20261127001"
    )]
    pub out_contract_code: String,
    /// Shown on the signing page; required except for the Mini Program pre-sign. No 4-byte UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32, example = "Zhang San")]
    pub user_display_name: Option<String>,
    /// Where `PAPAY.SIGN` is sent: an `https://` URL without a query string.
    #[schema(min_length = 1, max_length = 256, example = "https://merchant.example/papay/notify")]
    pub success_notify_url: String,
    /// The user's openid: required for JSAPI and Mini Program, optional for APP, ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub openid: Option<String>,
    /// H5, JSAPI and PC-web: where the user returns after signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 256)]
    pub return_url: Option<String>,
    /// H5: the app the user returns to after signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub return_appid: Option<String>,
    /// H5, APP and Mini Program: the user's IP; signing from another IP is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32, example = "203.0.113.9")]
    pub user_client_ip: Option<String>,
    /// RFC 3339 expiry of the signing session (H5 and PC-web: 5 to 10 minutes ahead, others 5 minutes to 2 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, example = "2026-11-27T18:00:00+08:00")]
    pub expired_time: Option<String>,
}

/// H5 and JSAPI pre-sign answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignUrl {
    /// The signing page to open in the user's browser.
    pub sign_url: String,
}

/// PC-web pre-sign answer (2025-04-01 revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShowCodeUrl {
    /// A page showing the QR code the user scans.
    pub show_code_url: String,
}

/// APP and Mini Program pre-sign answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionId {
    /// Opens the signing flow in the APP or Mini Program (`/papay/open?sessionId=…` on papay).
    pub session_id: String,
}

/// Who is asking, for queries (query string) and termination (body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    /// Common mode: an AppID bound to the merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32, example = "wx8a3e6b0c5d2f4e71")]
    pub appid: Option<String>,
    /// Institutional mode: an AppID bound to the institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub sp_appid: Option<String>,
    /// Institutional mode: the sub-merchant (its presence selects the mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub sub_mchid: Option<String>,
    /// Institutional mode, optional: an AppID bound to the sub-merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub sub_appid: Option<String>,
}

impl Identity {
    pub fn common(appid: impl Into<String>) -> Self {
        Identity {
            appid: Some(appid.into()),
            ..Identity::default()
        }
    }

    pub fn institutional(sp_appid: impl Into<String>, sub_mchid: impl Into<String>, sub_appid: Option<String>) -> Self {
        Identity {
            sp_appid: Some(sp_appid.into()),
            sub_mchid: Some(sub_mchid.into()),
            sub_appid,
            appid: None,
        }
    }
}

/// Body of `POST /v3/global/papay/contracts/{contract_id}/terminate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminateRequest {
    #[serde(flatten)]
    pub identity: Identity,
    /// Why the merchant terminates.
    #[schema(min_length = 1, max_length = 256, example = "The user cancelled the membership")]
    pub termination_note: String,
}

/// The contract object of both queries (§2.6): `mchid` + `appid` in Common mode, `sp_mchid` +
/// `sp_appid` + `sub_mchid` [+ `sub_appid`] in Institutional mode. Absent values are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The institution's mchid (Institutional mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    #[serde(flatten)]
    pub identity: Identity,
    pub contract_id: String,
    pub plan_id: i64,
    pub out_contract_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_display_name: Option<String>,
    /// NOTSIGN, SIGNING, SIGNED, TERMINATING, TERMINATED, DELETE or SIGNFAIL.
    #[schema(example = "SIGNED")]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// USER, MERCHANT or PLATFORM, once terminated.
    pub termination_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
}
