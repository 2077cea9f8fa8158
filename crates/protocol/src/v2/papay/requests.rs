//! Typed, validated v2 papay requests (PROTOCOL.md §5.2–5.4).
//!
//! The server decodes the query string or XML body into [`Params`], checks the
//! signature over those raw parameters (`v2::sign::verify`), and then parses
//! them here into a request type whose fields are known to satisfy every
//! documented rule. Parsing stops at the first refused parameter, in the
//! order of the documentation's table, and reports it as a [`V2ParamError`].
//! `sign` itself is not examined here. Unknown extra parameters are ignored
//! (§5.1: receivers tolerate them).

use std::net::IpAddr;

use super::rules::{self, err, opt, req, Issue, V2ParamError};
use crate::v2::sign::SignType;
use crate::v2::Params;

/// Accepted distance between `timestamp` and the server's clock (PROTOCOL.md
/// §5.2 DECISION: ±10 minutes).
pub const TIMESTAMP_WINDOW_SECS: i64 = 600;

/// Which flavour of an API was called: `/papay/…` or `/papay/partner/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// A direct merchant (`/papay/…`).
    Direct,
    /// A service provider acting for a sub-merchant (`/papay/partner/…`).
    Partner,
}

/// The partner-only parameters: `sub_mch_id` (required) and `sub_appid` (optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubMerchant {
    pub sub_mch_id: String,
    pub sub_appid: Option<String>,
}

/// Reads the partner parameters for `Partner`; `None` for `Direct` (where
/// any `sub_*` parameter is an ignored extra).
fn sub_merchant(p: &Params, variant: Variant) -> Result<Option<SubMerchant>, V2ParamError> {
    match variant {
        Variant::Direct => Ok(None),
        Variant::Partner => Ok(Some(SubMerchant {
            sub_mch_id: req(p, "sub_mch_id", |f, v| rules::ident(f, v, 32))?,
            sub_appid: opt(p, "sub_appid", |f, v| rules::ident(f, v, 32))?,
        })),
    }
}

/// The optional risk-control parameters of h5entrustweb (undocumented
/// formats: kept as sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskInfo {
    pub deviceid: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub qq: Option<String>,
    pub openid: Option<String>,
    pub creid: Option<String>,
    pub outerid: Option<String>,
}

/// `GET /papay/h5entrustweb` and `/papay/partner/h5entrustweb` (§5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H5EntrustWeb {
    pub appid: String,
    pub mch_id: String,
    /// `Some` exactly for the partner API.
    pub sub_merchant: Option<SubMerchant>,
    pub plan_id: String,
    pub contract_code: String,
    pub request_serial: i64,
    pub contract_display_account: String,
    pub notify_url: String,
    /// `None` when `sign_type` was not sent (either algorithm may verify, §5.1).
    pub sign_type: Option<SignType>,
    /// Unix seconds; see [`H5EntrustWeb::check_timestamp`].
    pub timestamp: i64,
    pub clientip: IpAddr,
    pub risk: RiskInfo,
    pub return_appid: Option<String>,
}

impl H5EntrustWeb {
    /// Validates every §5.2 parameter (not `sign`, and not the freshness of
    /// `timestamp`, which needs a clock: see [`Self::check_timestamp`]).
    pub fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError> {
        let text = rules::as_sent;
        let out = Self {
            appid: req(p, "appid", |f, v| rules::ident(f, v, 32))?,
            mch_id: req(p, "mch_id", |f, v| rules::ident(f, v, 32))?,
            sub_merchant: sub_merchant(p, variant)?,
            plan_id: req(p, "plan_id", |f, v| rules::digits(f, v, 28))?,
            contract_code: req(p, "contract_code", |f, v| rules::alphanumeric(f, v, 128))?,
            request_serial: req(p, "request_serial", rules::request_serial)?,
            contract_display_account: req(p, "contract_display_account", |f, v| rules::bmp_text(f, v, 128))?,
            notify_url: req(p, "notify_url", |f, v| rules::notify_url(f, v, 256))?,
            // `version` has no field of its own; it is checked here to keep the §5.2 table's order.
            sign_type: rules::version(p).and_then(|()| rules::sign_type(p))?,
            timestamp: req(p, "timestamp", rules::timestamp)?,
            clientip: req(p, "clientip", rules::ip)?,
            risk: RiskInfo {
                deviceid: opt(p, "deviceid", text)?,
                mobile: opt(p, "mobile", text)?,
                email: opt(p, "email", text)?,
                qq: opt(p, "qq", text)?,
                openid: opt(p, "openid", text)?,
                creid: opt(p, "creid", text)?,
                outerid: opt(p, "outerid", text)?,
            },
            return_appid: opt(p, "return_appid", |f, v| rules::ident(f, v, 32))?,
        };
        Ok(out)
    }

