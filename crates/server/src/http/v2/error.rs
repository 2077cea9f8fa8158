//! Everything a v2 call can fail with, and its one mapping to the wire (PROTOCOL.md §5.6):
//! always HTTP 200 and XML, `return_code=FAIL` + `return_msg` when the request could not be
//! read (format, parameters, a missing `sign`), else `result_code=FAIL` with `result_msg`
//! (h5entrustweb) or `err_code` + `err_code_des` (querycontract, deletecontract).

use papay_protocol::v2::papay::{business_fail, h5entrustweb_fail, return_fail};
use papay_protocol::v2::Params;

use crate::domain::contract::Refusal;
use crate::domain::error::ContractError;
use crate::domain::values::FieldError;
use crate::store::StoreError;

/// `return_msg` is `String(128)`.
const RETURN_MSG_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Error {
    /// The body or query string cannot be read at all (`return_msg` as given, code first).
    Format(String),
    /// A parameter breaks its rule: `PARAM_ERROR`.
    Param(String),
    /// Called with the wrong HTTP method: `REQUIRE_POST_METHOD` / `REQUIRE_GET_METHOD`.
    Method(&'static str),
    /// A well-formed `sign` that does not verify: `SIGN_ERROR`.
    Sign(String),
    /// Not allowed for this merchant (unknown merchant, no v2 key, foreign plan): `NO_AUTH`.
    NoAuth(String),
    /// `CONTRACT_NOT_EXIST`.
    ContractNotExist,
    /// Well-formed but against the rules (the code is already signed): `INVALID_REQUEST`.
    Invalid(String),
    /// An injected fault: `RATE_LIMITED`.
    RateLimited,
    /// Storage failed or an injected fault: `SYSTEMERROR`.
    System,
}

/// Which answer shape the API uses for business failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// h5entrustweb: `result_msg`.
    ResultMsg,
    /// querycontract, deletecontract: `err_code` + `err_code_des`.
    ErrCode,
}

/// A domain message in v2's parameter names (the domain speaks APIv3's).
fn v2_names(s: &str) -> String {
    s.replace("sub_mchid", "sub_mch_id")
        .replace("sp_appid", "appid")
        .replace("mchid", "mch_id")
}

/// A domain rule the request breaks, as the v2 answer names it.
impl From<ContractError> for V2Error {
    fn from(e: ContractError) -> Self {
        match e {
            ContractError::Field(f) => V2Error::Param(v2_names(&format!("`{}` {}", f.field, f.issue))),
            ContractError::NoAuth(why) => V2Error::NoAuth(v2_names(&why)),
            ContractError::ContractExisted => V2Error::Invalid(
                "contract_code was signed under this plan already (the contract is signed or terminated); use a new contract_code".into(),
            ),
            ContractError::ContractNotExist => V2Error::ContractNotExist,
        }
    }
}

impl From<FieldError> for V2Error {
    fn from(e: FieldError) -> Self {
        ContractError::from(e).into()
    }
}

impl From<Refusal> for V2Error {
    fn from(r: Refusal) -> Self {
        ContractError::from(r).into()
    }
}

impl From<StoreError> for V2Error {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "v2 API: storage failed");
        V2Error::System
    }
}

fn bounded(msg: String) -> String {
    match msg.char_indices().nth(RETURN_MSG_CHARS) {
        Some((at, _)) => msg[..at].to_string(),
        None => msg,
    }
}

impl V2Error {
    /// The code the answer carries (`return_msg`'s leading code, or `err_code`).
    pub fn code(&self) -> &'static str {
        match self {
            V2Error::Format(_) => "XML_FORMAT_ERROR",
            V2Error::Param(_) => "PARAM_ERROR",
            V2Error::Method(code) => code,
            V2Error::Sign(_) => "SIGN_ERROR",
            V2Error::NoAuth(_) => "NO_AUTH",
            V2Error::ContractNotExist => "CONTRACT_NOT_EXIST",
            V2Error::Invalid(_) => "INVALID_REQUEST",
            V2Error::RateLimited => "RATE_LIMITED",
            V2Error::System => "SYSTEMERROR",
        }
    }

    /// The answer's parameters (unsigned: failures carry no `sign`).
    pub fn params(&self, shape: Shape) -> Params {
        let (code, detail) = match self {
            V2Error::Format(msg) => return return_fail(&bounded(msg.clone())),
            V2Error::Param(msg) => return return_fail(&bounded(format!("PARAM_ERROR: {msg}"))),
            V2Error::Method(code) => return return_fail(code),
            V2Error::Sign(msg) => ("SIGN_ERROR", msg.clone()),
            V2Error::NoAuth(msg) => ("NO_AUTH", msg.clone()),
            V2Error::ContractNotExist => (
                "CONTRACT_NOT_EXIST",
                "签约协议不存在 (the contract does not exist)".into(),
            ),
            V2Error::Invalid(msg) => ("INVALID_REQUEST", msg.clone()),
            V2Error::RateLimited => ("RATE_LIMITED", "频率限制 (too many requests, retry later)".into()),
            V2Error::System => (
                "SYSTEMERROR",
                "系统错误 (system error, retry with the same parameters)".into(),
            ),
        };
        match shape {
            Shape::ResultMsg => h5entrustweb_fail(&format!("{code}: {detail}")),
            Shape::ErrCode => business_fail(code, &detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_msg_is_bounded_on_a_char_boundary() {
        let long = "签".repeat(300);
        let p = V2Error::Format(long).params(Shape::ErrCode);
        assert_eq!(p.get("return_msg").map(|m| m.chars().count()), Some(128));
    }

    #[test]
    fn business_failures_take_the_api_shape() {
        let h5 = V2Error::Sign("bad".into()).params(Shape::ResultMsg);
        assert_eq!(h5.get("result_code"), Some("FAIL"));
        assert_eq!(h5.get("result_msg"), Some("SIGN_ERROR: bad"));
        let q = V2Error::ContractNotExist.params(Shape::ErrCode);
        assert_eq!(q.get("err_code"), Some("CONTRACT_NOT_EXIST"));
        assert_eq!(q.get("return_code"), Some("SUCCESS"));
    }
}
