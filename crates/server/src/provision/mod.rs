//! Provisioning: making the stored merchants and plans match the operator's config at start,
//! idempotently, and bootstrapping the demo merchant when no config is given.

pub mod credentials;
pub mod demo;
mod sources;
pub mod throwaway;

pub use sources::CredentialSources;

use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use time::{Duration, OffsetDateTime};

use crate::config::Provisioning;
use crate::domain::merchant::{KeyOrigin, Merchant, PlatformKey};
use crate::store::{Origin, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot make a platform key for merchant {mchid}: {reason}")]
    Generate { mchid: String, reason: String },
}

/// Applies `provisioning` in one store transaction and returns the merchants as stored.
/// Platform keys papay generates are made once: a later start reuses the stored ones.
pub async fn apply(
    store: &dyn Store,
    provisioning: &Provisioning,
    origin: Origin,
    now: OffsetDateTime,
) -> Result<Vec<Merchant>, ProvisionError> {
    let mut merchants = Vec::new();
    for p in &provisioning.merchants {
        let mut merchant = p.merchant.clone();
        let stored = store.merchant(&merchant.mchid).await?;
        let mut reusable: Vec<PlatformKey> = stored
            .map(|m| {
                m.platform_keys
                    .into_iter()
                    .filter(|k| k.origin == KeyOrigin::Generated)
                    .collect()
            })
            .unwrap_or_default();
        for wanted_id in &p.generate {
            let key = match reusable.iter().position(|k| &k.public_key_id == wanted_id) {
                Some(i) => reusable.remove(i),
                None => generate_platform_key(&merchant, wanted_id.clone(), now)?,
            };
            merchant.platform_keys.push(key);
        }
        merchants.push(merchant);
    }
    store.provision(&merchants, &provisioning.plans, origin).await?;
    Ok(merchants)
}

fn generate_platform_key(
    merchant: &Merchant,
    public_key_id: Option<crate::domain::ids::PublicKeyId>,
    now: OffsetDateTime,
) -> Result<PlatformKey, ProvisionError> {
    let fail = |reason: String| ProvisionError::Generate {
        mchid: merchant.mchid.to_string(),
        reason,
    };
    let key = PrivateKey::generate().map_err(|e| fail(e.to_string()))?;
    let not_before = now.replace_nanosecond(0).unwrap_or(now) - Duration::hours(1);
    let cert = Certificate::generate(
        &key,
        "Tenpay.com sandbox platform",
        "papay",
        not_before,
        Duration::days(5 * 365),
    )
    .map_err(|e| fail(e.to_string()))?;
    PlatformKey::new(key, cert, public_key_id, KeyOrigin::Generated).map_err(|e| fail(e.to_string()))
}

/// `YYYYMMDD` in Beijing time.
pub fn beijing_date(now: OffsetDateTime) -> String {
    let d = now.to_offset(papay_protocol::time_format::BEIJING).date();
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}
