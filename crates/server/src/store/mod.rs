//! Persistence behind one trait of whole use-cases, so the domain and HTTP layers never
//! know which database runs. SQLite is the embedded default; PostgreSQL comes with the
//! multi-instance work (issue 8) as a second implementation of the same trait.

mod sqlite;

use async_trait::async_trait;

use crate::domain::ids::Mchid;
use crate::domain::merchant::{Merchant, Plan};

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

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
