//! The request journal: the last requests this instance answered, newest first, so the
//! dashboard can show a merchant why a call failed (WireMock's request journal). It lives in
//! memory, bounded, per instance: it is a debugging aid, not a record anyone relies on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// How many requests the journal keeps.
pub const CAPACITY: usize = 1000;

/// Which of papay's faces a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    ApiV3,
    ApiV2,
    Control,
    Page,
    Other,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::ApiV3 => "APIv3",
            Family::ApiV2 => "APIv2",
            Family::Control => "control",
            Family::Page => "page",
            Family::Other => "other",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature papay refused: what it expected to be signed beside what the request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// Why it was refused, in words.
    pub reason: String,
    /// The exact string papay expected to be signed (v2: the key shown as `key=<redacted>`).
    pub expected: String,
    /// What the request carried (APIv3: the Authorization fields; v2: `sign` and `sign_type`).
    pub carried: String,
}

#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// Real time the request arrived.
    pub at: OffsetDateTime,
    pub request_id: String,
    pub method: String,
    /// Path and query as received.
    pub target: String,
    /// The matched route template, or `unmatched`.
    pub route: String,
    pub family: Family,
    pub mchid: Option<String>,
    pub status: u16,
    /// The answer's error code (`SIGN_ERROR`, `PARAM_ERROR`, …); `None` on success.
    pub code: Option<&'static str>,
    pub latency: Duration,
    pub signature: Option<SignatureCheck>,
}

impl JournalEntry {
    pub fn failed(&self) -> bool {
        self.code.is_some() || self.status >= 400
    }
}

#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    pub mchid: Option<String>,
    pub failures_only: bool,
    /// At most this many entries (all kept ones when `None`).
    pub limit: Option<usize>,
}

#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<Arc<JournalEntry>>>,
}

impl Journal {
    pub fn record(&self, entry: JournalEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() == CAPACITY {
            entries.pop_back();
        }
        entries.push_front(Arc::new(entry));
    }

    /// Entries matching `filter`, newest first.
    pub fn recent(&self, filter: &JournalFilter) -> Vec<Arc<JournalEntry>> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .iter()
            .filter(|e| filter.mchid.as_deref().is_none_or(|m| e.mchid.as_deref() == Some(m)))
            .filter(|e| !filter.failures_only || e.failed())
            .take(filter.limit.unwrap_or(CAPACITY))
            .cloned()
            .collect()
    }

    /// Forgets a merchant's entries (its reset or deletion).
    pub fn forget(&self, mchid: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|e| e.mchid.as_deref() != Some(mchid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize, mchid: &str, code: Option<&'static str>) -> JournalEntry {
        JournalEntry {
            at: OffsetDateTime::UNIX_EPOCH,
            request_id: format!("R{n}"),
            method: "GET".into(),
            target: "/".into(),
            route: "/".into(),
            family: Family::ApiV3,
            mchid: Some(mchid.into()),
            status: if code.is_some() { 401 } else { 200 },
            code,
            latency: Duration::ZERO,
            signature: None,
        }
    }

    #[test]
    fn keeps_the_newest_first_and_is_bounded() {
        let j = Journal::default();
        for n in 0..CAPACITY + 5 {
            j.record(entry(n, "1", None));
        }
        let all = j.recent(&JournalFilter::default());
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].request_id, format!("R{}", CAPACITY + 4));
        assert_eq!(all[CAPACITY - 1].request_id, "R5");
    }

    #[test]
    fn filters_by_merchant_failure_and_limit() {
        let j = Journal::default();
        j.record(entry(1, "a", None));
        j.record(entry(2, "a", Some("SIGN_ERROR")));
        j.record(entry(3, "b", Some("PARAM_ERROR")));
        j.record(entry(4, "a", None));
        let ids = |f: JournalFilter| j.recent(&f).iter().map(|e| e.request_id.clone()).collect::<Vec<_>>();
        let a = || Some("a".to_string());
        assert_eq!(
            ids(JournalFilter {
                mchid: a(),
                ..Default::default()
            }),
            ["R4", "R2", "R1"]
        );
        assert_eq!(
            ids(JournalFilter {
                failures_only: true,
                ..Default::default()
            }),
            ["R3", "R2"]
        );
        assert_eq!(
            ids(JournalFilter {
                mchid: a(),
                limit: Some(1),
                ..Default::default()
            }),
            ["R4"]
        );
        j.forget("a");
        assert_eq!(ids(JournalFilter::default()), ["R3"]);
    }
}
