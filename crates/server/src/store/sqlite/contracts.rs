//! Contract use-cases on SQLite. Write transactions start with `BEGIN IMMEDIATE`, so a
//! read-then-write never deadlocks against another writer; uniqueness is the database's job.

use papay_protocol::notifications::{EVENT_SIGN, EVENT_TERMINATE};
use sqlx::{Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use crate::domain::contract::{
    transition, Change, Contract, ContractState, Effect, Event, Refusal, SignFailure, TerminationMode, UserAction,
};
use crate::domain::ids::{Mchid, PlanId};
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};
use crate::store::{ContractFilter, SessionLookup, StoreError, Transition};

use crate::store::rows::{api_columns, contract as read, corrupt, party_columns, ts, COLUMNS};

async fn record_effect(
    conn: &mut SqliteConnection,
    contract: &Contract,
    effect: Effect,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let event_type = match effect {
        Effect::None => return Ok(()),
        Effect::NotifySigned => EVENT_SIGN,
        Effect::NotifyTerminated => EVENT_TERMINATE,
    };
    super::notifications::enqueue(
        conn,
        &crate::domain::values::notification_id(),
        contract,
        event_type,
        at,
    )
    .await
}

pub async fn presign(pool: &SqlitePool, c: &Contract) -> Result<Result<Contract, Refusal>, StoreError> {
    let (sub_mchid, appid, sp_appid, sub_appid) = party_columns(&c.party);
    let (api, request_serial, sign_type) = api_columns(c.api);
    // The states from which the state machine allows a renewal; one upsert statement renews
    // only those, so concurrent pre-signs of one code cannot both create a contract.
    let renewable: Vec<&str> = ContractState::ALL
        .into_iter()
        .filter(|s| transition(*s, Event::PresignRenewed) == Ok((c.state, Effect::None)))
        .map(ContractState::as_str)
        .collect();
    let placeholders = vec!["?"; renewable.len()].join(", ");
    let s = &c.session;
    let now = c.created_at.unix_timestamp();
    let sql = format!(
        "INSERT INTO contracts ({COLUMNS}, updated_at, last_event)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?, ?, ?, 'PRESIGN')
         ON CONFLICT (mchid, sub_mchid, plan_id, out_contract_code) DO UPDATE SET
            appid = excluded.appid, sp_appid = excluded.sp_appid, sub_appid = excluded.sub_appid,
            user_display_name = excluded.user_display_name, openid = excluded.openid,
            success_notify_url = excluded.success_notify_url, state = excluded.state, channel = excluded.channel,
            session_token = excluded.session_token, session_expires_at = excluded.session_expires_at,
            return_url = excluded.return_url, return_appid = excluded.return_appid,
            user_client_ip = excluded.user_client_ip, updated_at = excluded.updated_at,
            api = excluded.api, request_serial = excluded.request_serial, sign_type = excluded.sign_type,
            last_event = 'PRESIGN_RENEWED'
         WHERE contracts.state IN ({placeholders})
         RETURNING contract_id, created_at"
    );
    let mut q = sqlx::query(&sql)
        .bind(c.contract_id.as_str())
        .bind(c.mchid.as_str())
        .bind(sub_mchid)
        .bind(appid)
        .bind(sp_appid)
        .bind(sub_appid)
        .bind(c.plan_id.get())
        .bind(c.out_contract_code.as_str())
        .bind(c.user_display_name.as_ref().map(|d| d.as_str()))
        .bind(c.openid.as_ref().map(|o| o.as_str()))
        .bind(c.success_notify_url.as_str())
        .bind(c.state.as_str())
        .bind(s.channel.as_str())
        .bind(s.token.as_str())
        .bind(s.expires_at.unix_timestamp())
        .bind(s.return_url.as_ref().map(|u| u.as_str()))
        .bind(s.return_appid.as_ref().map(|a| a.as_str()))
        .bind(s.user_client_ip.as_ref().map(|i| i.as_str()))
        .bind(now)
        .bind(api)
        .bind(request_serial)
        .bind(sign_type)
        .bind(now);
    for state in &renewable {
        q = q.bind(*state);
    }
    let Some(row) = q.fetch_all(pool).await?.into_iter().next() else {
        return Ok(Err(Refusal::ContractExisted));
    };
    Ok(Ok(Contract {
        contract_id: ContractId::from_stored(row.get("contract_id")),
        created_at: ts(row.get("created_at"))?,
        ..c.clone()
    }))
}

