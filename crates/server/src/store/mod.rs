//! Persistence behind one trait of whole use-cases, so the domain and HTTP layers never
//! know which database runs. SQLite is the embedded default; PostgreSQL serves several
//! instances sharing one database (issue 8), a second implementation of the same trait.

mod postgres;
mod rows;
mod sqlite;

use async_trait::async_trait;

use time::OffsetDateTime;

use crate::domain::clock::VirtualClock;
use crate::domain::contract::{Change, Contract, ContractState, Refusal, TerminationMode, UserAction};
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::ids::{Mchid, PlanId};
use crate::domain::merchant::{Merchant, Plan, SandboxState};
use crate::domain::notification::{AttemptOutcome, DeliveryStatus, Schedule};
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};

/// A signing link's session as the store knows it.
#[derive(Debug, Clone)]
pub enum SessionLookup {
    /// The contract's current session.
    Current(Contract),
    /// A session a newer pre-sign of the same code replaced.
    Replaced(Contract),
}

/// One line of a contract's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub event: String,
    pub from: Option<ContractState>,
    pub to: ContractState,
    pub at: OffsetDateTime,
}

/// A notification a worker claimed to send.
#[derive(Debug, Clone)]
pub struct ClaimedNotification {
    pub id: String,
    pub contract_id: ContractId,
    pub mchid: Mchid,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    /// The envelope, once fixed by the first attempt.
    pub body: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Merchant time the retry offsets count from.
    pub schedule_base: OffsetDateTime,
    /// The retry schedule (and wire form) of the contract's API.
    pub schedule: Schedule,
}

/// One delivery attempt to record, and where it leaves the notification.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub notification_id: String,
    pub at: OffsetDateTime,
    pub virtual_at: OffsetDateTime,
    pub url: String,
    pub http_status: Option<u16>,
    pub latency: std::time::Duration,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub response_head: Option<String>,
    pub status: DeliveryStatus,
    /// Merchant time of the next attempt, if any.
    pub next_due: Option<OffsetDateTime>,
}

/// A recorded attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub number: u32,
    pub at: OffsetDateTime,
    pub virtual_at: OffsetDateTime,
    pub url: String,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub response_head: Option<String>,
}

/// A notification with its delivery state (and, when fetched alone, its log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: String,
    pub contract_id: ContractId,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Merchant time of the next attempt while pending.
    pub next_due: Option<OffsetDateTime>,
    pub body: Option<String>,
    pub log: Vec<AttemptRecord>,
}

/// Which of a merchant's notifications to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub contract_id: Option<ContractId>,
    pub event_type: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub limit: u32,
}

/// Which of a merchant's contracts to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    pub state: Option<ContractState>,
    pub plan_id: Option<PlanId>,
    pub out_contract_code: Option<OutContractCode>,
    pub limit: u32,
}

