//! Test-control state on SQLite: virtual clocks, injected faults, throwaway merchants, resets.

use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use super::ms;
use crate::domain::clock::VirtualClock;
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::ids::Mchid;
use crate::store::rows::fault;
use crate::store::{Deleted, StoreError};

pub async fn set_clock(
    conn: &mut SqliteConnection,
    mchid: &Mchid,
    clock: Option<VirtualClock>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE merchants SET clock_anchor_real_ms = ?, clock_anchor_virtual_ms = ?, clock_speed = ? WHERE mchid = ?",
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
    pool: &SqlitePool,
    mchid: &Mchid,
    endpoint: FaultEndpoint,
    kind: FaultKind,
    count: u32,
    latency_ms: u32,
) -> Result<Fault, StoreError> {
    let row = sqlx::query(
        "INSERT INTO faults (mchid, endpoint, kind, remaining, latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
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

pub async fn faults(pool: &SqlitePool, mchid: &Mchid) -> Result<Vec<Fault>, StoreError> {
    sqlx::query(
        "SELECT id, endpoint, kind, remaining, latency_ms FROM faults WHERE mchid = ? AND remaining > 0 ORDER BY id",
    )
    .bind(mchid.as_str())
    .fetch_all(pool)
    .await?
    .iter()
    .map(fault)
    .collect()
}

pub async fn clear_faults(pool: &SqlitePool, mchid: &Mchid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM faults WHERE mchid = ?")
        .bind(mchid.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn take_fault(
    pool: &SqlitePool,
    mchid: &Mchid,
    endpoint: FaultEndpoint,
) -> Result<Option<Fault>, StoreError> {
    // One statement: picking and decrementing cannot interleave with another caller's.
    sqlx::query(
        "UPDATE faults SET remaining = remaining - 1 WHERE id = (
            SELECT id FROM faults WHERE mchid = ?1 AND remaining > 0
              AND (endpoint = ?2 OR (endpoint = '*' AND ?2 <> 'notifications')) ORDER BY id LIMIT 1)
         RETURNING id, endpoint, kind, remaining, latency_ms",
    )
    .bind(mchid.as_str())
    .bind(endpoint.as_str())
    .fetch_all(pool)
    .await?
    .first()
    .map(fault)
    .transpose()
}

/// Deletes the merchant's contracts (history, retired links and outbox cascade), faults and clock.
pub async fn reset(conn: &mut SqliteConnection, mchid: &Mchid) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM contracts WHERE mchid = ?",
        "DELETE FROM faults WHERE mchid = ?",
        "UPDATE merchants SET clock_anchor_real_ms = NULL, clock_anchor_virtual_ms = NULL, clock_speed = NULL,
         notifications_paused = 0
         WHERE mchid = ?",
    ] {
        sqlx::query(sql).bind(mchid.as_str()).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn delete_merchant(pool: &SqlitePool, mchid: &Mchid) -> Result<Deleted, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let origin: Option<String> = sqlx::query_scalar("SELECT origin FROM merchants WHERE mchid = ?")
        .bind(mchid.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next();
    match origin.as_deref() {
        None => return Ok(Deleted::NotFound),
        Some("sandbox") => {}
        Some(_) => return Ok(Deleted::NotThrowaway),
    }
    reset(&mut tx, mchid).await?;
    for sql in [
        "DELETE FROM plan_sub_merchants WHERE plan_id IN (SELECT plan_id FROM plans WHERE mchid = ?)",
        "DELETE FROM plans WHERE mchid = ?",
        "DELETE FROM sub_merchant_appids WHERE sp_mchid = ?",
        "DELETE FROM merchants WHERE mchid = ?",
    ] {
        sqlx::query(sql).bind(mchid.as_str()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Deleted::Deleted)
}

pub async fn merchant_by_control_token(pool: &SqlitePool, sha256_hex: &str) -> Result<Option<Mchid>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar("SELECT mchid FROM merchants WHERE control_token_sha256 = ?")
        .bind(sha256_hex)
        .fetch_all(pool)
        .await?;
    found
        .into_iter()
        .next()
        .map(|m| Mchid::parse(&m).map_err(|e| StoreError::Corrupt(format!("mchid {m}: {e}"))))
        .transpose()
}
