//! The notification queue on PostgreSQL, shared by several instances: enqueue in the state
//! change's transaction; claim due work under a lease with `FOR UPDATE SKIP LOCKED`, so
//! concurrent claimers take disjoint sets and a lease that runs out is taken over by whoever
//! claims next; record each attempt (only the lease owner's) and the next due time; list the
//! delivery log. Statements that lock several outbox rows lock them in byte order of `id`, so
//! they cannot deadlock one another.

use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use super::{from_ms, ms};
use crate::domain::contract::Contract;
use crate::domain::ids::Mchid;
use crate::store::rows::{attempt, claimed, notification, ATTEMPT_COLUMNS, RECORD_COLUMNS};
use crate::store::{Attempt, ClaimedNotification, NotificationFilter, NotificationRecord, StoreError};

/// The real time (ms) at which merchant time `{due}` (an SQL expression in ms) comes round on
/// the clock of merchants row `m`; NULL while the merchant's deliveries are paused or a frozen
/// clock stands short of it, so the worker's due-time index never walks such rows. BIGINT
/// throughout; the scaled offset is DOUBLE PRECISION, truncated toward zero as SQLite's CAST does.
fn due_real(due: &str) -> String {
    format!(
        "(CASE WHEN m.notifications_paused THEN NULL
          WHEN m.clock_speed IS NULL THEN {due}
          WHEN m.clock_speed > 0
            THEN m.clock_anchor_real_ms + CAST(trunc(({due} - m.clock_anchor_virtual_ms) / m.clock_speed) AS BIGINT)
          WHEN {due} <= m.clock_anchor_virtual_ms THEN m.clock_anchor_real_ms
          ELSE NULL END)"
    )
}

