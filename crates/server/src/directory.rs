//! Merchants and plans by id, parsed and cached for a short while, so the hot path costs
//! neither database round trips nor key parsing. The TTL bounds how long another papay
//! instance's changes to keys and plans take to be seen here; "not found" is cached too. On a
//! database shared with other instances, a merchant's test-control state (virtual clock,
//! pending faults) is read fresh on every lookup, one row, so a clock set or a fault added
//! through any instance holds on the next call to every instance.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::ids::{Mchid, PlanId};
use crate::domain::merchant::{Merchant, Plan};
use crate::store::{Store, StoreError};

const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

/// When a lookup was made and what it found (`None`: nothing).
type Entry<V> = (Instant, Option<Arc<V>>);

/// A small TTL cache of lookups.
struct Cache<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
}

impl<K: Eq + Hash + Clone, V> Cache<K, V> {
    fn new() -> Self {
        Cache {
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<Option<Arc<V>>> {
        let entries = self.entries.read().ok()?;
        let (at, found) = entries.get(key)?;
        (at.elapsed() < TTL).then(|| found.clone())
    }

    fn put(&self, key: K, value: Option<Arc<V>>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            if entries.len() < MAX_ENTRIES {
                entries.insert(key, (Instant::now(), value));
            }
        }
    }
}

pub struct Directory {
    store: Arc<dyn Store>,
    merchants: Cache<String, Merchant>,
    plans: Cache<PlanId, Plan>,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Directory {
            store,
            merchants: Cache::new(),
            plans: Cache::new(),
        }
    }

    /// The merchant `mchid` names, if it exists (a malformed mchid exists nowhere).
    pub async fn merchant(&self, mchid: &str) -> Result<Option<Arc<Merchant>>, StoreError> {
        let key = mchid.to_string();
        if let Some(hit) = self.merchants.get(&key) {
            return match hit {
                Some(m) if self.store.shared() => self.with_current_sandbox(m).await,
                hit => Ok(hit),
            };
        }
        let found = match Mchid::parse(mchid) {
            Ok(id) => self.store.merchant(&id).await?.map(Arc::new),
            Err(_) => None,
        };
        self.merchants.put(key, found.clone());
        Ok(found)
    }

    /// `cached` with its sandbox state as stored now (`None` if the merchant is gone).
    async fn with_current_sandbox(&self, cached: Arc<Merchant>) -> Result<Option<Arc<Merchant>>, StoreError> {
        let Some(sandbox) = self.store.sandbox_state(&cached.mchid).await? else {
            return Ok(None);
        };
        if sandbox == cached.sandbox {
            return Ok(Some(cached));
        }
        Ok(Some(Arc::new(Merchant {
            sandbox,
            ..(*cached).clone()
        })))
    }

    /// The merchant as stored right now (the control API reads its own writes through this),
    /// refreshing the cached copy.
    pub async fn fresh_merchant(&self, mchid: &Mchid) -> Result<Option<Arc<Merchant>>, StoreError> {
        let found = self.store.merchant(mchid).await?.map(Arc::new);
        self.merchants.put(mchid.as_str().to_string(), found.clone());
        Ok(found)
    }

    pub async fn plan(&self, plan_id: PlanId) -> Result<Option<Arc<Plan>>, StoreError> {
        if let Some(hit) = self.plans.get(&plan_id) {
            return Ok(hit);
        }
        let found = self.store.plan(plan_id).await?.map(Arc::new);
        self.plans.put(plan_id, found.clone());
        Ok(found)
    }
}
