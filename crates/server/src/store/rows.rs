//! Rows ↔ domain values, shared by the SQLite and PostgreSQL stores, whose tables have the
//! same columns (the migrations are kept in lockstep): contracts, queued notifications and
//! their delivery log, sandbox state, faults; and the millisecond time columns.

use papay_protocol::v2::sign::SignType;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;

use crate::domain::clock::VirtualClock;
use crate::domain::contract::{Api, Channel, Contract, ContractState, Party, Session, TerminationMode, V2Terms};
use crate::domain::fault::{Fault, FaultEndpoint, FaultKind};
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::merchant::SandboxState;
use crate::domain::notification::{AttemptOutcome, DeliveryStatus, Schedule};
use crate::domain::values::{
    ClientIp, ContractId, DisplayName, NotifyUrl, OpenId, OutContractCode, ReturnUrl, SessionToken, TerminationNote,
};
use crate::store::{AttemptRecord, ClaimedNotification, NotificationRecord, StoreError};

/// The column reads a contract needs, for either database's rows.
pub(super) trait Columns {
    fn string(&self, col: &str) -> String;
    fn text(&self, col: &str) -> Option<String>;
    fn int(&self, col: &str) -> i64;
    fn opt_int(&self, col: &str) -> Option<i64>;
    fn opt_float(&self, col: &str) -> Option<f64>;
    fn flag(&self, col: &str) -> bool;
}

macro_rules! columns {
    ($row:ty) => {
        impl Columns for $row {
            fn string(&self, col: &str) -> String {
                self.get(col)
            }
            fn text(&self, col: &str) -> Option<String> {
                self.get(col)
            }
            fn int(&self, col: &str) -> i64 {
                self.get(col)
            }
            fn opt_int(&self, col: &str) -> Option<i64> {
                self.get(col)
            }
            fn opt_float(&self, col: &str) -> Option<f64> {
                self.get(col)
            }
            fn flag(&self, col: &str) -> bool {
                self.get(col)
            }
        }
    };
}
columns!(SqliteRow);
columns!(PgRow);

pub(super) const COLUMNS: &str = "contract_id, mchid, sub_mchid, appid, sp_appid, sub_appid, plan_id, out_contract_code, \
    user_display_name, openid, success_notify_url, state, channel, session_token, session_expires_at, return_url, \
    return_appid, user_client_ip, created_at, signed_time, expired_time, terminated_time, termination_mode, termination_note, \
    api, request_serial, sign_type";

pub(super) fn corrupt(id: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("contract {id}: {what}"))
}

pub(super) fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn opt_ts(secs: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(ts).transpose()
}

pub(super) fn contract(row: &impl Columns) -> Result<Contract, StoreError> {
    let id = row.string("contract_id");
    let appid = |col: &str| -> Result<Option<AppId>, StoreError> {
        row.text(col)
            .map(|a| AppId::parse(&a).map_err(|_| corrupt(&id, col)))
            .transpose()
    };
    let mchid = |s: String, col: &str| Mchid::parse(&s).map_err(|_| corrupt(&id, col));
    let sub_mchid = row.string("sub_mchid");
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
    let text = |col: &str| row.text(col);
    let api = match row.string("api").as_str() {
        "V3" => Api::V3,
        "V2" => Api::V2(V2Terms {
            request_serial: row
                .opt_int("request_serial")
                .ok_or_else(|| corrupt(&id, "request_serial"))?,
            sign_type: text("sign_type")
                .and_then(|t| SignType::parse(&t))
                .ok_or_else(|| corrupt(&id, "sign_type"))?,
        }),
        _ => return Err(corrupt(&id, "api")),
    };
    Ok(Contract {
        api,
        mchid: mchid(row.string("mchid"), "mchid")?,
        party,
        plan_id: PlanId::new(row.int("plan_id")).map_err(|_| corrupt(&id, "plan_id"))?,
        out_contract_code: OutContractCode::from_stored(row.string("out_contract_code")),
        user_display_name: text("user_display_name").map(DisplayName::from_stored),
        openid: text("openid").map(OpenId::from_stored),
        success_notify_url: NotifyUrl::from_stored(row.string("success_notify_url")),
        state: ContractState::parse(&row.string("state")).ok_or_else(|| corrupt(&id, "state"))?,
        session: Session {
            token: SessionToken::from_stored(row.string("session_token")),
            channel: Channel::parse(&row.string("channel")).ok_or_else(|| corrupt(&id, "channel"))?,
            expires_at: ts(row.int("session_expires_at"))?,
            return_url: text("return_url").map(ReturnUrl::from_stored),
            return_appid: appid("return_appid")?,
            user_client_ip: text("user_client_ip").map(ClientIp::from_stored),
        },
        created_at: ts(row.int("created_at"))?,
        signed_time: opt_ts(row.opt_int("signed_time"))?,
        expired_time: opt_ts(row.opt_int("expired_time"))?,
        terminated_time: opt_ts(row.opt_int("terminated_time"))?,
        termination_mode: text("termination_mode")
            .map(|m| TerminationMode::parse(&m).ok_or_else(|| corrupt(&id, "termination_mode")))
            .transpose()?,
        termination_note: text("termination_note").map(TerminationNote::from_stored),
        contract_id: ContractId::from_stored(id),
    })
}