/// Queues a notification for `contract`'s event at merchant time `at`, due at once.
pub async fn enqueue(
    conn: &mut PgConnection,
    id: &str,
    contract: &Contract,
    event_type: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO notification_outbox
            (id, contract_id, event_type, created_at, mchid, schedule_base_ms, due_virtual_ms, due_real_ms, api)
         SELECT $1, $2, $3, $4, $5, $6, $6, {}, $7 FROM merchants m WHERE m.mchid = $5",
        due_real("$6")
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

/// Claims up to `limit` due notifications of unpaused merchants for `lease_ms`. Rows another
/// claimer has locked are skipped, not waited for; a row claimed and committed meanwhile is
/// re-checked on its new version (its lease now runs), so two claimers never share a row.
pub async fn claim(
    pool: &PgPool,
    owner: &str,
    now_real: OffsetDateTime,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<ClaimedNotification>, StoreError> {
    sqlx::query(
        "WITH picked AS MATERIALIZED (
            SELECT o.id FROM notification_outbox o JOIN merchants m ON m.mchid = o.mchid
            WHERE o.status = 'PENDING' AND o.due_real_ms <= $2
              AND (o.lease_until_ms IS NULL OR o.lease_until_ms < $2) AND NOT m.notifications_paused
            ORDER BY o.due_real_ms LIMIT $4
            FOR UPDATE OF o SKIP LOCKED)
         UPDATE notification_outbox SET lease_owner = $1, lease_until_ms = $2 + $3, resend_due_virtual_ms = NULL
         FROM picked WHERE notification_outbox.id = picked.id
         RETURNING notification_outbox.id, contract_id, mchid, event_type, created_at, body, attempts,
            schedule_base_ms, api",
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
    pool: &PgPool,
    bodies: &[(String, String)],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut stored = std::collections::HashMap::new();
    if bodies.is_empty() {
        return Ok(stored);
    }
    let mut sorted: Vec<&(String, String)> = bodies.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tx = pool.begin().await?;
    for (id, body) in sorted {
        // A concurrent writer's body, once committed, is the one COALESCE keeps.
        let kept: Option<String> =
            sqlx::query_scalar("UPDATE notification_outbox SET body = COALESCE(body, $1) WHERE id = $2 RETURNING body")
                .bind(body)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(kept) = kept {
            stored.insert(id.clone(), kept);
        }
    }
    tx.commit().await?;
    Ok(stored)
}

/// Records attempts and moves each notification on, releasing `owner`'s lease, in one
/// transaction; a notification whose lease `owner` no longer holds is left to its new owner.
pub async fn record(pool: &PgPool, owner: &str, attempts: &[Attempt]) -> Result<(), StoreError> {
    let mut sorted: Vec<&Attempt> = attempts.iter().collect();
    sorted.sort_by(|a, b| a.notification_id.cmp(&b.notification_id));
    let mut tx = pool.begin().await?;
    let update = format!(
        "UPDATE notification_outbox SET attempts = attempts + 1,
            status = CASE WHEN resend_due_virtual_ms IS NULL THEN $1 ELSE 'PENDING' END,
            due_virtual_ms = COALESCE(resend_due_virtual_ms, $2),
            due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid),
            lease_owner = NULL, lease_until_ms = NULL, resend_due_virtual_ms = NULL
         WHERE id = $3 AND lease_owner = $4 RETURNING attempts",
        due_real("COALESCE(notification_outbox.resend_due_virtual_ms, $2)")
    );
    for a in sorted {
        let number: Option<i64> = sqlx::query_scalar(&update)
            .bind(a.status.as_str())
            .bind(a.next_due.map(ms))
            .bind(&a.notification_id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(number) = number else {
            tracing::warn!(id = %a.notification_id, "lease lost before the attempt was recorded");
            continue;
        };
        sqlx::query(
            "INSERT INTO notification_attempts
                (notification_id, number, at_ms, virtual_at_ms, url, http_status, latency_ms, outcome, error, response_head)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
pub async fn next_due(pool: &PgPool) -> Result<Option<OffsetDateTime>, StoreError> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(due_real_ms) FROM notification_outbox WHERE status = 'PENDING'")
            .fetch_one(pool)
            .await?;
    next.map(from_ms).transpose()
}

/// Re-times the merchant's pending notifications after its clock or pause changed (in the
/// caller's transaction, after it wrote the merchants row this reads).
pub async fn retime(conn: &mut PgConnection, mchid: &Mchid) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "WITH mine AS MATERIALIZED (
            SELECT id FROM notification_outbox WHERE mchid = $1 AND status = 'PENDING' ORDER BY id COLLATE \"C\" FOR UPDATE)
         UPDATE notification_outbox
         SET due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid)
         FROM mine WHERE notification_outbox.id = mine.id AND notification_outbox.status = 'PENDING'",
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
pub async fn resend(pool: &PgPool, mchid: &Mchid, id: &str, virtual_now: OffsetDateTime) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE notification_outbox SET status = 'PENDING', due_virtual_ms = $1, resend_due_virtual_ms = $1,
            due_real_ms = (SELECT {} FROM merchants m WHERE m.mchid = notification_outbox.mchid)
         WHERE id = $2 AND mchid = $3",
        due_real("$1")
    ))
    .bind(ms(virtual_now))
    .bind(id)
    .bind(mchid.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_paused(pool: &PgPool, mchid: &Mchid, paused: bool) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE merchants SET notifications_paused = $1 WHERE mchid = $2")
        .bind(paused)
        .bind(mchid.as_str())
        .execute(&mut *tx)
        .await?;
    retime(&mut tx, mchid).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Newest first: by event time (`created_at`, then `schedule_base_ms`, the same instant in
/// milliseconds), ties by id, as the outbox has no insertion sequence.
pub async fn list(pool: &PgPool, mchid: &Mchid, f: &NotificationFilter) -> Result<Vec<NotificationRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS} FROM notification_outbox WHERE mchid = $1 AND ($2::TEXT IS NULL OR contract_id = $2)
         AND ($3::TEXT IS NULL OR event_type = $3) AND ($4::TEXT IS NULL OR status = $4)
         ORDER BY created_at DESC, schedule_base_ms DESC, id DESC LIMIT $5"
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
pub async fn get(pool: &PgPool, id: &str) -> Result<Option<(Mchid, NotificationRecord)>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT mchid, {RECORD_COLUMNS} FROM notification_outbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row.as_ref() else {
        return Ok(None);
    };
    let mchid = Mchid::parse(row.get("mchid")).map_err(|e| StoreError::Corrupt(format!("outbox mchid: {e}")))?;
    let mut record = notification(row)?;
    for r in sqlx::query(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM notification_attempts WHERE notification_id = $1 ORDER BY number"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?
    {
        record.log.push(attempt(&r, id)?);
    }
    Ok(Some((mchid, record)))
}
