//! Contract use-cases on SQLite. Write transactions start with `BEGIN IMMEDIATE`, so a
//! read-then-write never deadlocks against another writer; uniqueness is the database's job.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use time::{Duration, OffsetDateTime};

use crate::domain::contract::{
    transition, Channel, Contract, ContractState, Effect, Event, Party, Refusal, Session, TerminationMode,
};
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::values::{
    ClientIp, ContractId, DisplayName, NotifyUrl, OpenId, OutContractCode, ReturnUrl, SessionToken, TerminationNote,
};
use crate::store::StoreError;

const COLUMNS: &str = "contract_id, mchid, sub_mchid, appid, sp_appid, sub_appid, plan_id, out_contract_code, \
    user_display_name, openid, success_notify_url, state, channel, session_token, session_expires_at, return_url, \
    return_appid, user_client_ip, created_at, signed_time, expired_time, terminated_time, termination_mode, termination_note";

fn corrupt(id: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("contract {id}: {what}"))
}

fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn opt_ts(secs: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(ts).transpose()
}

fn read(row: &SqliteRow) -> Result<Contract, StoreError> {
    let id: String = row.get("contract_id");
    let appid = |col: &str| -> Result<Option<AppId>, StoreError> {
        row.get::<Option<String>, _>(col)
            .map(|a| AppId::parse(&a).map_err(|_| corrupt(&id, col)))
            .transpose()
    };
    let mchid = |s: String, col: &str| Mchid::parse(&s).map_err(|_| corrupt(&id, col));
    let sub_mchid: String = row.get("sub_mchid");
    let party = if sub_mchid.is_empty() {
        Party::Common {
            appid: appid("appid")?.ok_or_else(|| corrupt(&id, "appid"))?,
        }
    } else {
        Party::Institutional {
            sp_appid: appid("sp_appid")?.ok_or_else(|| corrupt(&id, "sp_appid"))?,
            sub_mchid: mchid(sub_mchid, "sub_mchid")?,
            sub_appid: appid("sub_appid")?,
        }
    };
    let text = |col: &str| row.get::<Option<String>, _>(col);
    Ok(Contract {
        mchid: mchid(row.get("mchid"), "mchid")?,
        party,
        plan_id: PlanId::new(row.get("plan_id")).map_err(|_| corrupt(&id, "plan_id"))?,
        out_contract_code: OutContractCode::from_stored(row.get("out_contract_code")),
        user_display_name: text("user_display_name").map(DisplayName::from_stored),
        openid: text("openid").map(OpenId::from_stored),
        success_notify_url: NotifyUrl::from_stored(row.get("success_notify_url")),
        state: ContractState::parse(row.get("state")).ok_or_else(|| corrupt(&id, "state"))?,
        session: Session {
            token: SessionToken::from_stored(row.get("session_token")),
            channel: Channel::parse(row.get("channel")).ok_or_else(|| corrupt(&id, "channel"))?,
            expires_at: ts(row.get("session_expires_at"))?,
            return_url: text("return_url").map(ReturnUrl::from_stored),
            return_appid: appid("return_appid")?,
            user_client_ip: text("user_client_ip").map(ClientIp::from_stored),
        },
        created_at: ts(row.get("created_at"))?,
        signed_time: opt_ts(row.get("signed_time"))?,
        expired_time: opt_ts(row.get("expired_time"))?,
        terminated_time: opt_ts(row.get("terminated_time"))?,
        termination_mode: text("termination_mode")
            .map(|m| TerminationMode::parse(&m).ok_or_else(|| corrupt(&id, "termination_mode")))
            .transpose()?,
        termination_note: text("termination_note").map(TerminationNote::from_stored),
        contract_id: ContractId::from_stored(id),
    })
}

fn party_columns(p: &Party) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
    match p {
        Party::Common { appid } => ("", Some(appid.as_str()), None, None),
        Party::Institutional {
            sp_appid,
            sub_mchid,
            sub_appid,
        } => (
            sub_mchid.as_str(),
            None,
            Some(sp_appid.as_str()),
            sub_appid.as_ref().map(|a| a.as_str()),
        ),
    }
}

