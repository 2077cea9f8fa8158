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
    /// Signing is refused, for the reason given.
    SigningFailed(SignFailure),
    /// The signing session reached its `expired_time`.
    SessionExpired,
    /// Termination accepted but not final (only through fault injection).
    TerminationStarted,
    /// The contract is terminated by the user, the merchant API or the merchant platform.
    Terminated(TerminationMode),
    /// Deleted through the test-control API.
    Deleted,
}

/// Why signing ended in SIGNFAIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignFailure {
    /// The user pressed Decline.
    Declined,
    /// The user's IP is not the pre-sign's `user_client_ip` (WeChat's risk check).
    ClientIpMismatch,
    /// Another WeChat user than the pre-sign's `openid` tried to sign.
    OpenIdMismatch,
    /// The user already holds a SIGNED contract under the plan (§4 DECISION).
    AlreadySigned,
}

impl SignFailure {
    /// What the signing page tells the user.
    pub fn describe(self) -> &'static str {
        match self {
            SignFailure::Declined => "You declined the authorization.",
            SignFailure::ClientIpMismatch => "Signing was refused: your network address does not match the merchant's.",
            SignFailure::OpenIdMismatch => "Signing was refused: this link was issued to another WeChat user.",
            SignFailure::AlreadySigned => "You already have an auto-debit contract under this plan.",
        }
    }
}

impl Event {
    pub const ALL: [Event; 13] = [
        Event::PresignRenewed,
        Event::UserOpened,
        Event::UserAgreed,
        Event::SigningFailed(SignFailure::Declined),
        Event::SigningFailed(SignFailure::ClientIpMismatch),
        Event::SigningFailed(SignFailure::OpenIdMismatch),
        Event::SigningFailed(SignFailure::AlreadySigned),
        Event::SessionExpired,
        Event::TerminationStarted,
        Event::Terminated(TerminationMode::User),
        Event::Terminated(TerminationMode::Merchant),
        Event::Terminated(TerminationMode::Platform),
        Event::Deleted,
    ];

    /// The event's name in a contract's transition history.
    pub fn label(self) -> &'static str {
        match self {
            Event::PresignRenewed => "PRESIGN_RENEWED",
            Event::UserOpened => "USER_OPENED",
            Event::UserAgreed => "USER_AGREED",
            Event::SigningFailed(SignFailure::Declined) => "USER_DECLINED",
            Event::SigningFailed(SignFailure::ClientIpMismatch) => "SIGNING_FAILED_CLIENT_IP",
            Event::SigningFailed(SignFailure::OpenIdMismatch) => "SIGNING_FAILED_OPENID",
            Event::SigningFailed(SignFailure::AlreadySigned) => "SIGNING_FAILED_ALREADY_SIGNED",
            Event::SessionExpired => "SESSION_EXPIRED",
            Event::TerminationStarted => "TERMINATION_STARTED",
            Event::Terminated(TerminationMode::User) => "TERMINATED_BY_USER",
            Event::Terminated(TerminationMode::Merchant) => "TERMINATED_BY_MERCHANT",
            Event::Terminated(TerminationMode::Platform) => "TERMINATED_BY_PLATFORM",
            Event::Deleted => "DELETED",
        }
    }
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
    /// The signing session reached its `expired_time` (or was replaced by a newer pre-sign).
    SessionExpired,
    /// No signing session has this token.
    UnknownSession,
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
        (NotSign | Signing, Event::SigningFailed(_)) => Ok((SignFail, Effect::None)),
        (NotSign | Signing, Event::SessionExpired) => Ok((NotSign, Effect::None)),
        (_, Event::UserOpened | Event::UserAgreed | Event::SigningFailed(_) | Event::SessionExpired) => {
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

/// Which WeChat Pay API made a contract; decides the wire form of its answers and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Global APIv3 (JSON, RSA signatures, encrypted notifications).
    V3,
    /// Domestic APIv2 `h5entrustweb` (XML, `sign` with the merchant's v2 key).
    V2(V2Terms),
}

/// What a v2 signing request fixed for the contract's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V2Terms {
    /// `request_serial` of the (latest) signing request, echoed in queries and notifications.
    pub request_serial: i64,
    /// The algorithm the signing request's `sign` verified with; notifications use it (§5.5).
    pub sign_type: papay_protocol::v2::sign::SignType,
}

impl Api {
    /// The name stored and shown by the control API.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::V3 => "V3",
            Api::V2(_) => "V2",
        }
    }

    /// The retry schedule (and wire form) of the contract's notifications.
    pub fn schedule(self) -> super::notification::Schedule {
        match self {
            Api::V3 => super::notification::Schedule::V3,
            Api::V2(_) => super::notification::Schedule::V2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub contract_id: ContractId,
    pub api: Api,
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

/// What the simulated WeChat user does with a signing session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAction {
    /// Opens the signing page (or the session in the APP / mini program).
    Open,
    /// Agrees as `openid`, from `client_ip` (`None`: from wherever the pre-sign expected).
    Agree {
        openid: OpenId,
        client_ip: Option<ClientIp>,
    },
    Decline,
    /// Lets the session run out now (test-control API).
    Expire,
}

/// A contract after an event, and what the event asks of the outside world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub contract: Contract,
    pub event: Event,
    pub effect: Effect,
}

