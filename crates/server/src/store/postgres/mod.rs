//! The PostgreSQL store, for several papay instances sharing one database behind a load
//! balancer. The same use-cases as the SQLite store, in lockstep (`migrations/postgres`
//! mirrors `migrations/sqlite`); concurrency is the database's job: uniqueness by constraints,
//! read-modify-write under row locks, notification claims with `FOR UPDATE SKIP LOCKED` and
//! leases that another instance takes over once they run out.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::{PrivateKey, PublicKey};
use papay_protocol::pki::Certificate;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Row};

mod contracts;
mod notifications;
mod sandbox;

use super::rows::{self, from_ms, ms, sandbox_state};
#[cfg(test)]
mod tests;

use time::OffsetDateTime;

use super::{
    Attempt, ClaimedNotification, ContractFilter, Deleted, MerchantListing, NotificationFilter, NotificationRecord,
    Origin, SessionLookup, Store, StoreError, StoreGauges, Transition,
};
use crate::domain::clock::VirtualClock;
use crate::domain::contract::{Change, UserAction};
use crate::domain::contract::{Contract, Refusal, TerminationMode};
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::ids::{AppId, Mchid, PlanId, PublicKeyId, Serial};
use crate::domain::merchant::{
    ApiCredential, KeyOrigin, Merchant, Plan, PlatformKey, SandboxState, SubMerchant, V2Key,
};
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Reads that span several statements see one snapshot (and take no locks).
const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://` URL and applies pending migrations (serialised across
    /// instances by sqlx's advisory lock). Leases are left alone: other instances may hold them.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }
}

