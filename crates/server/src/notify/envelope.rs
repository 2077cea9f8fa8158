//! What a notification says and where it goes: for APIv3 the §3.3 resource built from the
//! contract, sealed with the merchant's APIv3 key into the §3.2 envelope; for APIv2 the §5.5
//! XML signed with the merchant's v2 key. The body is fixed at the first attempt and sent
//! unchanged on every attempt (only APIv3's signature headers are fresh).

use std::collections::HashMap;
use std::sync::Arc;

use papay_protocol::contracts::Identity;
use papay_protocol::notifications::{
    seal, Notification, PapayEvent, EVENT_SIGN, EVENT_TERMINATE, RESOURCE_TYPE, SUMMARY_SIGN, SUMMARY_TERMINATE,
};
use papay_protocol::time_format::{rfc3339_beijing, v2_beijing};
use papay_protocol::v2::papay::{notification, with_sign, ChangeType};
use papay_protocol::v2::xml;

use crate::domain::contract::{Api, Contract, Party};
use crate::domain::merchant::Merchant;
use crate::domain::notification::Schedule;
use crate::domain::values::ContractId;
use crate::http::v2::view::v2_contract;
use crate::http::AppState;
use crate::store::{ClaimedNotification, StoreError};

/// A notification ready to send.
pub struct Prepared {
    pub merchant: Arc<Merchant>,
    pub url: String,
    pub body: String,
}

pub enum Unsendable {
    /// The contract or merchant no longer exists (reset, deleted): nothing to send.
    Gone,
    /// Cannot be sent now; the attempt fails with this reason and is retried on schedule.
    Because(String),
    Store(StoreError),
}

impl From<StoreError> for Unsendable {
    fn from(e: StoreError) -> Self {
        Unsendable::Store(e)
    }
}

/// Prepares a claimed batch with one read of its contracts and one write fixing the
/// envelopes of first attempts; each entry answers its notification.
pub async fn prepare_batch(
    state: &AppState,
    batch: &[ClaimedNotification],
) -> Result<Vec<Result<Prepared, Unsendable>>, StoreError> {
    let ids: Vec<ContractId> = batch.iter().map(|n| n.contract_id.clone()).collect();
    let contracts: HashMap<ContractId, Contract> = state
        .store()
        .contracts_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.contract_id.clone(), c))
        .collect();
    let mut out = Vec::with_capacity(batch.len());
    let mut fresh = Vec::new();
    for n in batch {
        let prepared = match contracts.get(&n.contract_id) {
            None => Err(Unsendable::Gone),
            Some(c) => prepare_one(state, n, c).await,
        };
        if let Ok(p) = &prepared {
            if n.body.is_none() {
                fresh.push((n.id.clone(), p.body.clone()));
            }
        }
        out.push(prepared);
    }
    let stored = state.store().fix_notification_bodies(&fresh).await?;
    for (n, prepared) in batch.iter().zip(out.iter_mut()) {
        if let (Ok(p), Some(body)) = (prepared, stored.get(&n.id)) {
            p.body.clone_from(body);
        }
    }
    Ok(out)
}

async fn prepare_one(state: &AppState, n: &ClaimedNotification, contract: &Contract) -> Result<Prepared, Unsendable> {
    let merchant = state
        .directory()
        .merchant(n.mchid.as_str())
        .await?
        .ok_or(Unsendable::Gone)?;
    let url = match n.event_type.as_str() {
        EVENT_SIGN => contract.success_notify_url.to_string(),
        EVENT_TERMINATE => state
            .directory()
            .plan(contract.plan_id)
            .await?
            .and_then(|p| p.termination_notify_url.clone())
            .ok_or_else(|| {
                Unsendable::Because(format!("plan {} has no termination_notify_url", contract.plan_id.get()))
            })?,
        other => return Err(Unsendable::Because(format!("unknown event type {other}"))),
    };
    let body = match (&n.body, n.schedule) {
        (Some(body), _) => body.clone(),
        (None, Schedule::V3) => envelope(&merchant, n, contract)?,
        (None, Schedule::V2) => v2_body(&merchant, n, contract)?,
    };
    Ok(Prepared { merchant, url, body })
}