impl Change {
    /// Whether anything was changed (re-opening an open page changes nothing).
    pub fn is_noop(&self, before: &Contract) -> bool {
        &self.contract == before
    }
}

impl Contract {
    /// Whether the signing session still accepts the user at `now`.
    pub fn session_live(&self, now: OffsetDateTime) -> bool {
        matches!(self.state, ContractState::NotSign | ContractState::Signing) && now < self.session.expires_at
    }

    /// The event a user action amounts to at `now`, or why the session refuses it.
    pub fn user_event(&self, action: &UserAction, now: OffsetDateTime) -> Result<Event, Refusal> {
        if !matches!(self.state, ContractState::NotSign | ContractState::Signing) {
            return Err(Refusal::SessionClosed);
        }
        if now >= self.session.expires_at {
            return Err(Refusal::SessionExpired);
        }
        Ok(match action {
            UserAction::Open => Event::UserOpened,
            UserAction::Decline => Event::SigningFailed(SignFailure::Declined),
            UserAction::Expire => Event::SessionExpired,
            UserAction::Agree { openid, client_ip } => {
                if self.openid.as_ref().is_some_and(|o| o != openid) {
                    Event::SigningFailed(SignFailure::OpenIdMismatch)
                } else if let (Some(expected), Some(actual)) = (&self.session.user_client_ip, client_ip) {
                    if expected.same_address(actual) {
                        Event::UserAgreed
                    } else {
                        Event::SigningFailed(SignFailure::ClientIpMismatch)
                    }
                } else {
                    Event::UserAgreed
                }
            }
        })
    }

    /// The contract after `event` at `now`: the state from [`transition`] plus the fields the
    /// event sets. `signer` is the agreeing user (agreement events); `validity_days` is the
    /// plan's contract validity; `note` goes with a termination.
    pub fn apply(
        &self,
        event: Event,
        now: OffsetDateTime,
        signer: Option<&OpenId>,
        validity_days: u32,
        note: Option<&TerminationNote>,
    ) -> Result<Change, Refusal> {
        let (state, effect) = transition(self.state, event)?;
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let mut next = Contract { state, ..self.clone() };
        match event {
            Event::UserAgreed => {
                next.signed_time = Some(now);
                next.expired_time = Some(now + time::Duration::days(i64::from(validity_days)));
                next.openid = signer.cloned().or(next.openid);
            }
            Event::SigningFailed(SignFailure::AlreadySigned) => next.openid = signer.cloned().or(next.openid),
            Event::SessionExpired => next.session.expires_at = next.session.expires_at.min(now),
            Event::Terminated(mode) => {
                next.terminated_time = Some(now);
                next.termination_mode = Some(mode);
                next.termination_note = note.cloned();
            }
            Event::PresignRenewed
            | Event::UserOpened
            | Event::SigningFailed(_)
            | Event::TerminationStarted
            | Event::Deleted => {}
        }
        Ok(Change {
            contract: next,
            event,
            effect,
        })
    }

    /// The state a reader sees at `now`: a SIGNING contract whose session ran out reads NOTSIGN
    /// (§4: the expired-session case keeps NOTSIGN), whether or not anyone has touched it since.
    pub fn observed(mut self, now: OffsetDateTime) -> Contract {
        if self.state == ContractState::Signing && now >= self.session.expires_at {
            self.state = ContractState::NotSign;
        }
        self
    }
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
                Event::SigningFailed(_) => match from {
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
        assert_eq!(pairs, 91);
    }

    fn contract(state: ContractState, openid: Option<&str>, ip: Option<&str>) -> Contract {
        let at = time::macros::datetime!(2026-11-27 10:00:00 UTC);
        Contract {
            contract_id: ContractId::from_stored("20261127000000000001".into()),
            api: Api::V3,
            mchid: Mchid::parse("1900000100").unwrap(),
            party: Party::Common {
                appid: AppId::parse("wx8a3e6b0c5d2f4e71").unwrap(),
            },
            plan_id: PlanId::new(12535).unwrap(),
            out_contract_code: OutContractCode::from_stored("C1".into()),
            user_display_name: None,
            openid: openid.map(|o| OpenId::from_stored(o.into())),
            success_notify_url: NotifyUrl::from_stored("https://m.example/n".into()),
            state,
            session: Session {
                token: SessionToken::from_stored("1".into()),
                channel: Channel::Jsapi,
                expires_at: at + time::Duration::hours(2),
                return_url: None,
                return_appid: None,
                user_client_ip: ip.map(|i| ClientIp::from_stored(i.into())),
            },
            created_at: at,
            signed_time: None,
            expired_time: None,
            terminated_time: None,
            termination_mode: None,
            termination_note: None,
        }
    }

