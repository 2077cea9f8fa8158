//! Who a v2 request speaks for: its `appid` [+ `sub_mch_id`, `sub_appid`] as a domain
//! `Party`, and its `plan_id` as papay's plan id. Shared by the GET and POST APIs.

use papay_protocol::v2::papay::SubMerchant;

use super::V2Error;
use crate::domain::contract::Party;
use crate::domain::ids::{AppId, Mchid, PlanId};

/// The identity a v2 request names: `appid` (direct) or `appid` + `sub_mch_id` [+ `sub_appid`].
pub fn party(appid: &str, sub: Option<&SubMerchant>, mch_id: &str) -> Result<Party, V2Error> {
    let unbound = |field: &str, v: &str| V2Error::Param(format!("`{field}` {v} is not bound to mch_id {mch_id}"));
    let appid = AppId::parse(appid).map_err(|_| unbound("appid", appid))?;
    Ok(match sub {
        None => Party::Common { appid },
        Some(s) => Party::Institutional {
            sp_appid: appid,
            sub_mchid: Mchid::parse(&s.sub_mch_id).map_err(|_| {
                V2Error::NoAuth(format!("sub_mch_id {} is not a sub-merchant of {mch_id}", s.sub_mch_id))
            })?,
            sub_appid: s
                .sub_appid
                .as_deref()
                .map(|a| AppId::parse(a).map_err(|_| unbound("sub_appid", a)))
                .transpose()?,
        },
    })
}

/// A v2 `plan_id` (digits) as papay's plan id; one that cannot be a plan is no plan of the merchant's.
pub fn plan_id(s: &str, mch_id: &str) -> Result<PlanId, V2Error> {
    s.parse::<i64>()
        .ok()
        .and_then(|n| PlanId::new(n).ok())
        .ok_or_else(|| V2Error::NoAuth(format!("plan_id {s} does not belong to mch_id {mch_id}")))
}