/// The §5.5 XML of an APIv2 contract's notification, signed with the merchant's v2 key by the
/// algorithm its signing request used.
fn v2_body(merchant: &Merchant, n: &ClaimedNotification, c: &Contract) -> Result<String, Unsendable> {
    let key = merchant
        .v2_key
        .as_ref()
        .ok_or_else(|| Unsendable::Because("the merchant has no v2 API key to sign with".into()))?;
    let Api::V2(terms) = c.api else {
        return Err(Unsendable::Because("the contract was not made through APIv2".into()));
    };
    let view = v2_contract(c).ok_or_else(|| Unsendable::Because("the contract was never signed".into()))?;
    let (change, at) = if n.event_type == EVENT_TERMINATE {
        (ChangeType::Delete, c.terminated_time)
    } else {
        (ChangeType::Add, c.signed_time)
    };
    let params = notification(&view, change, &v2_beijing(at.unwrap_or(c.created_at)));
    Ok(xml::write(&with_sign(params, key.expose(), terms.sign_type)))
}

/// The §3.3 resource of `event_type` for `contract`.
pub fn resource(event_type: &str, c: &Contract) -> PapayEvent {
    let terminate = event_type == EVENT_TERMINATE;
    let mut e = PapayEvent {
        mchid: None,
        sp_mchid: None,
        identity: Identity::default(),
        out_contract_code: c.out_contract_code.to_string(),
        plan_id: c.plan_id.get(),
        contract_id: c.contract_id.to_string(),
        openid: c.openid.as_ref().map(|o| o.to_string()).unwrap_or_default(),
        sub_openid: None,
        operate_time: rfc3339_beijing(
            if terminate { c.terminated_time } else { c.signed_time }.unwrap_or(c.created_at),
        ),
        contract_expired_time: c.expired_time.map(rfc3339_beijing),
        contract_termination_mode: if terminate {
            c.termination_mode.map(|m| m.as_str().to_string())
        } else {
            None
        },
    };
    match &c.party {
        Party::Common { appid } => {
            e.mchid = Some(c.mchid.to_string());
            e.identity = Identity::common(appid.to_string());
        }
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => {
            e.sp_mchid = Some(c.mchid.to_string());
            e.identity = Identity::institutional(
                sp_appid.to_string(),
                sub_mchid.to_string(),
                sub_appid.as_ref().map(|a| a.to_string()),
            );
            if sub_appid.is_some() {
                e.sub_openid = Some(e.openid.clone());
            }
        }
    }
    e
}

/// The §3.2 envelope, encrypted with the merchant's (institution's) APIv3 key.
fn envelope(merchant: &Merchant, n: &ClaimedNotification, c: &Contract) -> Result<String, Unsendable> {
    let key = merchant
        .apiv3_key
        .as_ref()
        .ok_or_else(|| Unsendable::Because("the merchant has no APIv3 key to encrypt with".into()))?;
    let nonce = papay_protocol::nonce::aead_nonce();
    let resource = seal(key, &nonce, &resource(&n.event_type, c))
        .map_err(|e| Unsendable::Because(format!("encryption failed: {e}")))?;
    let summary = if n.event_type == EVENT_TERMINATE {
        SUMMARY_TERMINATE
    } else {
        SUMMARY_SIGN
    };
    let envelope = Notification {
        id: n.id.clone(),
        create_time: rfc3339_beijing(n.created_at),
        event_type: n.event_type.clone(),
        resource_type: RESOURCE_TYPE.to_string(),
        summary: summary.to_string(),
        resource,
    };
    serde_json::to_string(&envelope).map_err(|e| Unsendable::Because(format!("cannot encode the envelope: {e}")))
}
