//! A papay contract and its state machine (PROTOCOL.md §4), as one pure transition function.

use time::OffsetDateTime;

use super::ids::{AppId, Mchid, PlanId};
use super::values::{
    ClientIp, ContractId, DisplayName, NotifyUrl, OpenId, OutContractCode, ReturnUrl, SessionToken, TerminationNote,
};

/// The states a contract's `state` field reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractState {
    NotSign,
    Signing,
    Signed,
    Terminating,
    Terminated,
    Delete,
    SignFail,
}

impl ContractState {
    pub const ALL: [ContractState; 7] = [
        ContractState::NotSign,
        ContractState::Signing,
        ContractState::Signed,
        ContractState::Terminating,
        ContractState::Terminated,
        ContractState::Delete,
        ContractState::SignFail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractState::NotSign => "NOTSIGN",
            ContractState::Signing => "SIGNING",
            ContractState::Signed => "SIGNED",
            ContractState::Terminating => "TERMINATING",
            ContractState::Terminated => "TERMINATED",
            ContractState::Delete => "DELETE",
            ContractState::SignFail => "SIGNFAIL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Who ended a contract (`termination_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminationMode {
    User,
    Merchant,
    Platform,
}

impl TerminationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationMode::User => "USER",
            TerminationMode::Merchant => "MERCHANT",
            TerminationMode::Platform => "PLATFORM",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            TerminationMode::User,
            TerminationMode::Merchant,
            TerminationMode::Platform,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// Everything that can happen to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The merchant pre-signs again with the same code (§2.0 idempotency DECISION).
    PresignRenewed,
    /// The user opens the signing page.
    UserOpened,
    /// The user agrees.
    UserAgreed,
    /// Signing is refused (user declines, IP mismatch, already signed under the plan).
    SigningFailed,
    /// The signing session reached its `expired_time`.
    SessionExpired,
    /// Termination accepted but not final (only through fault injection).
    TerminationStarted,
    /// The contract is terminated by the user, the merchant API or the merchant platform.
    Terminated(TerminationMode),
    /// Deleted through the test-control API.
    Deleted,
}

impl Event {
    pub const ALL: [Event; 10] = [
        Event::PresignRenewed,
        Event::UserOpened,
        Event::UserAgreed,
        Event::SigningFailed,
        Event::SessionExpired,
        Event::TerminationStarted,
        Event::Terminated(TerminationMode::User),
        Event::Terminated(TerminationMode::Merchant),
        Event::Terminated(TerminationMode::Platform),
        Event::Deleted,
    ];
}

/// What a transition asks the outside world to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Send `PAPAY.SIGN` to the contract's `success_notify_url`.
    NotifySigned,
    /// Send `PAPAY.TERMINATE` to the plan's termination URL.
    NotifyTerminated,
}

/// Why an event does not apply in a state; each maps to a documented answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The code is signed or burned: `403 CONTRACT_EXISTED`.
    ContractExisted,
    /// Nothing to terminate: `403 CONTRACT_NOT_EXIST` (§2.8 DECISION).
    NotTerminable,
    /// The signing session is over (signed, failed, terminated or deleted).
    SessionClosed,
}

/// The state machine of §4: the one place that decides which events apply where.
pub fn transition(from: ContractState, event: Event) -> Result<(ContractState, Effect), Refusal> {
    use ContractState::*;
    match (from, event) {
        (_, Event::Deleted) => Ok((Delete, Effect::None)),
        (NotSign | Signing | SignFail, Event::PresignRenewed) => Ok((NotSign, Effect::None)),
        (_, Event::PresignRenewed) => Err(Refusal::ContractExisted),
        (NotSign | Signing, Event::UserOpened) => Ok((Signing, Effect::None)),
        (NotSign | Signing, Event::UserAgreed) => Ok((Signed, Effect::NotifySigned)),
        (NotSign | Signing, Event::SigningFailed) => Ok((SignFail, Effect::None)),
        (NotSign | Signing, Event::SessionExpired) => Ok((NotSign, Effect::None)),
        (_, Event::UserOpened | Event::UserAgreed | Event::SigningFailed | Event::SessionExpired) => {
            Err(Refusal::SessionClosed)
        }
        (Signed, Event::TerminationStarted) => Ok((Terminating, Effect::None)),
        (Signed | Terminating, Event::Terminated(_)) => Ok((Terminated, Effect::NotifyTerminated)),
        (_, Event::TerminationStarted | Event::Terminated(_)) => Err(Refusal::NotTerminable),
    }
}

/// How the merchant identified itself; fixed at pre-sign and required to match on queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Common {
        appid: AppId,
    },
    Institutional {
        sp_appid: AppId,
        sub_mchid: Mchid,
        sub_appid: Option<AppId>,
    },
}

impl Party {
    pub fn sub_mchid(&self) -> Option<&Mchid> {
        match self {
            Party::Common { .. } => None,
            Party::Institutional { sub_mchid, .. } => Some(sub_mchid),
        }
    }

