//! Contract use-cases on SQLite. Write transactions start with `BEGIN IMMEDIATE`, so a
//! read-then-write never deadlocks against another writer; uniqueness is the database's job.

use papay_protocol::notifications::{EVENT_SIGN, EVENT_TERMINATE};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use papay_protocol::v2::sign::SignType;

use crate::domain::contract::{
    transition, Api, Change, Channel, Contract, ContractState, Effect, Event, Party, Refusal, Session, SignFailure,
    TerminationMode, UserAction, V2Terms,
};
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::values::{
    ClientIp, ContractId, DisplayName, NotifyUrl, OpenId, OutContractCode, ReturnUrl, SessionToken, TerminationNote,
};
use crate::store::{ContractFilter, SessionLookup, StoreError, Transition};

const COLUMNS: &str = "contract_id, mchid, sub_mchid, appid, sp_appid, sub_appid, plan_id, out_contract_code, \
    user_display_name, openid, success_notify_url, state, channel, session_token, session_expires_at, return_url, \
    return_appid, user_client_ip, created_at, signed_time, expired_time, terminated_time, termination_mode, termination_note, \
    api, request_serial, sign_type";

fn corrupt(id: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("contract {id}: {what}"))
}

fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn opt_ts(secs: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(ts).transpose()
}

fn read(row: &PgRow) -> Result<Contract, StoreError> {
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
    let api = match row.get::<String, _>("api").as_str() {
        "V3" => Api::V3,
        "V2" => Api::V2(V2Terms {
            request_serial: row
                .get::<Option<i64>, _>("request_serial")
                .ok_or_else(|| corrupt(&id, "request_serial"))?,
            sign_type: text("sign_type")
                .and_then(|t| SignType::parse(&t))
                .ok_or_else(|| corrupt(&id, "sign_type"))?,
        }),
        _ => return Err(corrupt(&id, "api")),
    };
    Ok(Contract {
        api,
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

/// The `api`, `request_serial` and `sign_type` columns.
fn api_columns(api: Api) -> (&'static str, Option<i64>, Option<&'static str>) {
    match api {
        Api::V3 => (api.as_str(), None, None),
        Api::V2(t) => (api.as_str(), Some(t.request_serial), Some(t.sign_type.as_str())),
    }
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
    executor: impl sqlx::PgExecutor<'c>,
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
pub async fn by_ids(pool: &PgPool, ids: &[ContractId]) -> Result<Vec<Contract>, StoreError> {
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
    pool: &PgPool,
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
    conn: &mut PgConnection,
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
    pool: &PgPool,
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

async fn by_token(conn: &mut PgConnection, token: &str) -> Result<Option<Contract>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM contracts WHERE session_token = ?"))
        .bind(token)
        .fetch_all(&mut *conn)
        .await?;
    rows.first().map(read).transpose()
}

pub async fn session(pool: &PgPool, token: &str) -> Result<Option<SessionLookup>, StoreError> {
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
    pool: &PgPool,
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

pub async fn list(pool: &PgPool, mchid: &Mchid, f: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
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

pub async fn transitions(pool: &PgPool, id: &ContractId) -> Result<Vec<Transition>, StoreError> {
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