/// What deleting a merchant did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    NotFound,
    /// Only throwaway merchants can be deleted; configured ones come back at the next start.
    NotThrowaway,
}

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Where a merchant came from; provisioning only ever replaces its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Config,
    Demo,
    /// A throwaway merchant made through the control API.
    Sandbox,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Demo => "demo",
            Origin::Sandbox => "sandbox",
        }
    }

    fn parse(s: &str) -> Option<Origin> {
        [Origin::Config, Origin::Demo, Origin::Sandbox]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// A merchant as an overview lists it: where it came from, whether its deliveries are held,
/// its plans and how much it holds. No credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantListing {
    pub mchid: Mchid,
    pub origin: Origin,
    pub notifications_paused: bool,
    pub plan_ids: Vec<PlanId>,
    pub contracts: u64,
    pub pending_notifications: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Makes the stored merchants and plans match the given ones, in one transaction:
    /// each merchant's credentials, AppIDs, sub-merchants and platform keys are replaced
    /// by exactly those given; plans likewise. Applying the same set twice changes nothing.
    async fn provision(&self, merchants: &[Merchant], plans: &[Plan], origin: Origin) -> Result<(), StoreError>;

    /// A merchant with all its keys, parsed, or `None`.
    async fn merchant(&self, mchid: &Mchid) -> Result<Option<Merchant>, StoreError>;

    /// Only the merchant's test-control state (clock, pending faults), one cheap row read:
    /// what must be current on every call when several instances share the database.
    async fn sandbox_state(&self, mchid: &Mchid) -> Result<Option<SandboxState>, StoreError>;

    /// Whether other papay instances may write to the same database (so caches must not
    /// hold state they change).
    fn shared(&self) -> bool;

    async fn plan(&self, plan_id: PlanId) -> Result<Option<Plan>, StoreError>;

    /// Records a pre-sign. A new code creates `contract`; a code already known under the same
    /// merchant, sub-merchant and plan is renewed (fresh session, same contract id) if the state
    /// machine allows, else refused (`CONTRACT_EXISTED`). Race-free against concurrent callers.
    async fn presign(&self, contract: &Contract) -> Result<Result<Contract, Refusal>, StoreError>;

    /// The contract with this id whoever its merchant (user side and control API only).
    async fn contract(&self, contract_id: &ContractId) -> Result<Option<Contract>, StoreError>;

    /// The merchant's contract with this id (any sub-merchant), or `None`.
    async fn contract_by_id(&self, mchid: &Mchid, contract_id: &ContractId) -> Result<Option<Contract>, StoreError>;

    /// The merchant's contract with this code under the plan and sub-merchant, or `None`.
    async fn contract_by_code(
        &self,
        mchid: &Mchid,
        sub_mchid: Option<&Mchid>,
        plan_id: PlanId,
        code: &OutContractCode,
    ) -> Result<Option<Contract>, StoreError>;

    /// Terminates a contract if the state machine allows, recording the transition and the
    /// `PAPAY.TERMINATE` notification in the same transaction.
    async fn terminate(
        &self,
        mchid: &Mchid,
        contract_id: &ContractId,
        mode: TerminationMode,
        note: Option<&TerminationNote>,
        now: OffsetDateTime,
    ) -> Result<Result<Contract, Refusal>, StoreError>;

    /// The session behind a signing link's token, current or replaced.
    async fn session(&self, token: &str) -> Result<Option<SessionLookup>, StoreError>;

    /// The simulated user acts on a session at `now` (the merchant's time): one transaction
    /// that checks the session, applies the state machine, and records the transition and any
    /// notification. Agreeing while the openid holds a SIGNED contract under the plan ends in
    /// SIGNFAIL. Unknown tokens are `Refusal::UnknownSession`, replaced ones `SessionExpired`.
    async fn act_on_session(
        &self,
        token: &str,
        action: &UserAction,
        now: OffsetDateTime,
    ) -> Result<Result<Change, Refusal>, StoreError>;

    /// The merchant's contracts matching `filter`, newest first.
    async fn contracts(&self, mchid: &Mchid, filter: &ContractFilter) -> Result<Vec<Contract>, StoreError>;

    /// A contract's history, oldest first.
    async fn transitions(&self, contract_id: &ContractId) -> Result<Vec<Transition>, StoreError>;

    /// Claims up to `limit` due notifications for `lease` (real time), oldest due first; none of
    /// a paused merchant.
    async fn claim_notifications(
        &self,
        owner: &str,
        now_real: OffsetDateTime,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedNotification>, StoreError>;

    /// Fixes notifications' envelopes (id, body) unless fixed already, in one transaction;
    /// answers the stored ones by id.
    async fn fix_notification_bodies(
        &self,
        bodies: &[(String, String)],
    ) -> Result<std::collections::HashMap<String, String>, StoreError>;

    /// The contracts with these ids (missing ones are left out).
    async fn contracts_by_ids(&self, ids: &[ContractId]) -> Result<Vec<Contract>, StoreError>;

    /// Records attempts and releases `owner`'s leases on them, in one transaction.
    async fn record_attempts(&self, owner: &str, attempts: &[Attempt]) -> Result<(), StoreError>;

    /// The earliest real time a pending notification falls due.
    async fn next_notification_due(&self) -> Result<Option<OffsetDateTime>, StoreError>;

    /// One more attempt of the merchant's notification, now; false if it has no such one.
    async fn resend_notification(
        &self,
        mchid: &Mchid,
        id: &str,
        virtual_now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Pauses or resumes the merchant's deliveries; false if no such merchant.
    async fn set_notifications_paused(&self, mchid: &Mchid, paused: bool) -> Result<bool, StoreError>;

    /// The merchant's notifications matching `filter`, newest first, without their logs.
    async fn notifications_of(
        &self,
        mchid: &Mchid,
        filter: &NotificationFilter,
    ) -> Result<Vec<NotificationRecord>, StoreError>;

    /// One notification with its delivery log, and its merchant.
    async fn notification(&self, id: &str) -> Result<Option<(Mchid, NotificationRecord)>, StoreError>;

    /// Sets (or with `None` removes) the merchant's virtual clock, re-timing its pending
    /// notifications; false if no such merchant.
    async fn set_clock(&self, mchid: &Mchid, clock: Option<VirtualClock>) -> Result<bool, StoreError>;

    /// Adds a fault for the merchant's next `count` calls of `endpoint`.
    async fn add_fault(
        &self,
        mchid: &Mchid,
        endpoint: FaultEndpoint,
        kind: FaultKind,
        count: u32,
        latency_ms: u32,
    ) -> Result<Fault, StoreError>;

    /// The merchant's faults with calls left, oldest first.
    async fn faults(&self, mchid: &Mchid) -> Result<Vec<Fault>, StoreError>;

    async fn clear_faults(&self, mchid: &Mchid) -> Result<(), StoreError>;

    /// Consumes one call of the oldest pending fault matching `endpoint` (or `*`), atomically,
    /// so N instances together affect exactly `count` calls.
    async fn take_fault(&self, mchid: &Mchid, endpoint: FaultEndpoint) -> Result<Option<Fault>, StoreError>;

    /// Creates a throwaway merchant with its plans; false if the mchid or a plan id is taken.
    async fn create_merchant(
        &self,
        merchant: &Merchant,
        plans: &[Plan],
        control_token_sha256: &str,
    ) -> Result<bool, StoreError>;

    /// Deletes a throwaway merchant with everything it owns.
    async fn delete_merchant(&self, mchid: &Mchid) -> Result<Deleted, StoreError>;

    /// Removes the merchant's contracts (with their history, links and notifications), faults
    /// and virtual clock; the merchant and its plans stay.
    async fn reset_merchant(&self, mchid: &Mchid) -> Result<(), StoreError>;

    /// Every merchant, by mchid, as an overview lists it.
    async fn merchant_listing(&self) -> Result<Vec<MerchantListing>, StoreError>;

    /// The merchant whose control token hashes to `sha256_hex`.
    async fn merchant_by_control_token(&self, sha256_hex: &str) -> Result<Option<Mchid>, StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The figures `/metrics` reads from the database at scrape time.
    async fn gauges(&self) -> Result<StoreGauges, StoreError>;
}

/// Counts over the whole database (every merchant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreGauges {
    /// Contracts per state; states with none may be missing.
    pub contracts_by_state: Vec<(ContractState, i64)>,
    /// Notifications still to be delivered.
    pub notifications_pending: i64,
}

/// Reads `SELECT state, COUNT(*) … GROUP BY state` rows; an unknown state is corruption.
pub(crate) fn contract_counts(rows: Vec<(String, i64)>) -> Result<Vec<(ContractState, i64)>, StoreError> {
    rows.into_iter()
        .map(|(state, n)| {
            ContractState::parse(&state)
                .map(|s| (s, n))
                .ok_or_else(|| StoreError::Corrupt(format!("unknown contract state {state:?}")))
        })
        .collect()
}

/// The queries behind [`Store::gauges`], the same on both databases.
pub(crate) const CONTRACTS_BY_STATE: &str = "SELECT state, COUNT(*) FROM contracts GROUP BY state";
pub(crate) const NOTIFICATIONS_PENDING: &str = "SELECT COUNT(*) FROM notification_outbox WHERE status = 'PENDING'";
