//! The v2 signing / termination notification (PROTOCOL.md §5.5): the body the
//! sandbox posts to the merchant, and the merchant's acknowledgement.
//!
//! The body lists the documented fields in the documentation's order, then the
//! newer optional fields; the caller appends `sign` (`with_sign`, with the
//! algorithm of the originating request, §5.5 DECISION) and writes it with
//! `v2::xml::write`. The acknowledgement counts only if it is a well-formed
//! flat `<xml>` whose `return_code` is `SUCCESS`; anything else means retry.

use super::responses::{ContractState, V2Contract};
use crate::v2::xml::{self, Limits};
use crate::v2::Params;

/// `change_type` of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeType {
    /// `ADD`: the contract was signed.
    Add,
    /// `DELETE`: the contract was terminated.
    Delete,
}

impl ChangeType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Delete => "DELETE",
        }
    }
}

/// The unsigned notification for `c` and `change`, `operate_time` formatted
/// `yyyy-MM-dd HH:mm:ss`. `contract_termination_mode` appears only for `DELETE`.
pub fn notification(c: &V2Contract, change: ChangeType, operate_time: &str) -> Params {
    let mut p = Params::new();
    let opt = |p: &mut Params, k: &str, v: Option<&str>| {
        if let Some(v) = v {
            p.push(k, v);
        }
    };
    p.push("return_code", "SUCCESS");
    p.push("result_code", "SUCCESS");
    p.push("mch_id", &c.mch_id);
    opt(&mut p, "sub_mch_id", c.sub_mch_id.as_deref());
    p.push("contract_code", &c.contract_code);
    p.push("plan_id", &c.plan_id);
    p.push("openid", &c.openid);
    opt(&mut p, "sub_openid", c.sub_openid.as_deref());
    p.push("change_type", change.as_str());
    p.push("operate_time", operate_time);
    p.push("contract_id", &c.contract_id);
    p.push("contract_expired_time", &c.contract_expired_time);
    if change == ChangeType::Delete {
        let mode = c.contract_termination_mode.map(|m| m.as_code().to_string());
        opt(&mut p, "contract_termination_mode", mode.as_deref());
    }
    p.push("request_serial", c.request_serial.to_string());
    p.push("appid", &c.appid);
    opt(&mut p, "sub_appid", c.sub_appid.as_deref());
    p.push("contract_display_account", &c.contract_display_account);
    p.push("contract_state", c.contract_state.as_code().to_string());
    p.push("contract_signed_time", &c.contract_signed_time);
    if c.contract_state == ContractState::Terminated {
        opt(
            &mut p,
            "contract_terminated_time",
            c.contract_terminated_time.as_deref(),
        );
    }
    opt(
        &mut p,
        "contract_termination_remark",
        c.contract_termination_remark.as_deref(),
    );
    p
}

/// What the merchant answered to a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// `return_code` was `SUCCESS`: delivery done.
    Acknowledged,
    /// Anything else; the reason is for the delivery log. Retry.
    NotAcknowledged(String),
}

impl Ack {
    /// Whether the notification was acknowledged.
    pub fn is_acknowledged(&self) -> bool {
        matches!(self, Self::Acknowledged)
    }
}

/// Reads the merchant's acknowledgement body: a flat `<xml>` with
/// `return_code` exactly `SUCCESS` (surrounding whitespace ignored).
pub fn parse_ack(body: &[u8]) -> Ack {
    match xml::parse(body, &Limits::default()) {
        Err(e) => Ack::NotAcknowledged(e.to_string()),
        Ok(p) => match p.get("return_code").map(str::trim) {
            Some("SUCCESS") => Ack::Acknowledged,
            Some(other) => Ack::NotAcknowledged(format!("return_code is `{other}`")),
            None => Ack::NotAcknowledged("no return_code".to_owned()),
        },
    }
}
