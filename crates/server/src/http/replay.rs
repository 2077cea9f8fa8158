//! Optional nonce-replay refusal (config `replay_protection`): a `(mchid, nonce_str)` pair is
//! accepted once within the 5-minute timestamp window. In memory: a restart forgets, which
//! is harmless because the timestamp window bounds what could be replayed anyway.

use std::collections::HashMap;
use std::sync::Mutex;

pub const WINDOW_SECS: i64 = 300;

#[derive(Default)]
pub struct NonceCache {
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl NonceCache {
    /// Records the nonce; `false` if it was already used within the window.
    pub fn first_use(&self, mchid: &str, nonce: &str, now: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else { return true };
        if seen.len() > 4096 {
            seen.retain(|_, expires| *expires > now);
        }
        let key = (mchid.to_string(), nonce.to_string());
        match seen.get(&key) {
            Some(expires) if *expires > now => false,
            _ => {
                seen.insert(key, now + WINDOW_SECS);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_refused_within_the_window_only() {
        let cache = NonceCache::default();
        assert!(cache.first_use("1", "n", 1000));
        assert!(!cache.first_use("1", "n", 1299));
        assert!(cache.first_use("2", "n", 1299));
        assert!(cache.first_use("1", "n", 1300));
    }
}
