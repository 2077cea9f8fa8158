//! A contract as the v2 APIs show it (PROTOCOL.md §5.3, §5.5): numbered states and termination
//! modes, `yyyy-MM-dd HH:mm:ss` Beijing times. Shared by the query answers and the notifications.

use papay_protocol::time_format::v2_beijing;
use papay_protocol::v2::papay::{ContractState as V2State, TerminationMode as V2Mode, V2Contract};

use crate::domain::contract::{Api, Contract, ContractState, Party, TerminationMode};

/// The v2 number of a termination: user 2, merchant API 3, merchant platform 4 (§4 mapping).
fn mode(m: TerminationMode) -> V2Mode {
    match m {
        TerminationMode::User => V2Mode::User,
        TerminationMode::Merchant => V2Mode::MerchantApi,
        TerminationMode::Platform => V2Mode::MerchantPlatform,
    }
}

/// The contract as v2 shows it, or `None` when v2 cannot see it: made through APIv3, or never
/// signed (a v2 contract only exists once the user signed, §5.2).
pub fn v2_contract(c: &Contract) -> Option<V2Contract> {
    let Api::V2(terms) = c.api else {
        return None;
    };
    let signed = c.signed_time?;
    let (appid, sub_mch_id, sub_appid) = match &c.party {
        Party::Common { appid } => (appid.to_string(), None, None),
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => (
            sp_appid.to_string(),
            Some(sub_mchid.to_string()),
            sub_appid.as_ref().map(|a| a.to_string()),
        ),
    };
    let openid = c.openid.as_ref().map(|o| o.to_string()).unwrap_or_default();
    Some(V2Contract {
        appid,
        mch_id: c.mchid.to_string(),
        sub_openid: sub_appid.is_some().then(|| openid.clone()),
        sub_mch_id,
        sub_appid,
        contract_id: c.contract_id.to_string(),
        plan_id: c.plan_id.to_string(),
        contract_code: c.out_contract_code.to_string(),
        request_serial: terms.request_serial,
        contract_display_account: c.user_display_name.as_ref().map(|d| d.to_string()).unwrap_or_default(),
        contract_state: match c.state {
            ContractState::Signed | ContractState::Terminating => V2State::Signed,
            _ => V2State::Terminated,
        },
        contract_signed_time: v2_beijing(signed),
        contract_expired_time: c.expired_time.map(v2_beijing).unwrap_or_default(),
        contract_terminated_time: c.terminated_time.map(v2_beijing),
        contract_termination_mode: c.termination_mode.map(mode),
        contract_termination_remark: c.termination_note.as_ref().map(|n| n.to_string()),
        openid,
    })
}