/// The `api`, `request_serial` and `sign_type` columns.
pub(super) fn api_columns(api: Api) -> (&'static str, Option<i64>, Option<&'static str>) {
    match api {
        Api::V3 => (api.as_str(), None, None),
        Api::V2(t) => (api.as_str(), Some(t.request_serial), Some(t.sign_type.as_str())),
    }
}

pub(super) fn party_columns(p: &Party) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
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

/// A time as stored where sub-second precision matters: Unix milliseconds.
pub(super) fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) fn from_ms(v: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A notification row as claimed (`RETURNING` its columns).
pub(super) fn claimed(r: &impl Columns) -> Result<ClaimedNotification, StoreError> {
    let api = r.string("api");
    Ok(ClaimedNotification {
        schedule: Schedule::parse(&api).ok_or_else(|| StoreError::Corrupt(format!("outbox api {api}")))?,
        id: r.string("id"),
        contract_id: ContractId::from_stored(r.string("contract_id")),
        mchid: Mchid::parse(&r.string("mchid")).map_err(|e| StoreError::Corrupt(format!("outbox mchid: {e}")))?,
        event_type: r.string("event_type"),
        created_at: from_ms(r.int("created_at") * 1000)?,
        body: r.text("body"),
        attempts: u32::try_from(r.int("attempts")).unwrap_or(u32::MAX),
        schedule_base: from_ms(r.int("schedule_base_ms"))?,
    })
}

/// The columns [`notification`] reads.
pub(super) const RECORD_COLUMNS: &str =
    "id, contract_id, event_type, created_at, status, attempts, due_virtual_ms, body";

/// A notification with its delivery state, without its log.
pub(super) fn notification(r: &impl Columns) -> Result<NotificationRecord, StoreError> {
    let id = r.string("id");
    let bad = |what: &str| StoreError::Corrupt(format!("notification {id}: {what}"));
    Ok(NotificationRecord {
        contract_id: ContractId::from_stored(r.string("contract_id")),
        event_type: r.string("event_type"),
        created_at: from_ms(r.int("created_at") * 1000)?,
        status: DeliveryStatus::parse(&r.string("status")).ok_or_else(|| bad("status"))?,
        attempts: u32::try_from(r.int("attempts")).map_err(|_| bad("attempts"))?,
        next_due: r.opt_int("due_virtual_ms").map(from_ms).transpose()?,
        body: r.text("body"),
        log: Vec::new(),
        id,
    })
}

/// The columns [`attempt`] reads.
pub(super) const ATTEMPT_COLUMNS: &str =
    "number, at_ms, virtual_at_ms, url, http_status, latency_ms, outcome, error, response_head";

/// One line of notification `id`'s delivery log.
pub(super) fn attempt(r: &impl Columns, id: &str) -> Result<AttemptRecord, StoreError> {
    Ok(AttemptRecord {
        number: u32::try_from(r.int("number")).unwrap_or_default(),
        at: from_ms(r.int("at_ms"))?,
        virtual_at: from_ms(r.int("virtual_at_ms"))?,
        url: r.string("url"),
        http_status: r.opt_int("http_status").and_then(|s| u16::try_from(s).ok()),
        latency_ms: u64::try_from(r.int("latency_ms")).unwrap_or_default(),
        outcome: AttemptOutcome::parse(&r.string("outcome"))
            .ok_or_else(|| StoreError::Corrupt(format!("attempt of {id}: outcome")))?,
        error: r.text("error"),
        response_head: r.text("response_head"),
    })
}

/// The sandbox columns of a `merchants` row (clock anchors and speed, `origin`, and a
/// `faults_pending` flag computed by the query).
pub(super) fn sandbox_state(row: &impl Columns) -> Result<SandboxState, StoreError> {
    let clock = match (
        row.opt_int("clock_anchor_real_ms"),
        row.opt_int("clock_anchor_virtual_ms"),
        row.opt_float("clock_speed"),
    ) {
        (Some(r), Some(v), Some(speed)) => Some(VirtualClock {
            anchor_real: from_ms(r)?,
            anchor_virtual: from_ms(v)?,
            speed,
        }),
        _ => None,
    };
    Ok(SandboxState {
        clock,
        faults_pending: row.flag("faults_pending"),
        throwaway: row.string("origin") == "sandbox",
    })
}

pub(super) fn fault(row: &impl Columns) -> Result<Fault, StoreError> {
    let bad = |what: &str| StoreError::Corrupt(format!("fault {}: {what}", row.int("id")));
    Ok(Fault {
        id: row.int("id"),
        endpoint: FaultEndpoint::parse(&row.string("endpoint")).ok_or_else(|| bad("endpoint"))?,
        kind: FaultKind::parse(&row.string("kind")).ok_or_else(|| bad("kind"))?,
        remaining: u32::try_from(row.int("remaining")).map_err(|_| bad("remaining"))?,
        latency_ms: u32::try_from(row.int("latency_ms")).map_err(|_| bad("latency"))?,
    })
}

/// The merchants query both stores run for [`crate::store::Store::merchant_listing`].
pub(super) const MERCHANT_LISTING: &str = "SELECT m.mchid, m.origin, m.notifications_paused,
     (SELECT COUNT(*) FROM contracts c WHERE c.mchid = m.mchid) AS contracts,
     (SELECT COUNT(*) FROM notification_outbox o WHERE o.mchid = m.mchid AND o.status = 'PENDING') AS pending
     FROM merchants m ORDER BY m.mchid";
/// Its plans query.
pub(super) const PLAN_OWNERS: &str = "SELECT plan_id, mchid FROM plans ORDER BY plan_id";

/// Merchant rows of [`MERCHANT_LISTING`] with the (plan_id, mchid) rows of [`PLAN_OWNERS`].
pub(super) fn merchant_listing(
    rows: &[impl Columns],
    plans: &[(i64, String)],
) -> Result<Vec<crate::store::MerchantListing>, StoreError> {
    let bad = |id: &str, what: &str| StoreError::Corrupt(format!("merchant {id}: {what}"));
    rows.iter()
        .map(|r| {
            let id = r.string("mchid");
            let mchid = Mchid::parse(&id).map_err(|_| bad(&id, "mchid"))?;
            let origin = crate::store::Origin::parse(&r.string("origin")).ok_or_else(|| bad(&id, "origin"))?;
            let plan_ids = plans
                .iter()
                .filter(|(_, owner)| *owner == id)
                .map(|(p, _)| PlanId::new(*p).map_err(|_| bad(&id, "plan_id")))
                .collect::<Result<_, _>>()?;
            Ok(crate::store::MerchantListing {
                mchid,
                origin,
                notifications_paused: r.flag("notifications_paused"),
                plan_ids,
                contracts: u64::try_from(r.int("contracts")).unwrap_or_default(),
                pending_notifications: u64::try_from(r.int("pending")).unwrap_or_default(),
            })
        })
        .collect()
}
