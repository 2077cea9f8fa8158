//! Persistence behind one trait of whole use-cases, so the domain and HTTP layers never
//! know which database runs. SQLite is the embedded default; PostgreSQL comes with the
//! multi-instance work (issue 8) as a second implementation of the same trait.

mod sqlite;

use async_trait::async_trait;

use time::OffsetDateTime;

use crate::domain::contract::{Contract, Refusal, TerminationMode};
use crate::domain::ids::{Mchid, PlanId};
use crate::domain::merchant::{Merchant, Plan};
use crate::domain::values::{ContractId, OpenId, OutContractCode, TerminationNote};

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
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Demo => "demo",
        }
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Makes the stored merchants and plans match the given ones, in one transaction:
    /// each merchant's credentials, AppIDs, sub-merchants and platform keys are replaced
    /// by exactly those given; plans likewise. Applying the same set twice changes nothing.
    async fn provision(&self, merchants: &[Merchant], plans: &[Plan], origin: Origin) -> Result<(), StoreError>;

    /// A merchant with all its keys, parsed, or `None`.
    async fn merchant(&self, mchid: &Mchid) -> Result<Option<Merchant>, StoreError>;

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

    /// The user agrees on the signing page: SIGNED with `signed_time = now` and the contract's
    /// expiry, and a `PAPAY.SIGN` notification, in one transaction; SIGNFAIL instead when the
    /// openid already holds a SIGNED contract under the plan. Refused once the session is over.
    async fn agree(
        &self,
        contract_id: &ContractId,
        openid: &OpenId,
        now: OffsetDateTime,
    ) -> Result<Result<Contract, Refusal>, StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
