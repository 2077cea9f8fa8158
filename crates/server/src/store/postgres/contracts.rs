//! Contract use-cases on PostgreSQL, safe with several instances sharing the database.
//! A pre-sign is one upsert (`INSERT … ON CONFLICT … DO UPDATE … WHERE`), so concurrent
//! pre-signs of one code make one contract. A read-check-write (user action, termination)
//! runs in a transaction that first locks the contract row (`SELECT … FOR UPDATE`). The
//! "one SIGNED contract per user and plan" rule is the unique partial index
//! `contracts_one_signed_per_user`; an agreement that loses the race to it ends in SIGNFAIL
//! (`SigningFailed(AlreadySigned)`) under a savepoint, never in an error.

use papay_protocol::notifications::{EVENT_SIGN, EVENT_TERMINATE};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use crate::domain::contract::{
    transition, Change, Contract, ContractState, Effect, Event, Refusal, SignFailure, TerminationMode, UserAction,
};
use crate::domain::ids::{Mchid, PlanId};
use crate::domain::values::{ContractId, OutContractCode, TerminationNote};
use crate::store::{ContractFilter, SessionLookup, StoreError, Transition};

use crate::store::rows::{api_columns, contract as read, corrupt, party_columns, ts, COLUMNS};

async fn record_effect(
    conn: &mut PgConnection,
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

pub async fn presign(pool: &PgPool, c: &Contract) -> Result<Result<Contract, Refusal>, StoreError> {
    let (sub_mchid, appid, sp_appid, sub_appid) = party_columns(&c.party);
    let (api, request_serial, sign_type) = api_columns(c.api);
    // The states from which the state machine allows a renewal; one upsert statement renews
    // only those, so concurrent pre-signs of one code cannot both create a contract.
    let renewable: Vec<&str> = ContractState::ALL
        .into_iter()
        .filter(|s| transition(*s, Event::PresignRenewed) == Ok((c.state, Effect::None)))
        .map(ContractState::as_str)
        .collect();
    let s = &c.session;
    let now = c.created_at.unix_timestamp();
    let sql = format!(
        "INSERT INTO contracts ({COLUMNS}, updated_at, last_event)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 NULL, NULL, NULL, NULL, NULL, $20, $21, $22, $23, 'PRESIGN')
         ON CONFLICT (mchid, sub_mchid, plan_id, out_contract_code) DO UPDATE SET
            appid = excluded.appid, sp_appid = excluded.sp_appid, sub_appid = excluded.sub_appid,
            user_display_name = excluded.user_display_name, openid = excluded.openid,
            success_notify_url = excluded.success_notify_url, state = excluded.state, channel = excluded.channel,
            session_token = excluded.session_token, session_expires_at = excluded.session_expires_at,
            return_url = excluded.return_url, return_appid = excluded.return_appid,
            user_client_ip = excluded.user_client_ip, updated_at = excluded.updated_at,
            api = excluded.api, request_serial = excluded.request_serial, sign_type = excluded.sign_type,
            last_event = 'PRESIGN_RENEWED'
         WHERE contracts.state = ANY($24)
         RETURNING contract_id, created_at"
    );
    let row = sqlx::query(&sql)
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
        .bind(now)
        .bind(&renewable)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(Err(Refusal::ContractExisted));
    };
    Ok(Ok(Contract {
        contract_id: ContractId::from_stored(row.get("contract_id")),
        created_at: ts(row.get("created_at"))?,
        ..c.clone()
    }))
}

const BY_ID: &str = "contract_id = $1 AND ($2::TEXT IS NULL OR mchid = $2)";

/// The contract with this id; only the merchant's own when `mchid` is given.
pub async fn by_id<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    mchid: Option<&Mchid>,
    id: &ContractId,
) -> Result<Option<Contract>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM contracts WHERE {BY_ID}"))
        .bind(id.as_str())
        .bind(mchid.map(|m| m.as_str()))
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(read)
        .transpose()
}

/// [`by_id`], locking the row until the caller's transaction ends.
async fn lock_by_id(
    conn: &mut PgConnection,
    mchid: Option<&Mchid>,
    id: &ContractId,
) -> Result<Option<Contract>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM contracts WHERE {BY_ID} FOR UPDATE"))
        .bind(id.as_str())
        .bind(mchid.map(|m| m.as_str()))
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(read)
        .transpose()
}

/// The contracts with these ids, in no particular order.
pub async fn by_ids(pool: &PgPool, ids: &[ContractId]) -> Result<Vec<Contract>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // One array parameter, however many ids.
    let ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
    sqlx::query(&format!("SELECT {COLUMNS} FROM contracts WHERE contract_id = ANY($1)"))
        .bind(&ids)
        .fetch_all(pool)
        .await?
        .iter()
        .map(read)
        .collect()
}

pub async fn by_code(
    pool: &PgPool,
    mchid: &Mchid,
    sub_mchid: Option<&Mchid>,
    plan_id: PlanId,
    code: &OutContractCode,
) -> Result<Option<Contract>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE mchid = $1 AND sub_mchid = $2 AND plan_id = $3 AND out_contract_code = $4"
    ))
    .bind(mchid.as_str())
    .bind(sub_mchid.map_or("", |m| m.as_str()))
    .bind(plan_id.get())
    .bind(code.as_str())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(read)
    .transpose()
}