/// Inserts or replaces a merchant with its credentials, AppIDs, sub-merchants and platform keys.
async fn write_merchant(conn: &mut PgConnection, m: &Merchant, origin: Origin, now: i64) -> Result<(), StoreError> {
    let mchid = m.mchid.as_str();
    sqlx::query(
        "INSERT INTO merchants (mchid, name, apiv3_key, v2_key, origin, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (mchid) DO UPDATE SET name = excluded.name, apiv3_key = excluded.apiv3_key,
             v2_key = excluded.v2_key, origin = excluded.origin, updated_at = excluded.updated_at",
    )
    .bind(mchid)
    .bind(&m.name)
    .bind(m.apiv3_key.as_ref().map(|k| k.expose().to_string()))
    .bind(m.v2_key.as_ref().map(|k| k.expose().to_string()))
    .bind(origin.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for table in ["merchant_api_credentials", "platform_keys", "merchant_appids"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE mchid = $1"))
            .bind(mchid)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM sub_merchants WHERE sp_mchid = $1")
        .bind(mchid)
        .execute(&mut *conn)
        .await?;
    for c in &m.api_credentials {
        sqlx::query(
            "INSERT INTO merchant_api_credentials (mchid, serial, public_key_pem, certificate_pem) VALUES ($1, $2, $3, $4)",
        )
        .bind(mchid)
        .bind(c.serial.as_str())
        .bind(c.public_key.to_pem())
        .bind(c.certificate.as_ref().map(|c| c.pem().to_string()))
        .execute(&mut *conn)
        .await?;
    }
    for k in &m.platform_keys {
        let private_pem = k
            .private_key
            .to_pkcs8_pem()
            .map_err(|e| corrupt("platform key", mchid, e))?;
        sqlx::query(
            "INSERT INTO platform_keys (mchid, serial, private_key_pem, certificate_pem, public_key_id, generated)
                 VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(mchid)
        .bind(k.serial.as_str())
        .bind(private_pem)
        .bind(k.certificate.pem())
        .bind(k.public_key_id.as_ref().map(|i| i.as_str().to_string()))
        .bind(k.origin == KeyOrigin::Generated)
        .execute(&mut *conn)
        .await?;
    }
    for appid in &m.appids {
        sqlx::query("INSERT INTO merchant_appids (mchid, appid) VALUES ($1, $2)")
            .bind(mchid)
            .bind(appid.as_str())
            .execute(&mut *conn)
            .await?;
    }
    for sub in &m.sub_merchants {
        sqlx::query("INSERT INTO sub_merchants (sp_mchid, sub_mchid) VALUES ($1, $2)")
            .bind(mchid)
            .bind(sub.sub_mchid.as_str())
            .execute(&mut *conn)
            .await?;
        for appid in &sub.sub_appids {
            sqlx::query("INSERT INTO sub_merchant_appids (sp_mchid, sub_mchid, appid) VALUES ($1, $2, $3)")
                .bind(mchid)
                .bind(sub.sub_mchid.as_str())
                .bind(appid.as_str())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Inserts or replaces a plan and its sub-merchant permissions.
async fn write_plan(conn: &mut PgConnection, p: &Plan) -> Result<(), StoreError> {
    sqlx::query(
            "INSERT INTO plans (plan_id, mchid, name, termination_notify_url, contract_validity_days) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (plan_id) DO UPDATE SET mchid = excluded.mchid, name = excluded.name,
             termination_notify_url = excluded.termination_notify_url, contract_validity_days = excluded.contract_validity_days",
        )
        .bind(p.plan_id.get())
        .bind(p.mchid.as_str())
        .bind(&p.name)
        .bind(&p.termination_notify_url)
        .bind(i64::from(p.contract_validity_days))
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM plan_sub_merchants WHERE plan_id = $1")
        .bind(p.plan_id.get())
        .execute(&mut *conn)
        .await?;
    for sub in &p.sub_mchids {
        sqlx::query("INSERT INTO plan_sub_merchants (plan_id, sub_mchid) VALUES ($1, $2)")
            .bind(p.plan_id.get())
            .bind(sub.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn corrupt(what: &str, owner: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} of {owner}: {e}"))
}

#[async_trait]
impl Store for PgStore {
    async fn provision(&self, merchants: &[Merchant], plans: &[Plan], origin: Origin) -> Result<(), StoreError> {
        // Instances starting at once provision the same set: each upsert locks its row (or waits
        // for the other's insert), so their transactions apply one after the other. Rows are
        // written in key order, so two differently ordered sets cannot deadlock.
        let mut merchants: Vec<&Merchant> = merchants.iter().collect();
        merchants.sort_by(|a, b| a.mchid.as_str().cmp(b.mchid.as_str()));
        let mut plans: Vec<&Plan> = plans.iter().collect();
        plans.sort_by_key(|p| p.plan_id.get());
        let mut tx = self.pool.begin().await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for m in merchants {
            write_merchant(&mut tx, m, origin, now).await?;
        }
        for p in plans {
            write_plan(&mut tx, p).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn merchant(&self, mchid: &Mchid) -> Result<Option<Merchant>, StoreError> {
        let id = mchid.as_str();
        // One snapshot for all the reads, so a concurrent provisioning is seen whole or not at all.
        let mut tx = self.pool.begin_with(SNAPSHOT).await?;
        let Some(row) = sqlx::query(
            "SELECT name, apiv3_key, v2_key, origin, clock_anchor_real_ms, clock_anchor_virtual_ms, clock_speed,
             EXISTS (SELECT 1 FROM faults f WHERE f.mchid = merchants.mchid AND f.remaining > 0) AS faults_pending
             FROM merchants WHERE mchid = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let apiv3_key = row
            .get::<Option<String>, _>("apiv3_key")
            .map(|k| ApiV3Key::parse(&k))
            .transpose()
            .map_err(|e| corrupt("APIv3 key", id, e))?;
        let v2_key = row
            .get::<Option<String>, _>("v2_key")
            .map(|k| V2Key::parse(&k))
            .transpose()
            .map_err(|e| corrupt("v2 key", id, e))?;

        let mut api_credentials = Vec::new();
        for r in sqlx::query("SELECT serial, public_key_pem, certificate_pem FROM merchant_api_credentials WHERE mchid = $1 ORDER BY serial")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
        {
            let serial = Serial::parse(r.get("serial")).map_err(|e| corrupt("API serial", id, e))?;
            let public_key = PublicKey::from_pem(r.get("public_key_pem")).map_err(|e| corrupt("API public key", id, e))?;
            let certificate = r
                .get::<Option<String>, _>("certificate_pem")
                .map(|pem| Certificate::from_pem(&pem))
                .transpose()
                .map_err(|e| corrupt("API certificate", id, e))?;
            api_credentials.push(ApiCredential { serial, public_key, certificate });
        }

        let mut platform_keys = Vec::new();
        for r in sqlx::query(
            "SELECT private_key_pem, certificate_pem, public_key_id, generated FROM platform_keys WHERE mchid = $1 ORDER BY serial",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        {
            let key = PrivateKey::from_pem(r.get("private_key_pem")).map_err(|e| corrupt("platform key", id, e))?;
            let cert = Certificate::from_pem(r.get("certificate_pem")).map_err(|e| corrupt("platform certificate", id, e))?;
            let pk_id = r
                .get::<Option<String>, _>("public_key_id")
                .map(|s| PublicKeyId::parse(&s))
                .transpose()
                .map_err(|e| corrupt("public key id", id, e))?;
            let origin = if r.get::<bool, _>("generated") { KeyOrigin::Generated } else { KeyOrigin::Imported };
            platform_keys.push(PlatformKey::new(key, cert, pk_id, origin).map_err(|e| corrupt("platform key", id, e))?);
        }

        let appids =
            sqlx::query_scalar::<_, String>("SELECT appid FROM merchant_appids WHERE mchid = $1 ORDER BY appid")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|a| AppId::parse(a))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| corrupt("AppID", id, e))?;

        let mut sub_merchants = Vec::new();
        for sub in sqlx::query_scalar::<_, String>(
            "SELECT sub_mchid FROM sub_merchants WHERE sp_mchid = $1 ORDER BY sub_mchid",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        {
            let sub_appids = sqlx::query_scalar::<_, String>(
                "SELECT appid FROM sub_merchant_appids WHERE sp_mchid = $1 AND sub_mchid = $2 ORDER BY appid",
            )
            .bind(id)
            .bind(&sub)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|a| AppId::parse(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("sub-merchant AppID", id, e))?;
            let sub_mchid = Mchid::parse(&sub).map_err(|e| corrupt("sub_mchid", id, e))?;
            sub_merchants.push(SubMerchant { sub_mchid, sub_appids });
        }

        tx.commit().await?;
        Ok(Some(Merchant {
            mchid: mchid.clone(),
            name: row.get("name"),
            apiv3_key,
            v2_key,
            api_credentials,
            platform_keys,
            appids,
            sub_merchants,
            sandbox: sandbox_state(&row).map_err(|e| corrupt("virtual clock", id, e))?,
        }))
    }

    async fn sandbox_state(&self, mchid: &Mchid) -> Result<Option<SandboxState>, StoreError> {
        sqlx::query(
            "SELECT origin, clock_anchor_real_ms, clock_anchor_virtual_ms, clock_speed,
             EXISTS (SELECT 1 FROM faults f WHERE f.mchid = merchants.mchid AND f.remaining > 0) AS faults_pending
             FROM merchants WHERE mchid = $1",
        )
        .bind(mchid.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| sandbox_state(&row))
        .transpose()
    }

    fn shared(&self) -> bool {
        true
    }

    async fn plan(&self, plan_id: PlanId) -> Result<Option<Plan>, StoreError> {
        let mut tx = self.pool.begin_with(SNAPSHOT).await?;
        let Some(row) = sqlx::query(
            "SELECT mchid, name, termination_notify_url, contract_validity_days FROM plans WHERE plan_id = $1",
        )
        .bind(plan_id.get())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let id = plan_id.to_string();
        let sub_mchids = sqlx::query_scalar::<_, String>(
            "SELECT sub_mchid FROM plan_sub_merchants WHERE plan_id = $1 ORDER BY sub_mchid",
        )
        .bind(plan_id.get())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|s| Mchid::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("plan sub-merchant", &id, e))?;
        tx.commit().await?;
        Ok(Some(Plan {
            plan_id,
            mchid: Mchid::parse(row.get("mchid")).map_err(|e| corrupt("plan owner", &id, e))?,
            name: row.get("name"),
            sub_mchids,
            termination_notify_url: row.get("termination_notify_url"),
            contract_validity_days: u32::try_from(row.get::<i64, _>("contract_validity_days"))
                .map_err(|e| corrupt("plan validity", &id, e))?,
        }))
    }

    async fn presign(&self, contract: &Contract) -> Result<Result<Contract, Refusal>, StoreError> {
        contracts::presign(&self.pool, contract).await
    }

    async fn contract(&self, contract_id: &ContractId) -> Result<Option<Contract>, StoreError> {
        contracts::by_id(&self.pool, None, contract_id).await
    }

    async fn contract_by_id(&self, mchid: &Mchid, contract_id: &ContractId) -> Result<Option<Contract>, StoreError> {
        contracts::by_id(&self.pool, Some(mchid), contract_id).await
    }

    async fn contract_by_code(
        &self,
        mchid: &Mchid,
        sub_mchid: Option<&Mchid>,
        plan_id: PlanId,
        code: &OutContractCode,
    ) -> Result<Option<Contract>, StoreError> {
        contracts::by_code(&self.pool, mchid, sub_mchid, plan_id, code).await
    }

    async fn terminate(
        &self,
        mchid: &Mchid,
        contract_id: &ContractId,
        mode: TerminationMode,
        note: Option<&TerminationNote>,
        now: OffsetDateTime,
    ) -> Result<Result<Contract, Refusal>, StoreError> {
        contracts::terminate(&self.pool, Some(mchid), contract_id, mode, note, now).await
    }

    async fn session(&self, token: &str) -> Result<Option<SessionLookup>, StoreError> {
        contracts::session(&self.pool, token).await
    }

    async fn act_on_session(
        &self,
        token: &str,
        action: &UserAction,
        now: OffsetDateTime,
    ) -> Result<Result<Change, Refusal>, StoreError> {
        contracts::act_on_session(&self.pool, token, action, now).await
    }

    async fn contracts(&self, mchid: &Mchid, filter: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
        contracts::list(&self.pool, mchid, filter).await
    }

    async fn transitions(&self, contract_id: &ContractId) -> Result<Vec<Transition>, StoreError> {
        contracts::transitions(&self.pool, contract_id).await
    }

    async fn set_clock(&self, mchid: &Mchid, clock: Option<VirtualClock>) -> Result<bool, StoreError> {
        // The merchant row stays locked (by the update) until the queue is re-timed to match.
        let mut tx = self.pool.begin().await?;
        let found = sandbox::set_clock(&mut tx, mchid, clock).await?;
        notifications::retime(&mut tx, mchid).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn claim_notifications(
        &self,
        owner: &str,
        now_real: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedNotification>, StoreError> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        notifications::claim(&self.pool, owner, now_real, lease_ms, limit).await
    }

    async fn fix_notification_bodies(
        &self,
        bodies: &[(String, String)],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        notifications::fix_bodies(&self.pool, bodies).await
    }

    async fn contracts_by_ids(&self, ids: &[ContractId]) -> Result<Vec<Contract>, StoreError> {
        contracts::by_ids(&self.pool, ids).await
    }

    async fn record_attempts(&self, owner: &str, attempts: &[Attempt]) -> Result<(), StoreError> {
        notifications::record(&self.pool, owner, attempts).await
    }

    async fn next_notification_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        notifications::next_due(&self.pool).await
    }

    async fn resend_notification(
        &self,
        mchid: &Mchid,
        id: &str,
        virtual_now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        notifications::resend(&self.pool, mchid, id, virtual_now).await
    }

    async fn set_notifications_paused(&self, mchid: &Mchid, paused: bool) -> Result<bool, StoreError> {
        notifications::set_paused(&self.pool, mchid, paused).await
    }

    async fn notifications_of(
        &self,
        mchid: &Mchid,
        filter: &NotificationFilter,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        notifications::list(&self.pool, mchid, filter).await
    }

    async fn notification(&self, id: &str) -> Result<Option<(Mchid, NotificationRecord)>, StoreError> {
        notifications::get(&self.pool, id).await
    }

    async fn add_fault(
        &self,
        mchid: &Mchid,
        endpoint: FaultEndpoint,
        kind: FaultKind,
        count: u32,
        latency_ms: u32,
    ) -> Result<Fault, StoreError> {
        sandbox::add_fault(&self.pool, mchid, endpoint, kind, count, latency_ms).await
    }

    async fn faults(&self, mchid: &Mchid) -> Result<Vec<Fault>, StoreError> {
        sandbox::faults(&self.pool, mchid).await
    }

    async fn clear_faults(&self, mchid: &Mchid) -> Result<(), StoreError> {
        sandbox::clear_faults(&self.pool, mchid).await
    }

    async fn take_fault(&self, mchid: &Mchid, endpoint: FaultEndpoint) -> Result<Option<Fault>, StoreError> {
        sandbox::take_fault(&self.pool, mchid, endpoint).await
    }

    async fn create_merchant(
        &self,
        merchant: &Merchant,
        plans: &[Plan],
        control_token_sha256: &str,
    ) -> Result<bool, StoreError> {
        // Claims the mchid and every plan id by inserting their rows; a concurrent creator of the
        // same id waits on the unique index and then finds it taken. Dropping `tx` rolls back.
        let mut tx = self.pool.begin().await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claimed = sqlx::query(
            "INSERT INTO merchants (mchid, name, origin, updated_at, control_token_sha256) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (mchid) DO NOTHING",
        )
        .bind(merchant.mchid.as_str())
        .bind(&merchant.name)
        .bind(Origin::Sandbox.as_str())
        .bind(now)
        .bind(control_token_sha256)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(false);
        }
        let mut plans: Vec<&Plan> = plans.iter().collect();
        plans.sort_by_key(|p| p.plan_id.get());
        plans.dedup_by_key(|p| p.plan_id.get());
        for p in &plans {
            let claimed = sqlx::query(
                "INSERT INTO plans (plan_id, mchid, name, contract_validity_days) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (plan_id) DO NOTHING",
            )
            .bind(p.plan_id.get())
            .bind(p.mchid.as_str())
            .bind(&p.name)
            .bind(i64::from(p.contract_validity_days))
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                return Ok(false);
            }
        }
        write_merchant(&mut tx, merchant, Origin::Sandbox, now).await?;
        for p in plans {
            write_plan(&mut tx, p).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_merchant(&self, mchid: &Mchid) -> Result<Deleted, StoreError> {
        sandbox::delete_merchant(&self.pool, mchid).await
    }

    async fn reset_merchant(&self, mchid: &Mchid) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sandbox::reset(&mut tx, mchid).await?;
        // The merchant's queue went with its contracts, unless another instance added to it
        // meanwhile (READ COMMITTED): such a notification was timed by the clock just removed.
        notifications::retime(&mut tx, mchid).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn merchant_listing(&self) -> Result<Vec<MerchantListing>, StoreError> {
        let merchants = sqlx::query(rows::MERCHANT_LISTING).fetch_all(&self.pool).await?;
        let plans = sqlx::query_as::<_, (i64, String)>(rows::PLAN_OWNERS)
            .fetch_all(&self.pool)
            .await?;
        rows::merchant_listing(&merchants, &plans)
    }

    async fn merchant_by_control_token(&self, sha256_hex: &str) -> Result<Option<Mchid>, StoreError> {
        sandbox::merchant_by_control_token(&self.pool, sha256_hex).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(super::CONTRACTS_BY_STATE).fetch_all(&self.pool).await?;
        let pending: i64 = sqlx::query_scalar(super::NOTIFICATIONS_PENDING)
            .fetch_one(&self.pool)
            .await?;
        Ok(StoreGauges {
            contracts_by_state: super::contract_counts(rows)?,
            notifications_pending: pending,
        })
    }
}