    /// Whether a query naming `other` may see a contract made by `self`: same mode and ids;
    /// an omitted `sub_appid` matches any.
    pub fn admits(&self, other: &Party) -> bool {
        match (self, other) {
            (Party::Common { appid: a }, Party::Common { appid: b }) => a == b,
            (
                Party::Institutional {
                    sp_appid: a,
                    sub_mchid: s,
                    sub_appid: sa,
                },
                Party::Institutional {
                    sp_appid: b,
                    sub_mchid: t,
                    sub_appid: sb,
                },
            ) => a == b && s == t && (sb.is_none() || sa == sb),
            _ => false,
        }
    }
}

/// The pre-sign endpoint a contract came through; decides session URL form and expiry window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    MiniProgram,
    H5,
    Jsapi,
    Web,
    App,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::MiniProgram => "MINIPROGRAM",
            Channel::H5 => "H5",
            Channel::Jsapi => "JSAPI",
            Channel::Web => "WEB",
            Channel::App => "APP",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Channel::MiniProgram,
            Channel::H5,
            Channel::Jsapi,
            Channel::Web,
            Channel::App,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// (exclusive minimum, exclusive maximum, default) session validity in seconds (§2.0).
    pub fn expiry_window(self) -> (i64, i64, i64) {
        match self {
            Channel::H5 | Channel::Web => (300, 600, 600),
            Channel::MiniProgram | Channel::Jsapi | Channel::App => (300, 7200, 7200),
        }
    }
}

/// The signing session behind a `sign_url` / `show_code_url` / `session_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: SessionToken,
    pub channel: Channel,
    pub expires_at: OffsetDateTime,
    pub return_url: Option<ReturnUrl>,
    pub return_appid: Option<AppId>,
    pub user_client_ip: Option<ClientIp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub contract_id: ContractId,
    /// The calling merchant (the institution in Institutional mode).
    pub mchid: Mchid,
    pub party: Party,
    pub plan_id: PlanId,
    pub out_contract_code: OutContractCode,
    pub user_display_name: Option<DisplayName>,
    pub openid: Option<OpenId>,
    pub success_notify_url: NotifyUrl,
    pub state: ContractState,
    pub session: Session,
    pub created_at: OffsetDateTime,
    pub signed_time: Option<OffsetDateTime>,
    /// The contract's own expiry, set when signed.
    pub expired_time: Option<OffsetDateTime>,
    pub terminated_time: Option<OffsetDateTime>,
    pub termination_mode: Option<TerminationMode>,
    pub termination_note: Option<TerminationNote>,
}

#[cfg(test)]
mod tests {
    use super::ContractState::*;
    use super::*;

    /// The whole table: every (state, event) pair and its expected outcome.
    #[test]
    fn every_state_event_pair() {
        let expected = |from: ContractState, e: Event| -> Result<(ContractState, Effect), Refusal> {
            match e {
                Event::Deleted => Ok((Delete, Effect::None)),
                Event::PresignRenewed => match from {
                    NotSign | Signing | SignFail => Ok((NotSign, Effect::None)),
                    Signed | Terminating | Terminated | Delete => Err(Refusal::ContractExisted),
                },
                Event::UserOpened => match from {
                    NotSign | Signing => Ok((Signing, Effect::None)),
                    _ => Err(Refusal::SessionClosed),
                },
                Event::UserAgreed => match from {
                    NotSign | Signing => Ok((Signed, Effect::NotifySigned)),
                    _ => Err(Refusal::SessionClosed),
                },
                Event::SigningFailed => match from {
                    NotSign | Signing => Ok((SignFail, Effect::None)),
                    _ => Err(Refusal::SessionClosed),
                },
                Event::SessionExpired => match from {
                    NotSign | Signing => Ok((NotSign, Effect::None)),
                    _ => Err(Refusal::SessionClosed),
                },
                Event::TerminationStarted => match from {
                    Signed => Ok((Terminating, Effect::None)),
                    _ => Err(Refusal::NotTerminable),
                },
                Event::Terminated(_) => match from {
                    Signed | Terminating => Ok((Terminated, Effect::NotifyTerminated)),
                    _ => Err(Refusal::NotTerminable),
                },
            }
        };
        let mut pairs = 0;
        for from in ContractState::ALL {
            for event in Event::ALL {
                assert_eq!(transition(from, event), expected(from, event), "{from:?} + {event:?}");
                pairs += 1;
            }
        }
        assert_eq!(pairs, 70);
    }

    #[test]
    fn names_round_trip() {
        for s in ContractState::ALL {
            assert_eq!(ContractState::parse(s.as_str()), Some(s));
        }
        for m in [
            TerminationMode::User,
            TerminationMode::Merchant,
            TerminationMode::Platform,
        ] {
            assert_eq!(TerminationMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(ContractState::parse("signed"), None);
    }
}
