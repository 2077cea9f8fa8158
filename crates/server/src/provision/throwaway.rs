//! Throwaway merchants for the control API: one per CI run, with fresh credentials and ids
//! of their own, isolated from every other merchant.

use papay_protocol::nonce::random_bytes;
use time::OffsetDateTime;

use super::credentials::{CredentialError, CredentialSet, Identity};
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::merchant::{control_token_digest, ApiCredential, KeyOrigin, Merchant, Plan, PlatformKey, V2Key};

/// A new merchant, its one plan, its credentials, and the control token that may touch it.
pub struct Throwaway {
    pub merchant: Merchant,
    pub plan: Plan,
    pub credentials: CredentialSet,
    pub control_token: String,
}

impl Throwaway {
    pub fn control_token_digest(&self) -> String {
        control_token_digest(&self.control_token)
    }
}

fn random_u64() -> u64 {
    u64::from_be_bytes(random_bytes::<8>())
}

/// Fresh ids (mchid `17…`, a 9-digit plan id) and credentials; the caller retries on the rare
/// id collision.
pub fn generate(name: Option<&str>, now: OffsetDateTime) -> Result<Throwaway, CredentialError> {
    let mchid = format!("17{:08}", random_u64() % 100_000_000);
    let identity = Identity {
        name: name.map_or_else(|| format!("Throwaway merchant {mchid}"), str::to_string),
        appid: format!("wx{}", hex::encode(random_bytes::<8>())),
        plan_id: i64::try_from(100_000_000 + random_u64() % 900_000_000).unwrap_or(100_000_000),
        plan_name: "Sandbox plan".into(),
        sub_mchid: String::new(),
        sub_appid: String::new(),
        mchid,
    };
    let credentials = CredentialSet::generate(identity, now)?;
    let invalid = |what: &str| CredentialError::Invalid(what.to_string());
    let id = &credentials.identity;
    let mchid = Mchid::parse(&id.mchid).map_err(|_| invalid("mchid"))?;
    let merchant = Merchant {
        mchid: mchid.clone(),
        name: id.name.clone(),
        apiv3_key: Some(credentials.apiv3_key.clone()),
        v2_key: Some(V2Key::parse(&credentials.v2_key).map_err(|_| invalid("v2 key"))?),
        api_credentials: vec![
            ApiCredential::from_certificate(credentials.merchant_cert.clone()).map_err(|_| invalid("certificate"))?
        ],
        platform_keys: vec![PlatformKey::new(
            credentials.platform_key.clone(),
            credentials.platform_cert.clone(),
            None,
            KeyOrigin::Generated,
        )
        .map_err(|_| invalid("platform key"))?],
        appids: vec![AppId::parse(&id.appid).map_err(|_| invalid("appid"))?],
        sub_merchants: Vec::new(),
        sandbox: Default::default(),
    };
    let plan = Plan {
        plan_id: PlanId::new(id.plan_id).map_err(|_| invalid("plan_id"))?,
        mchid,
        name: id.plan_name.clone(),
        sub_mchids: Vec::new(),
        termination_notify_url: None,
        contract_validity_days: 365,
    };
    Ok(Throwaway {
        merchant,
        plan,
        credentials,
        control_token: format!("papay_ct_{}", hex::encode(random_bytes::<24>())),
    })
}
