//! The notification queue on SQLite: enqueue in the state change's transaction, claim due
//! work under a lease, record each attempt and the next due time, list the delivery log.

use sqlx::{Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use super::{from_ms, ms};
use crate::domain::contract::Contract;
use crate::domain::ids::Mchid;
use crate::store::rows::{attempt, claimed, notification, ATTEMPT_COLUMNS, RECORD_COLUMNS};
use crate::store::{Attempt, ClaimedNotification, NotificationFilter, NotificationRecord, StoreError};

/// The real time (ms) at which merchant time `{due}` (an SQL expression in ms) comes round on
/// the clock of merchants row `m`; NULL while the merchant's deliveries are paused or a frozen
/// clock stands short of it, so the worker's due-time index never walks such rows.
fn due_real(due: &str) -> String {
    format!(
        "(CASE WHEN m.notifications_paused <> 0 THEN NULL
          WHEN m.clock_speed IS NULL THEN {due}
          WHEN m.clock_speed > 0 THEN m.clock_anchor_real_ms + CAST(({due} - m.clock_anchor_virtual_ms) / m.clock_speed AS INTEGER)
          WHEN {due} <= m.clock_anchor_virtual_ms THEN m.clock_anchor_real_ms
          ELSE NULL END)"
    )
}

/// Queues a notification for `contract`'s event at merchant time `at`, due at once.
pub async fn enqueue(
    conn: &mut SqliteConnection,
    id: &str,
    contract: &Contract,
    event_type: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO notification_outbox
            (id, contract_id, event_type, created_at, mchid, schedule_base_ms, due_virtual_ms, due_real_ms, api)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6, {}, ?7 FROM merchants m WHERE m.mchid = ?5",
        due_real("?6")
    ))
    .bind(id)
    .bind(contract.contract_id.as_str())
    .bind(event_type)
    .bind(at.unix_timestamp())
    .bind(contract.mchid.as_str())
    .bind(ms(at))
    .bind(contract.api.schedule().as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` due notifications of unpaused merchants for `lease_ms`.
pub async fn claim(
    pool: &SqlitePool,
    owner: &str,
    now_real: OffsetDateTime,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<ClaimedNotification>, StoreError> {
    sqlx::query(
        "UPDATE notification_outbox SET lease_owner = ?1, lease_until_ms = ?2 + ?3, resend_due_virtual_ms = NULL
         WHERE id IN (
            SELECT o.id FROM notification_outbox o JOIN merchants m ON m.mchid = o.mchid
            WHERE o.status = 'PENDING' AND o.due_real_ms <= ?2
              AND (o.lease_until_ms IS NULL OR o.lease_until_ms < ?2) AND m.notifications_paused = 0
            ORDER BY o.due_real_ms LIMIT ?4)
         RETURNING id, contract_id, mchid, event_type, created_at, body, attempts, schedule_base_ms, api",
    )
    .bind(owner)
    .bind(ms(now_real))
    .bind(lease_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(claimed)
    .collect()
}

/// Fixes envelopes (the first writer wins) in one transaction and answers the stored ones.
pub async fn fix_bodies(
    pool: &SqlitePool,
    bodies: &[(String, String)],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut stored = std::collections::HashMap::new();
    if bodies.is_empty() {
        return Ok(stored);
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (id, body) in bodies {
        let kept: Vec<String> =
            sqlx::query_scalar("UPDATE notification_outbox SET body = COALESCE(body, ?) WHERE id = ? RETURNING body")
                .bind(body)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        if let Some(kept) = kept.into_iter().next() {
            stored.insert(id.clone(), kept);
        }
    }
    tx.commit().await?;
    Ok(stored)
}

/// Records attempts and moves each notification on, releasing `owner`'s lease, in one transaction.
pub async fn record(pool: &SqlitePool, owner: &str, attempts: &[Attempt]) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let update = format!(
        "UPDATE notification_outbox SET attempts = attempts + 1,
            status = CASE WHEN resend_due_virtual_ms IS NULL THEN ?1 ELSE 'PENDING' END,
            due_virtual_ms = COALESCE(resend_due_virtual_ms, ?2),
            due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid),
            lease_owner = NULL, lease_until_ms = NULL, resend_due_virtual_ms = NULL
         WHERE id = ?3 AND lease_owner = ?4 RETURNING attempts",
        due_real("COALESCE(notification_outbox.resend_due_virtual_ms, ?2)")
    );
    for a in attempts {
        let numbers: Vec<i64> = sqlx::query_scalar(&update)
            .bind(a.status.as_str())
            .bind(a.next_due.map(ms))
            .bind(&a.notification_id)
            .bind(owner)
            .fetch_all(&mut *tx)
            .await?;
        let Some(number) = numbers.into_iter().next() else {
            tracing::warn!(id = %a.notification_id, "lease lost before the attempt was recorded");
            continue;
        };
        sqlx::query(
            "INSERT INTO notification_attempts
                (notification_id, number, at_ms, virtual_at_ms, url, http_status, latency_ms, outcome, error, response_head)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&a.notification_id)
        .bind(number)
        .bind(ms(a.at))
        .bind(ms(a.virtual_at))
        .bind(&a.url)
        .bind(a.http_status.map(i64::from))
        .bind(i64::try_from(a.latency.as_millis()).unwrap_or(i64::MAX))
        .bind(a.outcome.as_str())
        .bind(a.error.as_deref())
        .bind(a.response_head.as_deref())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The earliest real time any pending notification falls due.
pub async fn next_due(pool: &SqlitePool) -> Result<Option<OffsetDateTime>, StoreError> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(due_real_ms) FROM notification_outbox WHERE status = 'PENDING'")
            .fetch_one(pool)
            .await?;
    next.map(from_ms).transpose()
}

/// Re-times the merchant's pending notifications after its clock or pause changed.
pub async fn retime(conn: &mut SqliteConnection, mchid: &Mchid) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE notification_outbox SET due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid)
         WHERE mchid = ? AND status = 'PENDING'",
        due_real("notification_outbox.due_virtual_ms")
    ))
    .bind(mchid.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues one more attempt of a notification now (merchant time `virtual_now`), whatever its
/// status; false if there is no such notification of the merchant. Should an attempt be in
/// flight, its result keeps the notification pending for the resend (the claim clears it).
pub async fn resend(
    pool: &SqlitePool,
    mchid: &Mchid,
    id: &str,
    virtual_now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE notification_outbox SET status = 'PENDING', due_virtual_ms = ?1, resend_due_virtual_ms = ?1,
            due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid)
         WHERE id = ?2 AND mchid = ?3",
        due_real("?1")
    ))
    .bind(ms(virtual_now))
    .bind(id)
    .bind(mchid.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_paused(pool: &SqlitePool, mchid: &Mchid, paused: bool) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query("UPDATE merchants SET notifications_paused = ? WHERE mchid = ?")
        .bind(paused)
        .bind(mchid.as_str())
        .execute(&mut *tx)
        .await?;
    retime(&mut tx, mchid).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(
    pool: &SqlitePool,
    mchid: &Mchid,
    f: &NotificationFilter,
) -> Result<Vec<NotificationRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS} FROM notification_outbox WHERE mchid = ?1 AND (?2 IS NULL OR contract_id = ?2)
         AND (?3 IS NULL OR event_type = ?3) AND (?4 IS NULL OR status = ?4)
         ORDER BY created_at DESC, rowid DESC LIMIT ?5"
    ))
    .bind(mchid.as_str())
    .bind(f.contract_id.as_ref().map(|c| c.as_str()))
    .bind(f.event_type.as_deref())
    .bind(f.status.map(|s| s.as_str()))
    .bind(i64::from(f.limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(notification)
    .collect()
}

/// One notification with its delivery log.
pub async fn get(pool: &SqlitePool, id: &str) -> Result<Option<(Mchid, NotificationRecord)>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT mchid, {RECORD_COLUMNS} FROM notification_outbox WHERE id = ?"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mchid = Mchid::parse(row.get("mchid")).map_err(|e| StoreError::Corrupt(format!("outbox mchid: {e}")))?;
    let mut record = notification(row)?;
    for r in sqlx::query(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM notification_attempts WHERE notification_id = ? ORDER BY number"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?
    {
        record.log.push(attempt(&r, id)?);
    }
    Ok(Some((mchid, record)))
}