async fn record_effect(
    conn: &mut SqliteConnection,
    contract_id: &str,
    effect: Effect,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let event_type = match effect {
        Effect::None => return Ok(()),
        Effect::NotifySigned => "PAPAY.SIGN",
        Effect::NotifyTerminated => "PAPAY.TERMINATE",
    };
    sqlx::query("INSERT INTO notification_outbox (id, contract_id, event_type, created_at) VALUES (?, ?, ?, ?)")
        .bind(crate::domain::values::notification_id())
        .bind(contract_id)
        .bind(event_type)
        .bind(at.unix_timestamp())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn presign(pool: &SqlitePool, c: &Contract) -> Result<Result<Contract, Refusal>, StoreError> {
    let (sub_mchid, appid, sp_appid, sub_appid) = party_columns(&c.party);
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, 'PRESIGN')
         ON CONFLICT (mchid, sub_mchid, plan_id, out_contract_code) DO UPDATE SET
            appid = excluded.appid, sp_appid = excluded.sp_appid, sub_appid = excluded.sub_appid,
            user_display_name = excluded.user_display_name, openid = excluded.openid,
            success_notify_url = excluded.success_notify_url, state = excluded.state, channel = excluded.channel,
            session_token = excluded.session_token, session_expires_at = excluded.session_expires_at,
            return_url = excluded.return_url, return_appid = excluded.return_appid,
            user_client_ip = excluded.user_client_ip, updated_at = excluded.updated_at,
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

pub async fn terminate(
    pool: &SqlitePool,
    mchid: &Mchid,
    id: &ContractId,
    mode: TerminationMode,
    note: Option<&TerminationNote>,
    now: OffsetDateTime,
) -> Result<Result<Contract, Refusal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(old) = by_id(&mut *tx, Some(mchid), id).await? else {
        return Ok(Err(Refusal::NotTerminable));
    };
    let (to, effect) = match transition(old.state, Event::Terminated(mode)) {
        Ok(t) => t,
        Err(refusal) => return Ok(Err(refusal)),
    };
    sqlx::query(
        "UPDATE contracts SET state = ?, terminated_time = ?, termination_mode = ?, termination_note = ?, updated_at = ?,
         last_event = ? WHERE contract_id = ?",
    )
    .bind(to.as_str())
    .bind(now.unix_timestamp())
    .bind(mode.as_str())
    .bind(note.map(|n| n.as_str()))
    .bind(now.unix_timestamp())
    .bind(format!("TERMINATED_BY_{}", mode.as_str()))
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    record_effect(&mut tx, id.as_str(), effect, now).await?;
    tx.commit().await?;
    let now = now.replace_nanosecond(0).unwrap_or(now);
    Ok(Ok(Contract {
        state: to,
        terminated_time: Some(now),
        termination_mode: Some(mode),
        termination_note: note.cloned(),
        ..old
    }))
}

pub async fn agree(
    pool: &SqlitePool,
    id: &ContractId,
    openid: &OpenId,
    now: OffsetDateTime,
) -> Result<Result<Contract, Refusal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(old) = by_id(&mut *tx, None, id).await? else {
        return Ok(Err(Refusal::SessionClosed));
    };
    if now >= old.session.expires_at {
        return Ok(Err(Refusal::SessionClosed));
    }
    let already_signed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM contracts WHERE plan_id = ? AND openid = ? AND state = 'SIGNED' AND contract_id <> ?)",
    )
    .bind(old.plan_id.get())
    .bind(openid.as_str())
    .bind(id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let event = if already_signed {
        Event::SigningFailed
    } else {
        Event::UserAgreed
    };
    let (to, effect) = match transition(old.state, event) {
        Ok(t) => t,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let validity: i64 = sqlx::query_scalar("SELECT contract_validity_days FROM plans WHERE plan_id = ?")
        .bind(old.plan_id.get())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .unwrap_or(365);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let (signed, expires) = if to == ContractState::Signed {
        (Some(now), Some(now + Duration::days(validity)))
    } else {
        (None, None)
    };
    sqlx::query(
        "UPDATE contracts SET state = ?, openid = ?, signed_time = ?, expired_time = ?, updated_at = ?, last_event = ?
         WHERE contract_id = ?",
    )
    .bind(to.as_str())
    .bind(openid.as_str())
    .bind(signed.map(|t| t.unix_timestamp()))
    .bind(expires.map(|t| t.unix_timestamp()))
    .bind(now.unix_timestamp())
    .bind(if already_signed {
        "SIGNING_FAILED_ALREADY_SIGNED"
    } else {
        "USER_AGREED"
    })
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    record_effect(&mut tx, id.as_str(), effect, now).await?;
    tx.commit().await?;
    Ok(Ok(Contract {
        state: to,
        openid: Some(openid.clone()),
        signed_time: signed,
        expired_time: expires,
        ..old
    }))
}
