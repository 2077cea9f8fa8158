//! The three v2 papay requests (PROTOCOL.md §5.2–5.4) and their signed parameter lists.
//!
//! Building a request is pure: the parameters go out in the documentation's order, empty
//! optional values are left out, `sign` is appended last. Nothing is validated here — the
//! server does that, and a client that refused odd values could not be used to test it.

use papay_protocol::v2::papay::{with_sign, ContractSelector, RiskInfo, SubMerchant};
use papay_protocol::v2::sign::SignType;
use papay_protocol::v2::Params;

/// `version` of every v2 papay request.
const VERSION: &str = "1.0";

/// `GET /papay/h5entrustweb` (or `/papay/partner/h5entrustweb` when `sub` is set): asks for
/// the `redirect_url` that lets a user sign a contract from a mobile browser (§5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H5EntrustWebRequest {
    pub appid: String,
    /// `Some` ⇒ the partner API, with `sub_mch_id` (and `sub_appid`).
    pub sub: Option<SubMerchant>,
    pub plan_id: String,
    pub contract_code: String,
    pub request_serial: i64,
    pub contract_display_account: String,
    pub notify_url: String,
    /// Unix seconds; [`H5EntrustWebRequest::new`] takes the current time.
    pub timestamp: i64,
    /// The user's IP address.
    pub clientip: String,
    pub return_appid: Option<String>,
    /// Optional risk-control fields (`deviceid`, `mobile`, …).
    pub risk: RiskInfo,
    /// The `sign_type` parameter: `Some(t)` sends it and signs with `t`; `None` sends none
    /// and signs with [`unsent_sign_type`](Self::unsent_sign_type).
    pub sign_type: Option<SignType>,
    /// The algorithm used when `sign_type` is `None` (the documented default is HMAC-SHA256;
    /// MD5 lets a test exercise a server's choice by signature length).
    pub unsent_sign_type: SignType,
}

impl H5EntrustWebRequest {
    /// A direct-merchant request with the required fields, `timestamp` now, and
    /// `sign_type=HMAC-SHA256` sent explicitly.
    pub fn new(
        appid: impl Into<String>,
        plan_id: impl Into<String>,
        contract_code: impl Into<String>,
        request_serial: i64,
        contract_display_account: impl Into<String>,
        notify_url: impl Into<String>,
        clientip: impl Into<String>,
    ) -> Self {
        Self {
            appid: appid.into(),
            sub: None,
            plan_id: plan_id.into(),
            contract_code: contract_code.into(),
            request_serial,
            contract_display_account: contract_display_account.into(),
            notify_url: notify_url.into(),
            timestamp: crate::client::now_secs(),
            clientip: clientip.into(),
            return_appid: None,
            risk: RiskInfo::default(),
            sign_type: Some(SignType::HmacSha256),
            unsent_sign_type: SignType::HmacSha256,
        }
    }

    /// The algorithm the request is signed with.
    pub fn algorithm(&self) -> SignType {
        self.sign_type.unwrap_or(self.unsent_sign_type)
    }

    /// The signed parameters, in the order of §5.2's example.
    pub(crate) fn signed_params(&self, mch_id: &str, key: &str) -> Params {
        let mut p = Params::new();
        p.push("appid", &self.appid);
        p.push("mch_id", mch_id);
        push_sub(&mut p, self.sub.as_ref());
        p.push("plan_id", &self.plan_id);
        p.push("contract_code", &self.contract_code);
        p.push("request_serial", self.request_serial.to_string());
        p.push("contract_display_account", &self.contract_display_account);
        p.push("notify_url", &self.notify_url);
        p.push("version", VERSION);
        if let Some(t) = self.sign_type {
            p.push("sign_type", t.as_str());
        }
        p.push("timestamp", self.timestamp.to_string());
        p.push("clientip", &self.clientip);
        let r = &self.risk;
        for (k, v) in [
            ("deviceid", &r.deviceid),
            ("mobile", &r.mobile),
            ("email", &r.email),
            ("qq", &r.qq),
            ("openid", &r.openid),
            ("creid", &r.creid),
            ("outerid", &r.outerid),
            ("return_appid", &self.return_appid),
        ] {
            push_opt(&mut p, k, v.as_deref());
        }
        with_sign(p, key, self.algorithm())
    }
}

/// `POST /papay/querycontract` (or `/papay/partner/querycontract`): one contract (§5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryContractRequest {
    pub appid: String,
    pub sub: Option<SubMerchant>,
    pub selector: ContractSelector,
}

impl QueryContractRequest {
    /// Query by `contract_id` (mode a).
    pub fn by_contract_id(appid: impl Into<String>, contract_id: impl Into<String>) -> Self {
        Self {
            appid: appid.into(),
            sub: None,
            selector: ContractSelector::ContractId(contract_id.into()),
        }
    }

    /// Query by `plan_id` + `contract_code` (mode b).
    pub fn by_plan_and_code(
        appid: impl Into<String>,
        plan_id: impl Into<String>,
        contract_code: impl Into<String>,
    ) -> Self {
        Self {
            appid: appid.into(),
            sub: None,
            selector: ContractSelector::PlanAndCode {
                plan_id: plan_id.into(),
                contract_code: contract_code.into(),
            },
        }
    }

    /// The signed (MD5) parameters, in the order of §5.3's table.
    pub(crate) fn signed_params(&self, mch_id: &str, key: &str) -> Params {
        let mut p = head(&self.appid, mch_id, self.sub.as_ref(), &self.selector);
        p.push("version", VERSION);
        with_sign(p, key, SignType::Md5)
    }
}

/// `POST /papay/deletecontract` (or `/papay/partner/deletecontract`): terminates a contract
/// (§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteContractRequest {
    pub appid: String,
    pub sub: Option<SubMerchant>,
    pub selector: ContractSelector,
    /// Required by the API.
    pub contract_termination_remark: String,
}

impl DeleteContractRequest {
    /// A direct-merchant termination.
    pub fn new(appid: impl Into<String>, selector: ContractSelector, remark: impl Into<String>) -> Self {
        Self {
            appid: appid.into(),
            sub: None,
            selector,
            contract_termination_remark: remark.into(),
        }
    }

    /// The signed (MD5) parameters, in the order of §5.4's table.
    pub(crate) fn signed_params(&self, mch_id: &str, key: &str) -> Params {
        let mut p = head(&self.appid, mch_id, self.sub.as_ref(), &self.selector);
        p.push("contract_termination_remark", &self.contract_termination_remark);
        p.push("version", VERSION);
        with_sign(p, key, SignType::Md5)
    }
}

/// `appid`, `mch_id`, the partner fields and the contract selector: the start of both POSTs.
fn head(appid: &str, mch_id: &str, sub: Option<&SubMerchant>, selector: &ContractSelector) -> Params {
    let mut p = Params::new();
    p.push("appid", appid);
    p.push("mch_id", mch_id);
    push_sub(&mut p, sub);
    match selector {
        ContractSelector::ContractId(id) => p.push("contract_id", id),
        ContractSelector::PlanAndCode { plan_id, contract_code } => {
            p.push("plan_id", plan_id);
            p.push("contract_code", contract_code);
        }
    }
    p
}

fn push_sub(p: &mut Params, sub: Option<&SubMerchant>) {
    if let Some(s) = sub {
        p.push("sub_mch_id", &s.sub_mch_id);
        push_opt(p, "sub_appid", s.sub_appid.as_deref());
    }
}

fn push_opt(p: &mut Params, k: &str, v: Option<&str>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        p.push(k, v);
    }
}
