//! JSON bodies of the Global papay contract endpoints (PROTOCOL.md §2), shared by the server
//! (which writes answers) and the client (which writes requests and reads answers).

use serde::{Deserialize, Serialize};

/// Body of all five pre-sign requests: an [`Identity`] (Common or Institutional mode) and
/// the contract's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignRequest {
    #[serde(flatten)]
    pub identity: Identity,
    pub plan_id: i64,
    pub out_contract_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_display_name: Option<String>,
    pub success_notify_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_client_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<String>,
}

/// H5 and JSAPI pre-sign answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUrl {
    pub sign_url: String,
}

/// PC-web pre-sign answer (2025-04-01 revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowCodeUrl {
    pub show_code_url: String,
}

/// APP and Mini Program pre-sign answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionId {
    pub session_id: String,
}

/// Who is asking, for queries (query string) and termination (body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminateRequest {
    #[serde(flatten)]
    pub identity: Identity,
    pub termination_note: String,
}

/// The contract object of both queries (§2.6): `mchid` + `appid` in Common mode, `sp_mchid` +
/// `sp_appid` + `sub_mchid` [+ `sub_appid`] in Institutional mode. Absent values are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
}
