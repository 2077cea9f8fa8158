//! Reading the answers of the v2 papay APIs (PROTOCOL.md §5.2–5.4, §5.6).
//!
//! Each reader is a pure function of the answer's bytes (and the key), so every outcome can be
//! tested without a server. The order of checks is the protocol's: the XML must parse; then
//! `return_code=FAIL` ⇒ [`Error::V2Return`], `result_code=FAIL` ⇒ [`Error::V2Business`]; only a
//! success is read further, and — for the signed APIs — only after its `sign` verified, since
//! the fields mean nothing until then.

use papay_protocol::v2::papay::{ContractState, TerminationMode};
use papay_protocol::v2::sign::{self, SignError, SignType};
use papay_protocol::v2::xml::{self, Limits};
use papay_protocol::v2::Params;
use time::OffsetDateTime;

use super::fields::{shown, Fields};
use super::key::V2ApiKey;
use crate::Error;

/// A contract as querycontract shows it (§5.3). Times are Beijing time (`+08:00`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2ContractInfo {
    pub mch_id: String,
    pub appid: String,
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
    pub contract_signed_time: OffsetDateTime,
    pub contract_expired_time: OffsetDateTime,
    /// Once terminated.
    pub contract_terminated_time: Option<OffsetDateTime>,
    /// Once terminated (`0`, "not terminated", reads as `None`).
    pub contract_termination_mode: Option<TerminationMode>,
    pub contract_termination_remark: Option<String>,
    pub openid: String,
}

/// What deletecontract confirms (§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteContractInfo {
    pub appid: String,
    pub mch_id: String,
    pub sub_mch_id: Option<String>,
    pub contract_id: String,
    pub plan_id: String,
    pub contract_code: String,
}

/// The `redirect_url` of an h5entrustweb answer.
///
/// The API documents no `sign` on this answer (§5.2 DECISION), so none is required; one that
/// is present must verify (by its length, 32 ⇒ MD5, 64 ⇒ HMAC-SHA256).
pub fn parse_h5entrustweb_answer(body: &[u8], key: &V2ApiKey) -> Result<String, Error> {
    const WHAT: &str = "h5entrustweb answer";
    let p = parse_xml(WHAT, body)?;
    check_return(WHAT, &p, BusinessError::ResultMsg)?;
    if p.get("sign").is_some_and(|s| !s.is_empty()) {
        verify(WHAT, &p, key, None)?;
    }
    Fields::new(WHAT, &p).string("redirect_url")
}

/// A querycontract answer: on success its `sign` must verify (MD5), then the contract is read.
pub fn parse_querycontract_answer(body: &[u8], key: &V2ApiKey) -> Result<V2ContractInfo, Error> {
    const WHAT: &str = "querycontract answer";
    let p = parse_xml(WHAT, body)?;
    check_return(WHAT, &p, BusinessError::ErrCode)?;
    verify(WHAT, &p, key, Some(SignType::Md5))?;
    let f = Fields::new(WHAT, &p);
    Ok(V2ContractInfo {
        mch_id: f.string("mch_id")?,
        appid: f.string("appid")?,
        sub_mch_id: f.opt_string("sub_mch_id"),
        sub_appid: f.opt_string("sub_appid"),
        sub_openid: f.opt_string("sub_openid"),
        contract_id: f.string("contract_id")?,
        plan_id: f.string("plan_id")?,
        contract_code: f.string("contract_code")?,
        request_serial: f.i64("request_serial")?,
        contract_display_account: f.string("contract_display_account")?,
        contract_state: f.state("contract_state")?,
        contract_signed_time: f.time("contract_signed_time")?,
        contract_expired_time: f.time("contract_expired_time")?,
        contract_terminated_time: f.opt_time("contract_terminated_time")?,
        contract_termination_mode: f.termination_mode("contract_termination_mode")?,
        contract_termination_remark: f.opt_string("contract_termination_remark"),
        openid: f.string("openid")?,
    })
}

/// A deletecontract answer: on success its `sign` must verify (MD5), then it is read.
pub fn parse_deletecontract_answer(body: &[u8], key: &V2ApiKey) -> Result<DeleteContractInfo, Error> {
    const WHAT: &str = "deletecontract answer";
    let p = parse_xml(WHAT, body)?;
    check_return(WHAT, &p, BusinessError::ErrCode)?;
    verify(WHAT, &p, key, Some(SignType::Md5))?;
    let f = Fields::new(WHAT, &p);
    Ok(DeleteContractInfo {
        appid: f.string("appid")?,
        mch_id: f.string("mch_id")?,
        sub_mch_id: f.opt_string("sub_mch_id"),
        contract_id: f.string("contract_id")?,
        plan_id: f.string("plan_id")?,
        contract_code: f.string("contract_code")?,
    })
}

/// A flat v2 XML document (default limits), or an [`Error::Decode`] saying why not.
pub(crate) fn parse_xml(what: &str, body: &[u8]) -> Result<Params, Error> {
    xml::parse(body, &Limits::default()).map_err(|e| Error::Decode(format!("{what} is not v2 XML: {e}")))
}

/// Checks `sign` with the key; `None` chooses the algorithm by the sign's length.
pub(crate) fn verify(what: &str, p: &Params, key: &V2ApiKey, t: Option<SignType>) -> Result<SignType, Error> {
    sign::verify(p, key.expose(), t).map_err(|e| {
        Error::Verification(match e {
            SignError::Missing => format!("{what} has no `sign`"),
            SignError::Mismatch => format!("{what}: `sign` does not match the fields and the v2 API key"),
            SignError::UnknownSignType(t) => format!("{what}: unsupported sign_type `{}`", shown(&t)),
        })
    })
}

/// Where an API puts its business error.
#[derive(Clone, Copy)]
enum BusinessError {
    /// h5entrustweb: `result_msg`.
    ResultMsg,
    /// querycontract / deletecontract: `err_code` + `err_code_des`.
    ErrCode,
}

/// `return_code` / `result_code`: `Ok` only when both are `SUCCESS`.
fn check_return(what: &'static str, p: &Params, kind: BusinessError) -> Result<(), Error> {
    let f = Fields::new(what, p);
    let text = |k: &str| p.get(k).unwrap_or_default().to_owned();
    let succeeded = |field: &str| -> Result<bool, Error> {
        match f.required(field)? {
            "SUCCESS" => Ok(true),
            "FAIL" => Ok(false),
            other => Err(f.error(field, format_args!("is `{}`, expected SUCCESS or FAIL", shown(other)))),
        }
    };
    if !succeeded("return_code")? {
        return Err(Error::V2Return {
            return_msg: text("return_msg"),
        });
    }
    if !succeeded("result_code")? {
        return Err(match kind {
            // Falls back to err_code in case a server sends the generic v2 fields.
            BusinessError::ResultMsg => Error::V2Business {
                err_code: f
                    .optional("result_msg")
                    .or(f.optional("err_code"))
                    .unwrap_or_default()
                    .to_owned(),
                err_code_des: text("err_code_des"),
            },
            BusinessError::ErrCode => Error::V2Business {
                err_code: text("err_code"),
                err_code_des: text("err_code_des"),
            },
        });
    }
    Ok(())
}