/// The contract with this id; only the merchant's own when `mchid` is given.
pub async fn by_id<'c>(
    executor: impl sqlx::SqliteExecutor<'c>,
    mchid: Option<&Mchid>,
    id: &ContractId,
) -> Result<Option<Contract>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE contract_id = ?1 AND (?2 IS NULL OR mchid = ?2)"
    ))
    .bind(id.as_str())
    .bind(mchid.map(|m| m.as_str()))
    .fetch_all(executor)
    .await?;
    rows.first().map(read).transpose()
}

/// The contracts with these ids, in no particular order.
pub async fn by_ids(pool: &SqlitePool, ids: &[ContractId]) -> Result<Vec<Contract>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    // Bounded statements: SQLite limits bound parameters.
    for chunk in ids.chunks(256) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!("SELECT {COLUMNS} FROM contracts WHERE contract_id IN ({marks})");
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(pool).await? {
            found.push(read(&row)?);
        }
    }
    Ok(found)
}

pub async fn by_code(
    pool: &SqlitePool,
    mchid: &Mchid,
    sub_mchid: Option<&Mchid>,
    plan_id: PlanId,
    code: &OutContractCode,
) -> Result<Option<Contract>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE mchid = ? AND sub_mchid = ? AND plan_id = ? AND out_contract_code = ?"
    ))
    .bind(mchid.as_str())
    .bind(sub_mchid.map_or("", |m| m.as_str()))
    .bind(plan_id.get())
    .bind(code.as_str())
    .fetch_all(pool)
    .await?
    .first()
    .map(read)
    .transpose()
}

/// Writes a change of a contract the caller read inside the same transaction, with its
/// history line (by trigger) and its notification (outbox).
async fn save(
    conn: &mut SqliteConnection,
    before: &Contract,
    change: &Change,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let c = &change.contract;
    sqlx::query(
        "UPDATE contracts SET state = ?, openid = ?, session_expires_at = ?, signed_time = ?, expired_time = ?,
         terminated_time = ?, termination_mode = ?, termination_note = ?, updated_at = ?, last_event = ?
         WHERE contract_id = ? AND state = ?",
    )
    .bind(c.state.as_str())
    .bind(c.openid.as_ref().map(|o| o.as_str()))
    .bind(c.session.expires_at.unix_timestamp())
    .bind(c.signed_time.map(|t| t.unix_timestamp()))
    .bind(c.expired_time.map(|t| t.unix_timestamp()))
    .bind(c.terminated_time.map(|t| t.unix_timestamp()))
    .bind(c.termination_mode.map(|m| m.as_str()))
    .bind(c.termination_note.as_ref().map(|n| n.as_str()))
    .bind(at.unix_timestamp())
    .bind(change.event.label())
    .bind(c.contract_id.as_str())
    .bind(before.state.as_str())
    .execute(&mut *conn)
    .await?;
    record_effect(conn, c, change.effect, at).await
}

pub async fn terminate(
    pool: &SqlitePool,
    mchid: Option<&Mchid>,
    id: &ContractId,
    mode: TerminationMode,
    note: Option<&TerminationNote>,
    now: OffsetDateTime,
) -> Result<Result<Contract, Refusal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(old) = by_id(&mut *tx, mchid, id).await? else {
        return Ok(Err(Refusal::NotTerminable));
    };
    let change = match old.apply(Event::Terminated(mode), now, None, 0, note) {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    save(&mut tx, &old, &change, now).await?;
    tx.commit().await?;
    Ok(Ok(change.contract))
}

