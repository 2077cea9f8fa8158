//! Injected faults (test-control API): the next N calls of an endpoint by a merchant answer
//! as WeChat Pay does when it misbehaves, so merchants can test their retry and verify paths.

/// An API operation a fault can target, by the path's last segment (`*`: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultEndpoint {
    Any,
    MiniProgramPresign,
    H5Presign,
    JsapiPresign,
    WebPresign,
    AppPresign,
    QueryContract,
    QueryContractByCode,
    TerminateContract,
    Certificates,
    /// APIv2 `h5entrustweb` (direct and partner).
    V2H5EntrustWeb,
    /// APIv2 `querycontract` (direct and partner).
    V2QueryContract,
    /// APIv2 `deletecontract` (direct and partner).
    V2DeleteContract,
    /// papay's own deliveries of notifications to the merchant (not matched by `*`).
    Notifications,
}

impl FaultEndpoint {
    pub const ALL: [FaultEndpoint; 14] = [
        FaultEndpoint::Any,
        FaultEndpoint::MiniProgramPresign,
        FaultEndpoint::H5Presign,
        FaultEndpoint::JsapiPresign,
        FaultEndpoint::WebPresign,
        FaultEndpoint::AppPresign,
        FaultEndpoint::QueryContract,
        FaultEndpoint::QueryContractByCode,
        FaultEndpoint::TerminateContract,
        FaultEndpoint::Certificates,
        FaultEndpoint::V2H5EntrustWeb,
        FaultEndpoint::V2QueryContract,
        FaultEndpoint::V2DeleteContract,
        FaultEndpoint::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultEndpoint::Any => "*",
            FaultEndpoint::MiniProgramPresign => "miniprogram-pre-entrust-sign",
            FaultEndpoint::H5Presign => "h5-pre-entrust-sign",
            FaultEndpoint::JsapiPresign => "jsapi-pre-entrust-sign",
            FaultEndpoint::WebPresign => "web-pre-entrust-sign",
            FaultEndpoint::AppPresign => "app-pre-entrust-sign",
            FaultEndpoint::QueryContract => "query-contract",
            FaultEndpoint::QueryContractByCode => "query-contract-by-code",
            FaultEndpoint::TerminateContract => "terminate-contract",
            FaultEndpoint::Certificates => "certificates",
            FaultEndpoint::V2H5EntrustWeb => "h5entrustweb",
            FaultEndpoint::V2QueryContract => "querycontract",
            FaultEndpoint::V2DeleteContract => "deletecontract",
            FaultEndpoint::Notifications => "notifications",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Whether this is one of the domestic APIv2 operations.
    pub fn is_v2(self) -> bool {
        matches!(
            self,
            FaultEndpoint::V2H5EntrustWeb | FaultEndpoint::V2QueryContract | FaultEndpoint::V2DeleteContract
        )
    }
}

/// How the affected call misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `500 SYSTEMERROR` before the handler runs.
    SystemError,
    /// `429 RATE_LIMITED` before the handler runs.
    RateLimited,
    /// Answers normally, `latency_ms` late.
    Latency,
    /// Answers (or notifies) normally with a `WECHATPAY/SIGNTEST/` probe signature (§1.4).
    SignTest,
    /// Notifications: the attempt is not sent and counts as failed.
    Drop,
    /// Notifications: the attempt is sent twice.
    Duplicate,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::SystemError,
        FaultKind::RateLimited,
        FaultKind::Latency,
        FaultKind::SignTest,
        FaultKind::Drop,
        FaultKind::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::SystemError => "SYSTEMERROR",
            FaultKind::RateLimited => "RATE_LIMITED",
            FaultKind::Latency => "LATENCY",
            FaultKind::SignTest => "SIGNTEST",
            FaultKind::Drop => "DROP",
            FaultKind::Duplicate => "DUPLICATE",
        }
    }

    /// Whether this kind of fault makes sense on `endpoint`: answers can fail or be late,
    /// deliveries can be dropped, doubled or late; APIv3 answers and deliveries can carry a
    /// probe signature (APIv2 has no such probe).
    pub fn applies_to(self, endpoint: FaultEndpoint) -> bool {
        let delivery = endpoint == FaultEndpoint::Notifications;
        match self {
            FaultKind::Latency => true,
            FaultKind::SignTest => !endpoint.is_v2(),
            FaultKind::SystemError | FaultKind::RateLimited => !delivery,
            FaultKind::Drop | FaultKind::Duplicate => delivery,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Longest injectable latency.
pub const MAX_LATENCY_MS: u32 = 60_000;
/// Most calls one fault may affect.
pub const MAX_COUNT: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub id: i64,
    pub endpoint: FaultEndpoint,
    pub kind: FaultKind,
    /// Calls still to be affected.
    pub remaining: u32,
    pub latency_ms: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in FaultEndpoint::ALL {
            assert_eq!(FaultEndpoint::parse(e.as_str()), Some(e));
        }
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(FaultKind::parse("systemerror"), None);
        assert!(FaultKind::Drop.applies_to(FaultEndpoint::Notifications));
        assert!(!FaultKind::Drop.applies_to(FaultEndpoint::Any));
        assert!(!FaultKind::SystemError.applies_to(FaultEndpoint::Notifications));
        assert!(FaultKind::SignTest.applies_to(FaultEndpoint::Notifications));
        assert!(!FaultKind::SignTest.applies_to(FaultEndpoint::V2QueryContract));
        assert!(FaultKind::SystemError.applies_to(FaultEndpoint::V2H5EntrustWeb));
    }
}
