//! Pre-sign rules (PROTOCOL.md §2.0): who may pre-sign under which AppID and plan, how long the
//! signing session lives, and the contract a pre-sign creates.

use time::{Duration, OffsetDateTime};

use super::contract::{Api, Channel, Contract, ContractState, Party, Session};
use super::error::ContractError;
use super::ids::{AppId, PlanId};
use super::merchant::{Merchant, Plan};
use super::values::{
    ClientIp, ContractId, DisplayName, FieldError, NotifyUrl, OpenId, OutContractCode, ReturnUrl, SessionToken,
};

/// A pre-sign request, parsed: every field already valid on its own.
#[derive(Debug, Clone)]
pub struct PresignRequest {
    pub api: Api,
    pub channel: Channel,
    pub party: Party,
    pub plan_id: PlanId,
    pub out_contract_code: OutContractCode,
    pub user_display_name: Option<DisplayName>,
    pub success_notify_url: NotifyUrl,
    pub openid: Option<OpenId>,
    pub return_url: Option<ReturnUrl>,
    pub return_appid: Option<AppId>,
    pub user_client_ip: Option<ClientIp>,
    pub expired_time: Option<OffsetDateTime>,
}

/// Clock skew tolerated at the edges of the `expired_time` window.
const SKEW_SECS: i64 = 5;

/// Checks that the merchant may speak for `party`: AppIDs bound, sub-merchant its own.
pub fn check_party(merchant: &Merchant, party: &Party) -> Result<(), ContractError> {
    match party {
        Party::Common { appid } => {
            if !merchant.appids.contains(appid) {
                return Err(
                    FieldError::new("appid", format!("{appid} is not bound to mchid {}", merchant.mchid)).into(),
                );
            }
        }
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => {
            if !merchant.appids.contains(sp_appid) {
                return Err(FieldError::new(
                    "sp_appid",
                    format!("{sp_appid} is not bound to mchid {}", merchant.mchid),
                )
                .into());
            }
            let sub = merchant
                .sub_merchants
                .iter()
                .find(|s| &s.sub_mchid == sub_mchid)
                .ok_or_else(|| {
                    ContractError::NoAuth(format!(
                        "sub_mchid {sub_mchid} is not a sub-merchant of {}",
                        merchant.mchid
                    ))
                })?;
            if let Some(sub_appid) = sub_appid {
                if !sub.sub_appids.contains(sub_appid) {
                    return Err(FieldError::new(
                        "sub_appid",
                        format!("{sub_appid} is not bound to sub_mchid {sub_mchid}"),
                    )
                    .into());
                }
            }
        }
    }
    Ok(())
}

/// Checks that the plan exists, belongs to the merchant, and allows the sub-merchant.
pub fn check_plan(
    merchant: &Merchant,
    plan: Option<&Plan>,
    party: &Party,
    plan_id: PlanId,
) -> Result<(), ContractError> {
    let plan = plan.filter(|p| p.mchid == merchant.mchid).ok_or_else(|| {
        ContractError::NoAuth(format!("plan_id {plan_id} does not belong to mchid {}", merchant.mchid))
    })?;
    if let Some(sub) = party.sub_mchid() {
        if !plan.sub_mchids.contains(sub) {
            return Err(ContractError::NoAuth(format!(
                "sub_mchid {sub} may not use plan_id {plan_id}"
            )));
        }
    }
    Ok(())
}

/// The session's end: the requested `expired_time` if inside the channel's window, else the default.
pub fn session_expiry(
    channel: Channel,
    requested: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ContractError> {
    let (min, max, default) = channel.expiry_window();
    let Some(at) = requested else {
        return Ok(now + Duration::seconds(default));
    };
    let ahead = (at - now).whole_seconds();
    if ahead <= min - SKEW_SECS || ahead >= max + SKEW_SECS {
        let window = if max == 600 {
            "more than 5 minutes and less than 10 minutes"
        } else {
            "more than 5 minutes and less than 2 hours"
        };
        return Err(FieldError::new(
            "expired_time",
            format!("must be {window} after the request time for this signing mode"),
        )
        .into());
    }
    Ok(at)
}

/// The contract a new pre-sign creates (state NOTSIGN), with a fresh id and session.
pub fn new_contract(merchant: &Merchant, req: PresignRequest, now: OffsetDateTime) -> Result<Contract, ContractError> {
    let expires_at = session_expiry(req.channel, req.expired_time, now)?;
    Ok(Contract {
        contract_id: ContractId::generate(now),
        api: req.api,
        mchid: merchant.mchid.clone(),
        party: req.party,
        plan_id: req.plan_id,
        out_contract_code: req.out_contract_code,
        user_display_name: req.user_display_name,
        openid: req.openid,
        success_notify_url: req.success_notify_url,
        state: ContractState::NotSign,
        session: Session {
            token: SessionToken::generate(now),
            channel: req.channel,
            expires_at,
            return_url: req.return_url,
            return_appid: req.return_appid,
            user_client_ip: req.user_client_ip,
        },
        created_at: now,
        signed_time: None,
        expired_time: None,
        terminated_time: None,
        termination_mode: None,
        termination_note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_windows() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let at = |s: i64| Some(now + Duration::seconds(s));
        assert_eq!(
            session_expiry(Channel::H5, None, now).unwrap(),
            now + Duration::minutes(10)
        );
        assert_eq!(
            session_expiry(Channel::Jsapi, None, now).unwrap(),
            now + Duration::hours(2)
        );
        assert!(session_expiry(Channel::H5, at(420), now).is_ok());
        assert!(session_expiry(Channel::Web, at(290), now).is_err());
        assert!(session_expiry(Channel::Web, at(610), now).is_err());
        assert!(session_expiry(Channel::App, at(7000), now).is_ok());
        assert!(session_expiry(Channel::MiniProgram, at(7300), now).is_err());
        assert!(session_expiry(Channel::Jsapi, at(-60), now).is_err());
        // Within the 5 s skew tolerance at both edges.
        assert!(session_expiry(Channel::H5, at(297), now).is_ok());
        assert!(session_expiry(Channel::H5, at(603), now).is_ok());
    }
}
