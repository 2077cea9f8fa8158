//! Test-control state on PostgreSQL: virtual clocks, injected faults, throwaway merchants,
//! resets. Writers that touch a merchant's row and its contracts or queue lock the merchant row
//! first (as `set_clock` and the pause switch do), so they serialise without deadlocking.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::ms;
use crate::domain::clock::VirtualClock;
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::ids::Mchid;
use crate::store::rows::fault;
use crate::store::{Deleted, StoreError};

pub async fn set_clock(
    conn: &mut PgConnection,
    mchid: &Mchid,
    clock: Option<VirtualClock>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE merchants SET clock_anchor_real_ms = $1, clock_anchor_virtual_ms = $2, clock_speed = $3 WHERE mchid = $4",
    )
    .bind(clock.map(|c| ms(c.anchor_real)))
    .bind(clock.map(|c| ms(c.anchor_virtual)))
    .bind(clock.map(|c| c.speed))
    .bind(mchid.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_fault(
    pool: &PgPool,
    mchid: &Mchid,
    endpoint: FaultEndpoint,
    kind: FaultKind,
    count: u32,
    latency_ms: u32,
) -> Result<Fault, StoreError> {
    let row = sqlx::query(
        "INSERT INTO faults (mchid, endpoint, kind, remaining, latency_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, endpoint, kind, remaining, latency_ms",
    )
    .bind(mchid.as_str())
    .bind(endpoint.as_str())
    .bind(kind.as_str())
    .bind(i64::from(count))
    .bind(i64::from(latency_ms))
    .bind(OffsetDateTime::now_utc().unix_timestamp())
    .fetch_one(pool)
    .await?;
    fault(&row)
}

pub async fn faults(pool: &PgPool, mchid: &Mchid) -> Result<Vec<Fault>, StoreError> {
    sqlx::query(
        "SELECT id, endpoint, kind, remaining, latency_ms FROM faults WHERE mchid = $1 AND remaining > 0 ORDER BY id",
    )
    .bind(mchid.as_str())
    .fetch_all(pool)
    .await?
    .iter()
    .map(fault)
    .collect()
}

pub async fn clear_faults(pool: &PgPool, mchid: &Mchid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM faults WHERE mchid = $1")
        .bind(mchid.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn take_fault(pool: &PgPool, mchid: &Mchid, endpoint: FaultEndpoint) -> Result<Option<Fault>, StoreError> {
    // One statement: the sub-select locks the oldest matching fault, waiting for a caller that
    // holds it and then re-checking `remaining` on the row as that caller left it (READ
    // COMMITTED); a fault used up meanwhile is passed over for the next one. Not SKIP LOCKED:
    // that would answer "no fault" while another caller holds a fault with calls left.
    sqlx::query(
        "UPDATE faults SET remaining = remaining - 1 WHERE remaining > 0 AND id = (
            SELECT id FROM faults WHERE mchid = $1 AND remaining > 0
              AND (endpoint = $2 OR (endpoint = '*' AND $2 <> 'notifications')) ORDER BY id LIMIT 1 FOR UPDATE)
         RETURNING id, endpoint, kind, remaining, latency_ms",
    )
    .bind(mchid.as_str())
    .bind(endpoint.as_str())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(fault)
    .transpose()
}

/// Deletes the merchant's contracts (history, retired links and outbox cascade), faults and clock.
/// The merchant row is written (so locked) first, like `set_clock` does before re-timing.
pub async fn reset(conn: &mut PgConnection, mchid: &Mchid) -> Result<(), StoreError> {
    for sql in [
        "UPDATE merchants SET clock_anchor_real_ms = NULL, clock_anchor_virtual_ms = NULL, clock_speed = NULL,
         notifications_paused = FALSE
         WHERE mchid = $1",
        "DELETE FROM contracts WHERE mchid = $1",
        "DELETE FROM faults WHERE mchid = $1",
    ] {
        sqlx::query(sql).bind(mchid.as_str()).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn delete_merchant(pool: &PgPool, mchid: &Mchid) -> Result<Deleted, StoreError> {
    let mut tx = pool.begin().await?;
    let origin: Option<String> = sqlx::query_scalar("SELECT origin FROM merchants WHERE mchid = $1 FOR UPDATE")
        .bind(mchid.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    match origin.as_deref() {
        None => return Ok(Deleted::NotFound),
        Some("sandbox") => {}
        Some(_) => return Ok(Deleted::NotThrowaway),
    }
    reset(&mut tx, mchid).await?;
    for sql in [
        "DELETE FROM plan_sub_merchants WHERE plan_id IN (SELECT plan_id FROM plans WHERE mchid = $1)",
        "DELETE FROM plans WHERE mchid = $1",
        "DELETE FROM sub_merchant_appids WHERE sp_mchid = $1",
        "DELETE FROM merchants WHERE mchid = $1",
    ] {
        sqlx::query(sql).bind(mchid.as_str()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Deleted::Deleted)
}

pub async fn merchant_by_control_token(pool: &PgPool, sha256_hex: &str) -> Result<Option<Mchid>, StoreError> {
    let found: Option<String> = sqlx::query_scalar("SELECT mchid FROM merchants WHERE control_token_sha256 = $1")
        .bind(sha256_hex)
        .fetch_optional(pool)
        .await?;
    found
        .map(|m| Mchid::parse(&m).map_err(|e| StoreError::Corrupt(format!("mchid {m}: {e}"))))
        .transpose()
}
