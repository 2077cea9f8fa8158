//! The control API's answers: a session as the simulated user sees it, and a contract with
//! its history. Contracts appear exactly as the Global query API shows them, whichever API
//! made them (`api` says which).

use papay_protocol::time_format::rfc3339_beijing;
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::contract::{Api, Change, Contract, Event};
use crate::http::contracts::contract_json;
use crate::store::{NotificationRecord, Transition};

/// Which API made a contract, and what a v2 signing request fixed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiView {
    /// `V3` (Global JSON API) or `V2` (domestic `h5entrustweb`).
    pub api: &'static str,
    /// v2 only: `request_serial` of the signing request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_serial: Option<i64>,
    /// v2 only: the algorithm the signing request's `sign` used, which signs its notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_type: Option<&'static str>,
}

impl ApiView {
    fn of(c: &Contract) -> Self {
        let terms = match c.api {
            Api::V3 => None,
            Api::V2(t) => Some(t),
        };
        ApiView {
            api: c.api.as_str(),
            request_serial: terms.map(|t| t.request_serial),
            sign_type: terms.map(|t| t.sign_type.as_str()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub session_id: String,
    pub mchid: String,
    #[serde(flatten)]
    pub api: ApiView,
    pub channel: &'static str,
    /// Whether the user can still act on it.
    pub live: bool,
    /// Replaced by a newer pre-sign of the same code.
    pub replaced: bool,
    pub expires_at: String,
    pub contract_id: String,
    pub state: &'static str,
    /// The event the call just caused (absent for a plain look-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'static str>,
    /// Why signing failed, when the call ended in SIGNFAIL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The contract exactly as the Global query API (§2.6) shows it.
    #[schema(value_type = Object)]
    pub contract: papay_protocol::contracts::Contract,
}

impl SessionView {
    /// The session after `change` (`now` is the merchant's time).
    pub fn after(change: &Change, now: OffsetDateTime) -> Self {
        let mut v = SessionView::new(&change.contract, false, now);
        v.event = Some(change.event.label());
        if let Event::SigningFailed(why) = change.event {
            v.reason = Some(why.describe());
        }
        v
    }

    /// `now` is the merchant's time.
    pub fn new(c: &Contract, replaced: bool, now: OffsetDateTime) -> Self {
        let c = c.clone().observed(now);
        SessionView {
            session_id: c.session.token.to_string(),
            mchid: c.mchid.to_string(),
            api: ApiView::of(&c),
            channel: c.session.channel.as_str(),
            live: !replaced && c.session_live(now),
            replaced,
            expires_at: rfc3339_beijing(c.session.expires_at),
            contract_id: c.contract_id.to_string(),
            state: c.state.as_str(),
            event: None,
            reason: None,
            contract: contract_json(&c),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransitionView {
    pub event: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractDetail {
    pub mchid: String,
    #[serde(flatten)]
    pub api: ApiView,
    pub channel: &'static str,
    pub session_id: String,
    pub session_expires_at: String,
    pub session_live: bool,
    /// The contract exactly as the Global query API (§2.6) shows it.
    #[schema(value_type = Object)]
    pub contract: papay_protocol::contracts::Contract,
    pub transitions: Vec<TransitionView>,
    /// Notifications the contract's changes queued (`PAPAY.SIGN`, `PAPAY.TERMINATE`).
    pub notifications: Vec<NotificationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub event_type: String,
    pub created_at: String,
}

impl ContractDetail {
    /// `now` is the merchant's time; `history` and `queued` (oldest first) may be empty in lists.
    pub fn new(c: &Contract, history: &[Transition], queued: &[NotificationRecord], now: OffsetDateTime) -> Self {
        let c = c.clone().observed(now);
        ContractDetail {
            mchid: c.mchid.to_string(),
            api: ApiView::of(&c),
            channel: c.session.channel.as_str(),
            session_id: c.session.token.to_string(),
            session_expires_at: rfc3339_beijing(c.session.expires_at),
            session_live: c.session_live(now),
            contract: contract_json(&c),
            transitions: history
                .iter()
                .map(|t| TransitionView {
                    event: t.event.clone(),
                    from: t.from.map(|s| s.as_str()),
                    to: t.to.as_str(),
                    at: rfc3339_beijing(t.at),
                })
                .collect(),
            notifications: queued
                .iter()
                .map(|n| NotificationView {
                    id: n.id.clone(),
                    event_type: n.event_type.clone(),
                    created_at: rfc3339_beijing(n.created_at),
                })
                .collect(),
        }
    }
}