async fn by_token(conn: &mut SqliteConnection, token: &str) -> Result<Option<Contract>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM contracts WHERE session_token = ?"))
        .bind(token)
        .fetch_all(&mut *conn)
        .await?;
    rows.first().map(read).transpose()
}

pub async fn session(pool: &SqlitePool, token: &str) -> Result<Option<SessionLookup>, StoreError> {
    let mut conn = pool.acquire().await?;
    if let Some(c) = by_token(&mut conn, token).await? {
        return Ok(Some(SessionLookup::Current(c)));
    }
    let retired: Vec<String> = sqlx::query_scalar("SELECT contract_id FROM retired_sessions WHERE session_token = ?")
        .bind(token)
        .fetch_all(&mut *conn)
        .await?;
    let Some(id) = retired.into_iter().next() else {
        return Ok(None);
    };
    Ok(by_id(&mut *conn, None, &ContractId::from_stored(id))
        .await?
        .map(SessionLookup::Replaced))
}

pub async fn act_on_session(
    pool: &SqlitePool,
    token: &str,
    action: &UserAction,
    now: OffsetDateTime,
) -> Result<Result<Change, Refusal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(old) = by_token(&mut tx, token).await? else {
        let replaced: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM retired_sessions WHERE session_token = ?)")
                .bind(token)
                .fetch_one(&mut *tx)
                .await?;
        return Ok(Err(if replaced {
            Refusal::SessionExpired
        } else {
            Refusal::UnknownSession
        }));
    };
    let mut event = match old.user_event(action, now) {
        Ok(e) => e,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let signer = match action {
        UserAction::Agree { openid, .. } => Some(openid),
        _ => None,
    };
    if let (Event::UserAgreed, Some(openid)) = (event, signer) {
        let already_signed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM contracts WHERE plan_id = ? AND openid = ? AND state = 'SIGNED' AND contract_id <> ?)",
        )
        .bind(old.plan_id.get())
        .bind(openid.as_str())
        .bind(old.contract_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if already_signed {
            event = Event::SigningFailed(SignFailure::AlreadySigned);
        }
    }
    let validity: i64 = sqlx::query_scalar("SELECT contract_validity_days FROM plans WHERE plan_id = ?")
        .bind(old.plan_id.get())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .unwrap_or(365);
    let validity = u32::try_from(validity).map_err(|_| corrupt(old.contract_id.as_str(), "plan validity"))?;
    let change = match old.apply(event, now, signer, validity, None) {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if !change.is_noop(&old) {
        save(&mut tx, &old, &change, now).await?;
        tx.commit().await?;
    }
    Ok(Ok(change))
}

pub async fn list(pool: &SqlitePool, mchid: &Mchid, f: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE mchid = ?1 AND (?2 IS NULL OR state = ?2)
         AND (?3 IS NULL OR plan_id = ?3) AND (?4 IS NULL OR out_contract_code = ?4)
         ORDER BY created_at DESC, rowid DESC LIMIT ?5"
    ))
    .bind(mchid.as_str())
    .bind(f.state.map(|s| s.as_str()))
    .bind(f.plan_id.map(|p| p.get()))
    .bind(f.out_contract_code.as_ref().map(|c| c.as_str()))
    .bind(i64::from(f.limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(read)
    .collect()
}

pub async fn transitions(pool: &SqlitePool, id: &ContractId) -> Result<Vec<Transition>, StoreError> {
    sqlx::query("SELECT event, from_state, to_state, at FROM contract_transitions WHERE contract_id = ? ORDER BY id")
        .bind(id.as_str())
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let state = |s: &str| ContractState::parse(s).ok_or_else(|| corrupt(id.as_str(), "transition state"));
            Ok(Transition {
                event: r.get("event"),
                from: r
                    .get::<Option<String>, _>("from_state")
                    .map(|s| state(&s))
                    .transpose()?,
                to: state(&r.get::<String, _>("to_state"))?,
                at: ts(r.get("at"))?,
            })
        })
        .collect()
}
