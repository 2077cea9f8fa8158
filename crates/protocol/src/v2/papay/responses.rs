//! v2 papay response bodies (PROTOCOL.md §5.2–5.4, §5.6) as [`Params`].
//!
//! The builders only decide *which* fields appear and in what order (the
//! order of the documentation); the caller writes them with `v2::xml::write`,
//! after appending a `sign` with [`with_sign`] where the API signs its
//! responses (querycontract, deletecontract; h5entrustweb documents none).

use crate::v2::sign::{self, SignType};
use crate::v2::Params;

/// `contract_state` of querycontract / notifications (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractState {
    /// `0`: signed, in effect.
    Signed,
    /// `1`: not signed or terminated.
    Terminated,
}

impl ContractState {
    /// The wire number.
    pub fn as_code(self) -> u8 {
        match self {
            Self::Signed => 0,
            Self::Terminated => 1,
        }
    }

    /// The state for a wire number, if it is one of the above.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Signed, Self::Terminated]
            .into_iter()
            .find(|s| s.as_code() == code)
    }
}

/// `contract_termination_mode` (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminationMode {
    /// `1`: automatic termination at expiry (reserved).
    Expired,
    /// `2`: by the user.
    User,
    /// `3`: by the merchant through deletecontract.
    MerchantApi,
    /// `4`: by the merchant on the merchant platform.
    MerchantPlatform,
    /// `5`: the user's account was cancelled.
    AccountCancelled,
    /// `7`: through customer service.
    CustomerService,
}

impl TerminationMode {
    const ALL: [Self; 6] = [
        Self::Expired,
        Self::User,
        Self::MerchantApi,
        Self::MerchantPlatform,
        Self::AccountCancelled,
        Self::CustomerService,
    ];

    /// The wire number.
    pub fn as_code(self) -> u8 {
        match self {
            Self::Expired => 1,
            Self::User => 2,
            Self::MerchantApi => 3,
            Self::MerchantPlatform => 4,
            Self::AccountCancelled => 5,
            Self::CustomerService => 7,
        }
    }

    /// The mode for a wire number, if it is one of the above.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_code() == code)
    }
}

/// A v2 contract as the responses and notifications show it. Times are
/// already formatted `yyyy-MM-dd HH:mm:ss` (Beijing time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Contract {
    pub appid: String,
    pub mch_id: String,
    /// Partner contracts only.
    pub sub_mch_id: Option<String>,
    pub sub_appid: Option<String>,
    pub sub_openid: Option<String>,
    pub contract_id: String,
    pub plan_id: String,
    pub contract_code: String,
    pub request_serial: i64,
    pub contract_display_account: String,
    pub contract_state: ContractState,
    pub contract_signed_time: String,
    pub contract_expired_time: String,
    /// Set once terminated.
    pub contract_terminated_time: Option<String>,
    /// Set once terminated.
    pub contract_termination_mode: Option<TerminationMode>,
    pub contract_termination_remark: Option<String>,
    pub openid: String,
}

/// Appends `sign` computed over `p` with the v2 API `key` (§5.1).
pub fn with_sign(mut p: Params, key: &str, sign_type: SignType) -> Params {
    let s = sign::sign(&p, key, sign_type);
    p.push("sign", s);
    p
}

fn push_opt(p: &mut Params, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        p.push(k, v);
    }
}

/// `return_code=FAIL` + `return_msg`: format, signature or communication
/// problems, for every API (§5.6).
pub fn return_fail(return_msg: &str) -> Params {
    [("return_code", "FAIL"), ("return_msg", return_msg)]
        .into_iter()
        .collect()
}

/// h5entrustweb success: `return_code`, empty `return_msg`, `result_code`,
/// `redirect_url` (§5.2 example).
pub fn h5entrustweb_success(redirect_url: &str) -> Params {
    [
        ("return_code", "SUCCESS"),
        ("return_msg", ""),
        ("result_code", "SUCCESS"),
        ("redirect_url", redirect_url),
    ]
    .into_iter()
    .collect()
}

/// h5entrustweb business failure: `result_code=FAIL` + `result_msg` (e.g. `SIGN_ERROR`).
pub fn h5entrustweb_fail(result_msg: &str) -> Params {
    [
        ("return_code", "SUCCESS"),
        ("return_msg", ""),
        ("result_code", "FAIL"),
        ("result_msg", result_msg),
    ]
    .into_iter()
    .collect()
}

/// querycontract / deletecontract business failure: `result_code=FAIL` +
/// `err_code` / `err_code_des` (e.g. `CONTRACT_NOT_EXIST`).
pub fn business_fail(err_code: &str, err_code_des: &str) -> Params {
    [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "FAIL"),
        ("err_code", err_code),
        ("err_code_des", err_code_des),
    ]
    .into_iter()
    .collect()
}

/// querycontract success (§5.3): the contract's fields in documented order;
/// `contract_terminated_time` / `contract_termination_mode` only for state 1.
pub fn querycontract_success(c: &V2Contract) -> Params {
    let mut p: Params = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "SUCCESS"),
    ]
    .into_iter()
    .collect();
    p.push("mch_id", &c.mch_id);
    p.push("appid", &c.appid);
    push_opt(&mut p, "sub_mch_id", c.sub_mch_id.as_deref());
    push_opt(&mut p, "sub_appid", c.sub_appid.as_deref());
    push_opt(&mut p, "sub_openid", c.sub_openid.as_deref());
    p.push("contract_id", &c.contract_id);
    p.push("plan_id", &c.plan_id);
    p.push("request_serial", c.request_serial.to_string());
    p.push("contract_code", &c.contract_code);
    p.push("contract_display_account", &c.contract_display_account);
    p.push("contract_state", c.contract_state.as_code().to_string());
    p.push("contract_signed_time", &c.contract_signed_time);
    p.push("contract_expired_time", &c.contract_expired_time);
    if c.contract_state == ContractState::Terminated {
        push_opt(
            &mut p,
            "contract_terminated_time",
            c.contract_terminated_time.as_deref(),
        );
        let mode = c.contract_termination_mode.map(|m| m.as_code().to_string());
        push_opt(&mut p, "contract_termination_mode", mode.as_deref());
    }
    push_opt(
        &mut p,
        "contract_termination_remark",
        c.contract_termination_remark.as_deref(),
    );
    p.push("openid", &c.openid);
    p
}

/// deletecontract success (§5.4): `appid`, `mch_id`, (`sub_mch_id`),
/// `contract_id`, `plan_id`, `contract_code`.
pub fn deletecontract_success(c: &V2Contract) -> Params {
    let mut p: Params = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "SUCCESS"),
    ]
    .into_iter()
    .collect();
    p.push("appid", &c.appid);
    p.push("mch_id", &c.mch_id);
    push_opt(&mut p, "sub_mch_id", c.sub_mch_id.as_deref());
    p.push("contract_id", &c.contract_id);
    p.push("plan_id", &c.plan_id);
    p.push("contract_code", &c.contract_code);
    p
}