    /// Refuses a `timestamp` more than [`TIMESTAMP_WINDOW_SECS`] away from
    /// `now_unix` in either direction.
    pub fn check_timestamp(&self, now_unix: i64) -> Result<(), V2ParamError> {
        if self.timestamp.abs_diff(now_unix) > TIMESTAMP_WINDOW_SECS.unsigned_abs() {
            return Err(err(
                "timestamp",
                Issue::Stale {
                    window_secs: TIMESTAMP_WINDOW_SECS,
                },
            ));
        }
        Ok(())
    }
}

/// How querycontract / deletecontract name the contract: exactly one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractSelector {
    /// Mode a: `contract_id`.
    ContractId(String),
    /// Mode b: `plan_id` + `contract_code`.
    PlanAndCode { plan_id: String, contract_code: String },
}

impl ContractSelector {
    /// Mode a if `contract_id` is sent, mode b if `plan_id` or `contract_code`
    /// is; both ⇒ [`Issue::BothModes`], neither ⇒ [`Issue::NoMode`] (reported
    /// on `contract_id`); half of mode b ⇒ the other half is [`Issue::Missing`].
    fn parse(p: &Params) -> Result<Self, V2ParamError> {
        let id = rules::optional(p, "contract_id");
        let b = rules::optional(p, "plan_id").is_some() || rules::optional(p, "contract_code").is_some();
        match (id, b) {
            (Some(_), true) => Err(err("contract_id", Issue::BothModes)),
            (None, false) => Err(err("contract_id", Issue::NoMode)),
            (Some(v), false) => Ok(Self::ContractId(rules::ident("contract_id", v, 32)?)),
            (None, true) => Ok(Self::PlanAndCode {
                plan_id: req(p, "plan_id", |f, v| rules::digits(f, v, 128))?,
                contract_code: req(p, "contract_code", |f, v| rules::text(f, v, 128))?,
            }),
        }
    }
}

/// `POST /papay/querycontract` and `/papay/partner/querycontract` (§5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryContract {
    pub appid: String,
    pub mch_id: String,
    pub sub_merchant: Option<SubMerchant>,
    pub selector: ContractSelector,
}

impl QueryContract {
    /// Validates the §5.3 parameters (not `sign`).
    pub fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError> {
        let out = Self {
            appid: req(p, "appid", |f, v| rules::ident(f, v, 32))?,
            mch_id: req(p, "mch_id", |f, v| rules::ident(f, v, 32))?,
            sub_merchant: sub_merchant(p, variant)?,
            selector: ContractSelector::parse(p)?,
        };
        rules::version(p)?;
        Ok(out)
    }
}

/// `POST /papay/deletecontract` and `/papay/partner/deletecontract` (§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteContract {
    pub appid: String,
    pub mch_id: String,
    pub sub_merchant: Option<SubMerchant>,
    pub selector: ContractSelector,
    pub contract_termination_remark: String,
}

impl DeleteContract {
    /// Validates the §5.4 parameters (not `sign`).
    pub fn parse(p: &Params, variant: Variant) -> Result<Self, V2ParamError> {
        let out = Self {
            appid: req(p, "appid", |f, v| rules::ident(f, v, 32))?,
            mch_id: req(p, "mch_id", |f, v| rules::ident(f, v, 32))?,
            sub_merchant: sub_merchant(p, variant)?,
            selector: ContractSelector::parse(p)?,
            contract_termination_remark: req(p, "contract_termination_remark", |f, v| rules::text(f, v, 512))?,
        };
        rules::version(p)?;
        Ok(out)
    }
}
