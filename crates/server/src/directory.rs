//! Merchants by mchid, parsed and cached for a short while, so authenticating a request
//! costs neither a database round trip nor key parsing on the hot path. The TTL bounds how
//! long another papay instance's changes take to be seen here.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::ids::Mchid;
use crate::domain::merchant::Merchant;
use crate::store::{Store, StoreError};

const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

/// A lookup result and when it was made; `None` caches "no such merchant" too.
type Entry = (Instant, Option<Arc<Merchant>>);

pub struct Directory {
    store: Arc<dyn Store>,
    cache: RwLock<HashMap<String, Entry>>,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Directory {
            store,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The merchant `mchid` names, if it exists (a malformed mchid exists nowhere).
    pub async fn merchant(&self, mchid: &str) -> Result<Option<Arc<Merchant>>, StoreError> {
        if let Some((at, found)) = self.cache.read().ok().and_then(|c| c.get(mchid).cloned()) {
            if at.elapsed() < TTL {
                return Ok(found);
            }
        }
        let found = match Mchid::parse(mchid) {
            Ok(id) => self.store.merchant(&id).await?.map(Arc::new),
            Err(_) => None,
        };
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= MAX_ENTRIES {
                cache.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            if cache.len() < MAX_ENTRIES {
                cache.insert(mchid.to_string(), (Instant::now(), found.clone()));
            }
        }
        Ok(found)
    }

    /// Forgets everything cached, e.g. after this instance changed a merchant.
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.write() {
            cache.clear();
        }
    }
}
