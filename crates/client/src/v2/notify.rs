//! Receiving v2 signing / termination notifications (PROTOCOL.md §5.5) in a merchant's handler.
//!
//! The notification URL is public, so nothing in a body counts until its `sign` verified with
//! the v2 API key. Notifications carry no `sign_type`: the algorithm follows from the length of
//! `sign` (32 ⇒ MD5, 64 ⇒ HMAC-SHA256, after the originating request), and the one that
//! verified is reported. They carry no timestamp or nonce either, so a replay cannot be told
//! from a retry: deduplicate by `contract_id` + `change_type`.
//!
//! Answer [`ack_success`] only when [`parse_notification`] returned `Ok`; anything else (e.g.
//! [`ack_fail`]) makes the sender retry.

use papay_protocol::v2::papay::{ChangeType, ContractState, TerminationMode};
use papay_protocol::v2::sign::SignType;
use papay_protocol::v2::xml;
use papay_protocol::v2::Params;
use time::OffsetDateTime;

use super::answers::{parse_xml, verify};
use super::fields::{shown, Fields};
use super::key::V2ApiKey;
use crate::Error;

/// A v2 notification whose `sign` verified. Times are Beijing time (`+08:00`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Notification {
    pub mch_id: String,
    /// Partner contracts only.
    pub sub_mch_id: Option<String>,
    pub contract_code: String,
    pub plan_id: String,
    pub openid: String,
    pub sub_openid: Option<String>,
    pub change_type: ChangeType,
    pub operate_time: OffsetDateTime,
    pub contract_id: String,
    /// Listed by the field table but absent from the official example, hence optional.
    pub contract_expired_time: Option<OffsetDateTime>,
    /// `DELETE` only.
    pub contract_termination_mode: Option<TerminationMode>,
    pub request_serial: i64,
    // The newer optional fields.
    pub appid: Option<String>,
    pub sub_appid: Option<String>,
    pub contract_display_account: Option<String>,
    pub contract_state: Option<ContractState>,
    pub contract_signed_time: Option<OffsetDateTime>,
    pub contract_terminated_time: Option<OffsetDateTime>,
    pub contract_termination_remark: Option<String>,
    /// The algorithm whose signature verified.
    pub sign_type: SignType,
    /// Every field as received (including unknown extras, which the signature covers).
    pub params: Params,
}

/// Parses a notification body, verifies its `sign` with `key` (algorithm by the sign's length)
/// and reads it. Malformed XML or fields ⇒ [`Error::Decode`]; a missing or wrong `sign` ⇒
/// [`Error::Verification`].
pub fn parse_notification(body: &[u8], key: &V2ApiKey) -> Result<V2Notification, Error> {
    const WHAT: &str = "v2 notification";
    let params = parse_xml(WHAT, body)?;
    let sign_type = verify(WHAT, &params, key, None)?;
    let f = Fields::new(WHAT, &params);
    let change_type = match f.required("change_type")? {
        "ADD" => ChangeType::Add,
        "DELETE" => ChangeType::Delete,
        other => {
            return Err(f.error(
                "change_type",
                format_args!("is `{}`, expected ADD or DELETE", shown(other)),
            ))
        }
    };
    Ok(V2Notification {
        mch_id: f.string("mch_id")?,
        sub_mch_id: f.opt_string("sub_mch_id"),
        contract_code: f.string("contract_code")?,
        plan_id: f.string("plan_id")?,
        openid: f.string("openid")?,
        sub_openid: f.opt_string("sub_openid"),
        change_type,
        operate_time: f.time("operate_time")?,
        contract_id: f.string("contract_id")?,
        contract_expired_time: f.opt_time("contract_expired_time")?,
        contract_termination_mode: f.termination_mode("contract_termination_mode")?,
        request_serial: f.i64("request_serial")?,
        appid: f.opt_string("appid"),
        sub_appid: f.opt_string("sub_appid"),
        contract_display_account: f.opt_string("contract_display_account"),
        contract_state: f.opt_state("contract_state")?,
        contract_signed_time: f.opt_time("contract_signed_time")?,
        contract_terminated_time: f.opt_time("contract_terminated_time")?,
        contract_termination_remark: f.opt_string("contract_termination_remark"),
        sign_type,
        params,
    })
}

/// The acknowledgement that ends delivery (§5.5):
/// `<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`.
pub fn ack_success() -> String {
    ack("SUCCESS", "OK")
}

/// A refusal (`return_code=FAIL` with `msg`): the sender retries.
pub fn ack_fail(msg: &str) -> String {
    ack("FAIL", msg)
}

fn ack(code: &str, msg: &str) -> String {
    xml::write(&[("return_code", code), ("return_msg", msg)].into_iter().collect())
}