/// Writes a change of a contract the caller locked inside the same transaction, with its
/// history line (by trigger) and its notification (outbox).
async fn save(
    conn: &mut PgConnection,
    before: &Contract,
    change: &Change,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let c = &change.contract;
    sqlx::query(
        "UPDATE contracts SET state = $1, openid = $2, session_expires_at = $3, signed_time = $4, expired_time = $5,
         terminated_time = $6, termination_mode = $7, termination_note = $8, updated_at = $9, last_event = $10
         WHERE contract_id = $11 AND state = $12",
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
    pool: &PgPool,
    mchid: Option<&Mchid>,
    id: &ContractId,
    mode: TerminationMode,
    note: Option<&TerminationNote>,
    now: OffsetDateTime,
) -> Result<Result<Contract, Refusal>, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(old) = lock_by_id(&mut tx, mchid, id).await? else {
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

/// The contract whose current session is `token`; `lock` (`""` or `"FOR UPDATE"`) is appended.
async fn by_token(conn: &mut PgConnection, token: &str, lock: &str) -> Result<Option<Contract>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE session_token = $1 {lock}"
    ))
    .bind(token)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(read)
    .transpose()
}

pub async fn session(pool: &PgPool, token: &str) -> Result<Option<SessionLookup>, StoreError> {
    let mut conn = pool.acquire().await?;
    if let Some(c) = by_token(&mut conn, token, "").await? {
        return Ok(Some(SessionLookup::Current(c)));
    }
    let retired: Option<String> =
        sqlx::query_scalar("SELECT contract_id FROM retired_sessions WHERE session_token = $1")
            .bind(token)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(id) = retired else {
        return Ok(None);
    };
    Ok(by_id(&mut *conn, None, &ContractId::from_stored(id))
        .await?
        .map(SessionLookup::Replaced))
}

/// Whether `e` is the unique index on (plan, openid) of SIGNED contracts refusing a second one.
fn is_second_signed(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.code().as_deref() == Some("23505") && db.constraint() == Some("contracts_one_signed_per_user")
        }
        _ => false,
    }
}

pub async fn act_on_session(
    pool: &PgPool,
    token: &str,
    action: &UserAction,
    now: OffsetDateTime,
) -> Result<Result<Change, Refusal>, StoreError> {
    let mut tx = pool.begin().await?;
    // The lock serialises every action on this contract (and its pre-sign renewals) until commit.
    let Some(old) = by_token(&mut tx, token, "FOR UPDATE").await? else {
        let replaced: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM retired_sessions WHERE session_token = $1)")
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
        // The common case, answered up front; a concurrent agreement committing after this
        // check is caught by the unique index below.
        let already_signed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM contracts WHERE plan_id = $1 AND openid = $2 AND state = 'SIGNED' AND contract_id <> $3)",
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
    let validity: i64 = sqlx::query_scalar("SELECT contract_validity_days FROM plans WHERE plan_id = $1")
        .bind(old.plan_id.get())
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(365);
    let validity = u32::try_from(validity).map_err(|_| corrupt(old.contract_id.as_str(), "plan validity"))?;
    let mut change = match old.apply(event, now, signer, validity, None) {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if change.is_noop(&old) {
        return Ok(Ok(change));
    }
    if change.contract.state == ContractState::Signed {
        // Under a savepoint: should another session of the same openid and plan have signed
        // since the check above, the unique index refuses this one and the user's agreement
        // becomes SIGNFAIL (the row lock is still held, so `old` is still current).
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match save(&mut savepoint, &old, &change, now).await {
            Ok(()) => savepoint.commit().await?,
            Err(e) if is_second_signed(&e) => {
                savepoint.rollback().await?;
                change = match old.apply(
                    Event::SigningFailed(SignFailure::AlreadySigned),
                    now,
                    signer,
                    validity,
                    None,
                ) {
                    Ok(c) => c,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                save(&mut tx, &old, &change, now).await?;
            }
            Err(e) => return Err(e),
        }
    } else {
        save(&mut tx, &old, &change, now).await?;
    }
    tx.commit().await?;
    Ok(Ok(change))
}

pub async fn list(pool: &PgPool, mchid: &Mchid, f: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM contracts WHERE mchid = $1 AND ($2::TEXT IS NULL OR state = $2)
         AND ($3::BIGINT IS NULL OR plan_id = $3) AND ($4::TEXT IS NULL OR out_contract_code = $4)
         ORDER BY created_at DESC, seq DESC LIMIT $5"
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

pub async fn transitions(pool: &PgPool, id: &ContractId) -> Result<Vec<Transition>, StoreError> {
    sqlx::query("SELECT event, from_state, to_state, at FROM contract_transitions WHERE contract_id = $1 ORDER BY id")
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

#[cfg(test)]
#[path = "contracts_tests.rs"]
mod tests;