    fn agree(openid: &str, ip: Option<&str>) -> UserAction {
        UserAction::Agree {
            openid: OpenId::from_stored(openid.into()),
            client_ip: ip.map(|i| ClientIp::from_stored(i.into())),
        }
    }

    #[test]
    fn user_actions_become_events_while_the_session_lives() {
        let c = contract(NotSign, Some("o1"), Some("10.0.0.7"));
        let now = c.created_at + time::Duration::minutes(1);
        assert_eq!(c.user_event(&UserAction::Open, now), Ok(Event::UserOpened));
        assert_eq!(c.user_event(&agree("o1", None), now), Ok(Event::UserAgreed));
        assert_eq!(c.user_event(&agree("o1", Some("10.0.0.7")), now), Ok(Event::UserAgreed));
        assert_eq!(
            c.user_event(&agree("o1", Some("::ffff:10.0.0.7")), now),
            Ok(Event::UserAgreed)
        );
        assert_eq!(
            c.user_event(&agree("o1", Some("10.0.0.8")), now),
            Ok(Event::SigningFailed(SignFailure::ClientIpMismatch))
        );
        assert_eq!(
            c.user_event(&agree("o2", None), now),
            Ok(Event::SigningFailed(SignFailure::OpenIdMismatch))
        );
        assert_eq!(
            c.user_event(&UserAction::Decline, now),
            Ok(Event::SigningFailed(SignFailure::Declined))
        );
        assert_eq!(c.user_event(&UserAction::Expire, now), Ok(Event::SessionExpired));
        let late = c.session.expires_at;
        for action in [
            UserAction::Open,
            agree("o1", None),
            UserAction::Decline,
            UserAction::Expire,
        ] {
            assert_eq!(c.user_event(&action, late), Err(Refusal::SessionExpired), "{action:?}");
        }
        for state in [Signed, SignFail, Terminating, Terminated, Delete] {
            let closed = contract(state, Some("o1"), None);
            assert_eq!(
                closed.user_event(&UserAction::Open, now),
                Err(Refusal::SessionClosed),
                "{state:?}"
            );
        }
    }

    #[test]
    fn apply_sets_the_fields_each_event_owns() {
        let c = contract(Signing, None, None);
        let now = c.created_at + time::Duration::seconds(90) + time::Duration::milliseconds(250);
        let whole = c.created_at + time::Duration::seconds(90);
        let signer = OpenId::from_stored("o9".into());

        let signed = c.apply(Event::UserAgreed, now, Some(&signer), 30, None).unwrap();
        assert_eq!(signed.effect, Effect::NotifySigned);
        assert_eq!(signed.contract.state, Signed);
        assert_eq!(signed.contract.signed_time, Some(whole));
        assert_eq!(signed.contract.expired_time, Some(whole + time::Duration::days(30)));
        assert_eq!(signed.contract.openid, Some(signer.clone()));

        let expired = c.apply(Event::SessionExpired, now, None, 30, None).unwrap();
        assert_eq!(expired.contract.state, NotSign);
        assert_eq!(expired.contract.session.expires_at, whole);

        let declined = c
            .apply(
                Event::SigningFailed(SignFailure::Declined),
                now,
                Some(&signer),
                30,
                None,
            )
            .unwrap();
        assert_eq!(
            (declined.contract.state, declined.contract.openid.clone()),
            (SignFail, None)
        );

        let note = TerminationNote::from_stored("moved away".into());
        let ended = signed
            .contract
            .apply(Event::Terminated(TerminationMode::User), now, None, 30, Some(&note))
            .unwrap();
        assert_eq!(ended.effect, Effect::NotifyTerminated);
        assert_eq!(ended.contract.terminated_time, Some(whole));
        assert_eq!(ended.contract.termination_mode, Some(TerminationMode::User));
        assert_eq!(ended.contract.termination_note, Some(note));
        assert_eq!(
            ended
                .contract
                .apply(Event::Terminated(TerminationMode::Platform), now, None, 30, None),
            Err(Refusal::NotTerminable)
        );

        let reopened = c.apply(Event::UserOpened, now, None, 30, None).unwrap();
        assert!(reopened.is_noop(&c), "opening an open page changes nothing");
    }

    #[test]
    fn a_lapsed_signing_session_reads_notsign() {
        let c = contract(Signing, None, None);
        assert_eq!(c.clone().observed(c.created_at).state, Signing);
        assert_eq!(c.clone().observed(c.session.expires_at).state, NotSign);
        let signed = contract(Signed, None, None);
        assert_eq!(signed.clone().observed(signed.session.expires_at).state, Signed);
    }

    #[test]
    fn every_event_has_its_own_history_label() {
        let labels: std::collections::HashSet<_> = Event::ALL.iter().map(|e| e.label()).collect();
        assert_eq!(labels.len(), Event::ALL.len());
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
