//! Tests of the PostgreSQL contract and notification use-cases against a real server. They run
//! only when `PAPAY_TEST_POSTGRES` names an admin URL (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); each creates a fresh database `pgb_<random>`,
//! migrates it through `PgStore::open_url`, inserts its merchants and plans with plain SQL,
//! and drops the database at the end (also when the test fails).

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use papay_protocol::notifications::{EVENT_SIGN, EVENT_TERMINATE};
use papay_protocol::v2::sign::SignType;
use sqlx::{Connection, PgPool};
use time::OffsetDateTime;

use super::super::{notifications, PgStore};
use crate::domain::contract::{
    Api, Channel, Contract, ContractState, Event, Party, Refusal, Session, SignFailure, TerminationMode, UserAction,
    V2Terms,
};
use crate::domain::ids::{AppId, Mchid, PlanId};
use crate::domain::notification::{AttemptOutcome, DeliveryStatus};
use crate::domain::values::{ContractId, NotifyUrl, OpenId, OutContractCode, SessionToken, TerminationNote};
use crate::store::{Attempt, ContractFilter, NotificationFilter, SessionLookup};

const MCHID: &str = "1900000109";
const OTHER_MCHID: &str = "1900000110";
const PLAN: i64 = 4001;

/// A scratch database: its URL and a pool on it.
struct Db {
    url: String,
    pool: PgPool,
}

impl Db {
    /// Another "instance": a store of its own (own pool) on the same database.
    async fn instance(&self) -> PgPool {
        PgStore::open_url(&self.url).await.expect("open store").pool
    }
}

/// Runs `body` on a fresh, migrated database with two merchants and a plan each, then drops
/// the database; skipped without `PAPAY_TEST_POSTGRES`.
async fn with_db<F, Fut>(body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin) = std::env::var("PAPAY_TEST_POSTGRES") else {
        eprintln!("PAPAY_TEST_POSTGRES not set: skipping");
        return;
    };
    let name = format!("pgb_{}", crate::domain::values::notification_id().replace('-', ""));
    let mut admin_conn = sqlx::PgConnection::connect(&admin).await.expect("admin connection");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&name);
    let url = url.to_string();

    let outcome = async {
        let store = PgStore::open_url(&url).await.expect("open store");
        let pool = store.pool.clone();
        for (mchid, plan) in [(MCHID, PLAN), (OTHER_MCHID, PLAN + 1)] {
            sqlx::query("INSERT INTO merchants (mchid, name, origin, updated_at) VALUES ($1, 'Test', 'config', 0)")
                .bind(mchid)
                .execute(&pool)
                .await
                .expect("merchant");
            sqlx::query("INSERT INTO plans (plan_id, mchid, name, contract_validity_days) VALUES ($1, $2, 'Plan', 30)")
                .bind(plan)
                .bind(mchid)
                .execute(&pool)
                .await
                .expect("plan");
        }
        tokio::spawn(body(Db { url: url.clone(), pool })).await
    }
    .await;

    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await
        .expect("drop database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Now, in whole seconds (as contracts store their times).
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}

fn presigned(mchid: &str, plan: i64, code: &str, at: OffsetDateTime) -> Contract {
    Contract {
        contract_id: ContractId::generate(at),
        api: Api::V3,
        mchid: Mchid::parse(mchid).unwrap(),
        party: Party::Common {
            appid: AppId::parse("wxd678efh567hg6787").unwrap(),
        },
        plan_id: PlanId::new(plan).unwrap(),
        out_contract_code: OutContractCode::from_stored(code.to_string()),
        user_display_name: None,
        openid: None,
        success_notify_url: NotifyUrl::from_stored("https://merchant.example/notify".to_string()),
        state: ContractState::NotSign,
        session: Session {
            token: SessionToken::generate(at),
            channel: Channel::H5,
            expires_at: at + Duration::from_secs(600),
            return_url: None,
            return_appid: None,
            user_client_ip: None,
        },
        created_at: at,
        signed_time: None,
        expired_time: None,
        terminated_time: None,
        termination_mode: None,
        termination_note: None,
    }
}

/// A fresh pre-sign of (`MCHID`, `PLAN`, `code`), stored.
async fn signed_up(pool: &PgPool, code: &str, at: OffsetDateTime) -> Contract {
    super::presign(pool, &presigned(MCHID, PLAN, code, at))
        .await
        .unwrap()
        .expect("pre-sign accepted")
}

fn agree(openid: &str) -> UserAction {
    UserAction::Agree {
        openid: OpenId::from_stored(openid.to_string()),
        client_ip: None,
    }
}

fn mchid() -> Mchid {
    Mchid::parse(MCHID).unwrap()
}

fn all_of(limit: u32) -> NotificationFilter {
    NotificationFilter {
        limit,
        ..NotificationFilter::default()
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn presign_renew_query_sign_terminate() {
    with_db(|db| async move {
        let pool = &db.pool;
        let t0 = now();
        let first = presigned(MCHID, PLAN, "code-1", t0);
        let c1 = super::presign(pool, &first).await.unwrap().expect("new contract");
        assert_eq!(c1, first);

        // Queries.
        let id = &c1.contract_id;
        assert_eq!(super::by_id(pool, None, id).await.unwrap().as_ref(), Some(&c1));
        assert_eq!(
            super::by_id(pool, Some(&mchid()), id).await.unwrap().as_ref(),
            Some(&c1)
        );
        let other = Mchid::parse(OTHER_MCHID).unwrap();
        assert_eq!(super::by_id(pool, Some(&other), id).await.unwrap(), None);
        let code = OutContractCode::from_stored("code-1".into());
        let plan = PlanId::new(PLAN).unwrap();
        assert_eq!(
            super::by_code(pool, &mchid(), None, plan, &code)
                .await
                .unwrap()
                .as_ref(),
            Some(&c1)
        );
        assert_eq!(
            super::by_code(pool, &mchid(), Some(&other), plan, &code).await.unwrap(),
            None
        );
        let unknown = ContractId::from_stored("nope".into());
        assert_eq!(
            super::by_ids(pool, &[id.clone(), unknown]).await.unwrap(),
            vec![c1.clone()]
        );
        assert!(super::by_ids(pool, &[]).await.unwrap().is_empty());

        // A renewal keeps the contract id and creation time, and retires the old link.
        let again = presigned(MCHID, PLAN, "code-1", t0 + Duration::from_secs(5));
        let c2 = super::presign(pool, &again).await.unwrap().expect("renewed");
        assert_eq!(c2.contract_id, c1.contract_id);
        assert_eq!(c2.created_at, t0);
        assert_eq!(count(pool, "SELECT COUNT(*) FROM contracts").await, 1);
        match super::session(pool, c1.session.token.as_str()).await.unwrap() {
            Some(SessionLookup::Replaced(c)) => assert_eq!(c.session.token, c2.session.token),
            other => panic!("old link: {other:?}"),
        }
        match super::session(pool, c2.session.token.as_str()).await.unwrap() {
            Some(SessionLookup::Current(c)) => assert_eq!(c, c2),
            other => panic!("new link: {other:?}"),
        }
        assert!(super::session(pool, "unknown").await.unwrap().is_none());
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(
            super::act_on_session(pool, c1.session.token.as_str(), &UserAction::Open, t1)
                .await
                .unwrap(),
            Err(Refusal::SessionExpired)
        );
        assert_eq!(
            super::act_on_session(pool, "unknown", &UserAction::Open, t1)
                .await
                .unwrap(),
            Err(Refusal::UnknownSession)
        );

        // Open, open again (no change), agree: SIGNED with a PAPAY.SIGN in the outbox.
        let token = c2.session.token.as_str();
        let opened = super::act_on_session(pool, token, &UserAction::Open, t1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(opened.contract.state, ContractState::Signing);
        let reopened = super::act_on_session(pool, token, &UserAction::Open, t1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reopened.contract.state, ContractState::Signing);
        let signed = super::act_on_session(pool, token, &agree("openid-1"), t1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(signed.event, Event::UserAgreed);
        assert_eq!(signed.contract.state, ContractState::Signed);
        assert_eq!(signed.contract.signed_time, Some(t1));
        assert_eq!(signed.contract.expired_time, Some(t1 + time::Duration::days(30)));
        let stored = super::by_id(pool, None, id).await.unwrap().unwrap();
        assert_eq!(stored, signed.contract);
        let outbox = notifications::list(pool, &mchid(), &all_of(10)).await.unwrap();
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].event_type, EVENT_SIGN);
        assert_eq!(outbox[0].contract_id, c1.contract_id);
        assert_eq!(outbox[0].status, DeliveryStatus::Pending);
        assert_eq!(
            super::act_on_session(pool, token, &UserAction::Decline, t1)
                .await
                .unwrap(),
            Err(Refusal::SessionClosed)
        );

        // A signed code is not pre-signed again.
        let third = presigned(MCHID, PLAN, "code-1", t1);
        assert_eq!(
            super::presign(pool, &third).await.unwrap(),
            Err(Refusal::ContractExisted)
        );

        // Termination: only the merchant's own, only once, with a PAPAY.TERMINATE.
        let t2 = t1 + Duration::from_secs(60);
        let note = TerminationNote::from_stored("bye".into());
        assert_eq!(
            super::terminate(pool, Some(&other), id, TerminationMode::Merchant, None, t2)
                .await
                .unwrap(),
            Err(Refusal::NotTerminable)
        );
        let ended = super::terminate(pool, Some(&mchid()), id, TerminationMode::Merchant, Some(&note), t2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ended.state, ContractState::Terminated);
        assert_eq!(ended.terminated_time, Some(t2));
        assert_eq!(ended.termination_note, Some(note));
        assert_eq!(super::by_id(pool, None, id).await.unwrap().unwrap(), ended);
        assert_eq!(
            super::terminate(pool, None, id, TerminationMode::Platform, None, t2)
                .await
                .unwrap(),
            Err(Refusal::NotTerminable)
        );
        assert_eq!(
            super::terminate(
                pool,
                None,
                &ContractId::from_stored("nope".into()),
                TerminationMode::User,
                None,
                t2
            )
            .await
            .unwrap(),
            Err(Refusal::NotTerminable)
        );
        let outbox = notifications::list(pool, &mchid(), &all_of(10)).await.unwrap();
        assert_eq!(
            outbox.iter().map(|n| n.event_type.as_str()).collect::<Vec<_>>(),
            [EVENT_TERMINATE, EVENT_SIGN],
            "newest first"
        );

        let history: Vec<(String, Option<ContractState>, ContractState)> = super::transitions(pool, id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.event, t.from, t.to))
            .collect();
        use ContractState::*;
        assert_eq!(
            history,
            [
                ("PRESIGN".to_string(), None, NotSign),
                ("PRESIGN_RENEWED".to_string(), Some(NotSign), NotSign),
                ("USER_OPENED".to_string(), Some(NotSign), Signing),
                ("USER_AGREED".to_string(), Some(Signing), Signed),
                ("TERMINATED_BY_MERCHANT".to_string(), Some(Signed), Terminated),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn decline_expire_v2_institutional_and_listing() {
    with_db(|db| async move {
        let pool = &db.pool;
        let t0 = now();
        // Several contracts in the same second: "newest first" falls back on insertion order.
        let mut made = Vec::new();
        for i in 0..4 {
            made.push(signed_up(pool, &format!("list-{i}"), t0).await);
        }
        let declined = super::act_on_session(pool, made[0].session.token.as_str(), &UserAction::Decline, t0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(declined.contract.state, ContractState::SignFail);
        assert_eq!(declined.event, Event::SigningFailed(SignFailure::Declined));
        let expired = super::act_on_session(pool, made[1].session.token.as_str(), &UserAction::Expire, t0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(expired.contract.session.expires_at, t0);
        assert_eq!(
            super::act_on_session(pool, made[1].session.token.as_str(), &UserAction::Open, t0)
                .await
                .unwrap(),
            Err(Refusal::SessionExpired)
        );
        assert!(notifications::list(pool, &mchid(), &all_of(10))
            .await
            .unwrap()
            .is_empty());

        // A SIGNFAIL code may be pre-signed again.
        let renewed = super::presign(pool, &presigned(MCHID, PLAN, "list-0", t0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renewed.contract_id, made[0].contract_id);

        let all = super::list(
            pool,
            &mchid(),
            &ContractFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let ids: Vec<_> = all.iter().map(|c| c.contract_id.clone()).collect();
        let expected: Vec<_> = made.iter().rev().map(|c| c.contract_id.clone()).collect();
        assert_eq!(ids, expected);
        let limited = super::list(
            pool,
            &mchid(),
            &ContractFilter {
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(limited.len(), 2);
        let by_state = super::list(
            pool,
            &mchid(),
            &ContractFilter {
                state: Some(ContractState::NotSign),
                plan_id: Some(PlanId::new(PLAN).unwrap()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_state.len(), 4, "renewed, expired and two fresh ones");
        let by_code = super::list(
            pool,
            &mchid(),
            &ContractFilter {
                out_contract_code: Some(OutContractCode::from_stored("list-2".into())),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_code.len(), 1);
        assert_eq!(by_code[0].contract_id, made[2].contract_id);
        let other_plan = super::list(
            pool,
            &mchid(),
            &ContractFilter {
                plan_id: Some(PlanId::new(PLAN + 1).unwrap()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(other_plan.is_empty());

        // An APIv2, institutional contract reads back as written.
        let mut v2 = presigned(MCHID, PLAN, "v2-code", t0);
        v2.api = Api::V2(V2Terms {
            request_serial: 1234567890123,
            sign_type: SignType::HmacSha256,
        });
        v2.party = Party::Institutional {
            sp_appid: AppId::parse("wxsp").unwrap(),
            sub_mchid: Mchid::parse("1900000999").unwrap(),
            sub_appid: Some(AppId::parse("wxsub").unwrap()),
        };
        v2.openid = Some(OpenId::from_stored("v2-user".into()));
        let stored = super::presign(pool, &v2).await.unwrap().unwrap();
        assert_eq!(stored, v2);
        assert_eq!(
            super::by_id(pool, None, &v2.contract_id).await.unwrap(),
            Some(v2.clone())
        );
        let sub = Mchid::parse("1900000999").unwrap();
        let found = super::by_code(
            pool,
            &mchid(),
            Some(&sub),
            PlanId::new(PLAN).unwrap(),
            &v2.out_contract_code,
        )
        .await
        .unwrap();
        assert_eq!(found, Some(v2.clone()));
        // Signed: its notification follows the v2 schedule.
        let signed = super::act_on_session(pool, v2.session.token.as_str(), &agree("v2-user"), t0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(signed.contract.state, ContractState::Signed);
        let apis: Vec<String> = sqlx::query_scalar("SELECT api FROM notification_outbox")
            .fetch_all(pool)
            .await
            .unwrap();
        assert_eq!(apis, ["V2"]);
        let claimed = notifications::claim(pool, "w", OffsetDateTime::now_utc() + Duration::from_secs(1), 1000, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].schedule, crate::domain::notification::Schedule::V2);
        assert_eq!(claimed[0].contract_id, v2.contract_id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_presigns_of_one_code_make_one_contract() {
    with_db(|db| async move {
        let instances = [db.pool.clone(), db.instance().await, db.instance().await];
        let t0 = now();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let pool = instances[i % instances.len()].clone();
            tasks.push(tokio::spawn(async move {
                super::presign(&pool, &presigned(MCHID, PLAN, "raced", t0)).await
            }));
        }
        let mut ids = HashSet::new();
        for t in tasks {
            let c = t.await.unwrap().expect("no database error").expect("accepted");
            ids.insert(c.contract_id);
        }
        assert_eq!(ids.len(), 1, "every pre-sign answers the one contract");
        assert_eq!(count(&db.pool, "SELECT COUNT(*) FROM contracts").await, 1);
        assert_eq!(count(&db.pool, "SELECT COUNT(*) FROM retired_sessions").await, 49);
        assert_eq!(count(&db.pool, "SELECT COUNT(*) FROM contract_transitions").await, 50);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_agreements_of_one_user_sign_once() {
    with_db(|db| async move {
        let instances = [db.pool.clone(), db.instance().await, db.instance().await];
        let t0 = now();
        for round in 0..5 {
            let a = signed_up(&db.pool, &format!("a-{round}"), t0).await;
            let b = signed_up(&db.pool, &format!("b-{round}"), t0).await;
            let openid = format!("user-{round}");
            let mut tasks = Vec::new();
            for i in 0..200 {
                let pool = instances[i % instances.len()].clone();
                let token = if i % 2 == 0 { &a } else { &b }.session.token.clone();
                let action = agree(&openid);
                tasks.push(tokio::spawn(async move {
                    super::act_on_session(&pool, token.as_str(), &action, t0).await
                }));
            }
            let mut signed = 0;
            for t in tasks {
                match t.await.unwrap().expect("no database error") {
                    Ok(change) if change.event == Event::UserAgreed => signed += 1,
                    Ok(change) => assert_eq!(change.event, Event::SigningFailed(SignFailure::AlreadySigned)),
                    Err(refusal) => assert_eq!(refusal, Refusal::SessionClosed),
                }
            }
            assert_eq!(signed, 1, "round {round}");
            let mut states = Vec::new();
            for c in [&a, &b] {
                states.push(
                    super::by_id(&db.pool, None, &c.contract_id)
                        .await
                        .unwrap()
                        .unwrap()
                        .state,
                );
            }
            states.sort_by_key(|s| s.as_str());
            assert_eq!(
                states,
                [ContractState::Signed, ContractState::SignFail],
                "round {round}"
            );
            let signs: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM notification_outbox WHERE contract_id IN ($1, $2) AND event_type = $3",
            )
            .bind(a.contract_id.as_str())
            .bind(b.contract_id.as_str())
            .bind(EVENT_SIGN)
            .fetch_one(&db.pool)
            .await
            .unwrap();
            assert_eq!(signs, 1, "round {round}");
        }
    })
    .await;
}

/// The losing agreement's UPDATE blocks on the unique index behind an uncommitted SIGNED row
/// (so the up-front check cannot see it), then meets the unique violation: SIGNFAIL, no error.
#[tokio::test]
async fn agreement_losing_to_an_uncommitted_signature_ends_in_signfail() {
    with_db(|db| async move {
        let t0 = now();
        let a = signed_up(&db.pool, "first", t0).await;
        let b = signed_up(&db.pool, "second", t0).await;
        let mut rival = db.pool.begin().await.unwrap();
        sqlx::query("UPDATE contracts SET state = 'SIGNED', openid = 'racer', last_event = 'USER_AGREED' WHERE contract_id = $1")
            .bind(a.contract_id.as_str())
            .execute(&mut *rival)
            .await
            .unwrap();
        let pool = db.pool.clone();
        let token = b.session.token.clone();
        let loser = tokio::spawn(async move { super::act_on_session(&pool, token.as_str(), &agree("racer"), t0).await });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!loser.is_finished(), "waits on the rival's index entry");
        rival.commit().await.unwrap();
        let change = loser.await.unwrap().expect("no database error").expect("a change");
        assert_eq!(change.event, Event::SigningFailed(SignFailure::AlreadySigned));
        assert_eq!(change.contract.state, ContractState::SignFail);
        assert_eq!(change.contract.openid, Some(OpenId::from_stored("racer".into())));
        let stored = super::by_id(&db.pool, None, &b.contract_id).await.unwrap().unwrap();
        assert_eq!(stored, change.contract);
        let last = super::transitions(&db.pool, &b.contract_id).await.unwrap().pop().unwrap();
        assert_eq!(last.event, "SIGNING_FAILED_ALREADY_SIGNED");
        assert!(notifications::list(&db.pool, &mchid(), &all_of(10)).await.unwrap().is_empty());
    })
    .await;
}

/// Queues `n` notifications of one signed contract at merchant time `at`; answers their ids.
async fn queued(pool: &PgPool, n: usize, at: OffsetDateTime) -> (Contract, Vec<String>) {
    let c = signed_up(pool, &format!("queue-{}", crate::domain::values::notification_id()), at).await;
    let mut ids = Vec::new();
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..n {
        let id = crate::domain::values::notification_id();
        notifications::enqueue(&mut conn, &id, &c, EVENT_SIGN, at)
            .await
            .unwrap();
        ids.push(id);
    }
    (c, ids)
}

fn attempt(id: &str, at: OffsetDateTime, status: DeliveryStatus, next_due: Option<OffsetDateTime>) -> Attempt {
    Attempt {
        notification_id: id.to_string(),
        at,
        virtual_at: at,
        url: "https://merchant.example/notify".to_string(),
        http_status: Some(if status == DeliveryStatus::Delivered { 200 } else { 500 }),
        latency: Duration::from_millis(12),
        outcome: if status == DeliveryStatus::Delivered {
            AttemptOutcome::Delivered
        } else {
            AttemptOutcome::Failed
        },
        error: None,
        response_head: Some("HTTP/1.1".to_string()),
        status,
        next_due,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_are_disjoint_and_expired_leases_come_back() {
    with_db(|db| async move {
        let instances = [
            db.pool.clone(),
            db.instance().await,
            db.instance().await,
            db.instance().await,
        ];
        let t0 = OffsetDateTime::now_utc();
        let (_, ids) = queued(&db.pool, 60, t0).await;
        let claim_at = t0 + Duration::from_millis(1);
        let lease = 60_000;

        // Four owners claim at once: disjoint sets covering the queue.
        let mut tasks = Vec::new();
        for (i, pool) in instances.iter().enumerate() {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                notifications::claim(&pool, &format!("owner-{i}"), claim_at, lease, 20).await
            }));
        }
        let mut seen = HashSet::new();
        let mut claimed_by = Vec::new();
        for t in tasks {
            let got = t.await.unwrap().expect("no database error");
            assert!(got.len() <= 20);
            for n in &got {
                assert!(seen.insert(n.id.clone()), "{} claimed twice", n.id);
                assert_eq!(n.event_type, EVENT_SIGN);
                assert_eq!(n.attempts, 0);
            }
            claimed_by.push(got);
        }
        assert_eq!(seen, ids.iter().cloned().collect::<HashSet<_>>());

        // Leased: nothing to claim until the leases run out, then everything again.
        let later = claim_at + Duration::from_secs(30);
        assert!(notifications::claim(&db.pool, "late", later, lease, 100)
            .await
            .unwrap()
            .is_empty());
        let expired = claim_at + Duration::from_millis(lease as u64 + 1);
        let retaken = notifications::claim(&db.pool, "taker", expired, lease, 100)
            .await
            .unwrap();
        assert_eq!(retaken.len(), ids.len());

        // The first owners lost their leases: their results are not recorded.
        let first = claimed_by.iter().find(|c| !c.is_empty()).unwrap()[0].id.clone();
        let first_owner = (0..4).find(|i| claimed_by[*i].iter().any(|n| n.id == first)).unwrap();
        notifications::record(
            &db.pool,
            &format!("owner-{first_owner}"),
            &[attempt(&first, expired, DeliveryStatus::Delivered, None)],
        )
        .await
        .unwrap();
        let (_, rec) = notifications::get(&db.pool, &first).await.unwrap().unwrap();
        assert_eq!(
            (rec.attempts, rec.status, rec.log.len()),
            (0, DeliveryStatus::Pending, 0)
        );

        // The new owner records: one delivered, one retried later, one given up.
        let retry_at = expired + Duration::from_secs(10);
        notifications::record(
            &db.pool,
            "taker",
            &[
                attempt(&ids[0], expired, DeliveryStatus::Delivered, None),
                attempt(&ids[1], expired, DeliveryStatus::Pending, Some(retry_at)),
                attempt(&ids[2], expired, DeliveryStatus::GaveUp, None),
            ],
        )
        .await
        .unwrap();
        let (owner, rec) = notifications::get(&db.pool, &ids[0]).await.unwrap().unwrap();
        assert_eq!(owner, mchid());
        assert_eq!(
            (rec.attempts, rec.status, rec.next_due),
            (1, DeliveryStatus::Delivered, None)
        );
        assert_eq!(rec.log.len(), 1);
        assert_eq!(rec.log[0].number, 1);
        assert_eq!(rec.log[0].http_status, Some(200));
        assert_eq!(rec.log[0].latency_ms, 12);
        assert_eq!(rec.log[0].outcome, AttemptOutcome::Delivered);
        let (_, rec) = notifications::get(&db.pool, &ids[1]).await.unwrap().unwrap();
        assert_eq!(rec.status, DeliveryStatus::Pending);
        assert_eq!(
            rec.next_due,
            Some(super::super::from_ms(super::super::ms(retry_at)).unwrap())
        );
        let (_, rec) = notifications::get(&db.pool, &ids[2]).await.unwrap().unwrap();
        assert_eq!(rec.status, DeliveryStatus::GaveUp);
        assert!(notifications::get(&db.pool, "nope").await.unwrap().is_none());

        // Recorded rows are released; the rest are still leased to "taker".
        let after = expired + Duration::from_secs(20);
        let again = notifications::claim(&db.pool, "third", after, lease, 100)
            .await
            .unwrap();
        assert_eq!(again.iter().map(|n| n.id.clone()).collect::<Vec<_>>(), [ids[1].clone()]);
        assert_eq!(again[0].attempts, 1);

        // Listing and filters.
        let delivered = notifications::list(
            &db.pool,
            &mchid(),
            &NotificationFilter {
                status: Some(DeliveryStatus::Delivered),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            delivered.iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
            [ids[0].clone()]
        );
        assert_eq!(
            notifications::list(&db.pool, &mchid(), &all_of(5)).await.unwrap().len(),
            5
        );
        // The pre-sign of `queued` was signed by nobody: its outbox rows are ours alone.
        let other = Mchid::parse(OTHER_MCHID).unwrap();
        assert!(notifications::list(&db.pool, &other, &all_of(100))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn next_due_resend_pause_bodies_and_virtual_clocks() {
    with_db(|db| async move {
        let pool = &db.pool;
        assert_eq!(notifications::next_due(pool).await.unwrap(), None);
        let t0 = OffsetDateTime::now_utc();
        let (_, ids) = queued(pool, 2, t0).await;
        let t0_ms = super::super::from_ms(super::super::ms(t0)).unwrap();
        assert_eq!(notifications::next_due(pool).await.unwrap(), Some(t0_ms));

        // Paused: nothing due, nothing claimed; resumed: back.
        assert!(notifications::set_paused(pool, &mchid(), true).await.unwrap());
        assert_eq!(notifications::next_due(pool).await.unwrap(), None);
        let soon = t0 + Duration::from_secs(1);
        assert!(notifications::claim(pool, "w", soon, 1000, 10)
            .await
            .unwrap()
            .is_empty());
        assert!(notifications::set_paused(pool, &mchid(), false).await.unwrap());
        assert!(!notifications::set_paused(pool, &Mchid::parse("1").unwrap(), true)
            .await
            .unwrap());
        assert_eq!(notifications::next_due(pool).await.unwrap(), Some(t0_ms));

        // Envelopes: the first writer wins.
        let kept = notifications::fix_bodies(pool, &[(ids[0].clone(), "first".into()), ("nope".into(), "x".into())])
            .await
            .unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[&ids[0]], "first");
        let kept = notifications::fix_bodies(pool, &[(ids[0].clone(), "second".into()), (ids[1].clone(), "b".into())])
            .await
            .unwrap();
        assert_eq!(kept[&ids[0]], "first");
        assert_eq!(kept[&ids[1]], "b");
        assert!(notifications::fix_bodies(pool, &[]).await.unwrap().is_empty());

        // Delivered, then resent: pending again, due at the resend's time.
        let claimed = notifications::claim(pool, "w", soon, 1000, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert_eq!(
            claimed.iter().find(|n| n.id == ids[0]).unwrap().body.as_deref(),
            Some("first")
        );
        let done: Vec<Attempt> = ids
            .iter()
            .map(|id| attempt(id, soon, DeliveryStatus::Delivered, None))
            .collect();
        notifications::record(pool, "w", &done).await.unwrap();
        assert_eq!(notifications::next_due(pool).await.unwrap(), None);
        let resend_at = t0 + Duration::from_secs(5);
        assert!(notifications::resend(pool, &mchid(), &ids[0], resend_at).await.unwrap());
        assert!(
            !notifications::resend(pool, &Mchid::parse(OTHER_MCHID).unwrap(), &ids[0], resend_at)
                .await
                .unwrap()
        );
        assert!(!notifications::resend(pool, &mchid(), "nope", resend_at).await.unwrap());
        let resend_ms = super::super::from_ms(super::super::ms(resend_at)).unwrap();
        assert_eq!(notifications::next_due(pool).await.unwrap(), Some(resend_ms));
        let (_, rec) = notifications::get(pool, &ids[0]).await.unwrap().unwrap();
        assert_eq!((rec.status, rec.next_due), (DeliveryStatus::Pending, Some(resend_ms)));

        // A resend while an attempt is in flight survives the attempt's result.
        let claimed = notifications::claim(pool, "w", resend_at, 1000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let resend_again = resend_at + Duration::from_secs(1);
        assert!(notifications::resend(pool, &mchid(), &ids[0], resend_again)
            .await
            .unwrap());
        notifications::record(
            pool,
            "w",
            &[attempt(&ids[0], resend_at, DeliveryStatus::Delivered, None)],
        )
        .await
        .unwrap();
        let (_, rec) = notifications::get(pool, &ids[0]).await.unwrap().unwrap();
        assert_eq!(rec.status, DeliveryStatus::Pending);
        assert_eq!(rec.attempts, 2);
        let again_ms = super::super::from_ms(super::super::ms(resend_again)).unwrap();
        assert_eq!(rec.next_due, Some(again_ms));

        // Virtual clocks: due_real_ms follows anchor + (due - anchor_virtual) / speed, BIGINT.
        let due_real = |pool: PgPool, id: String| async move {
            sqlx::query_scalar::<_, Option<i64>>("SELECT due_real_ms FROM notification_outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        let due_virtual = super::super::ms(resend_again);
        let set_clock = |real: i64, virt: i64, speed: f64| {
            let pool = pool.clone();
            async move {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(
                    "UPDATE merchants SET clock_anchor_real_ms = $1, clock_anchor_virtual_ms = $2, clock_speed = $3
                     WHERE mchid = $4",
                )
                .bind(real)
                .bind(virt)
                .bind(speed)
                .bind(MCHID)
                .execute(&mut *tx)
                .await
                .unwrap();
                notifications::retime(&mut tx, &mchid()).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        set_clock(1_000_000, due_virtual - 1000, 2.0).await;
        assert_eq!(due_real(pool.clone(), ids[0].clone()).await, Some(1_000_500));
        set_clock(1_000_000, due_virtual - 1000, 3.0).await;
        assert_eq!(
            due_real(pool.clone(), ids[0].clone()).await,
            Some(1_000_333),
            "truncated"
        );
        set_clock(1_000_000, due_virtual - 1000, 0.0).await;
        assert_eq!(due_real(pool.clone(), ids[0].clone()).await, None, "frozen short of it");
        set_clock(1_000_000, due_virtual, 0.0).await;
        assert_eq!(
            due_real(pool.clone(), ids[0].clone()).await,
            Some(1_000_000),
            "frozen at it"
        );
        // Delivered rows have no due time, and re-timing leaves them so.
        assert_eq!(due_real(pool.clone(), ids[1].clone()).await, None);

        // Enqueued under a virtual clock: due_real_ms computed at once.
        set_clock(2_000_000, 5_000_000, 4.0).await;
        let c = super::by_id(
            pool,
            None,
            &notifications::get(pool, &ids[0]).await.unwrap().unwrap().1.contract_id,
        )
        .await
        .unwrap()
        .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let at = super::super::from_ms(5_004_000).unwrap();
        notifications::enqueue(&mut conn, "virtual-one", &c, EVENT_TERMINATE, at)
            .await
            .unwrap();
        drop(conn);
        assert_eq!(due_real(pool.clone(), "virtual-one".into()).await, Some(2_001_000));
        let got: Vec<(String, i64)> =
            sqlx::query_as("SELECT api, schedule_base_ms FROM notification_outbox WHERE id = 'virtual-one'")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(got, [("V3".to_string(), 5_004_000)]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_envelope_fixes_agree_on_the_first() {
    with_db(|db| async move {
        let instances = [db.pool.clone(), db.instance().await, db.instance().await];
        let (_, ids) = queued(&db.pool, 3, OffsetDateTime::now_utc()).await;
        let mut tasks = Vec::new();
        for i in 0..30 {
            let pool = instances[i % instances.len()].clone();
            // Each writer names the ids in its own order.
            let mut bodies: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), format!("body-{i}"))).collect();
            bodies.rotate_left(i % ids.len());
            tasks.push(tokio::spawn(
                async move { notifications::fix_bodies(&pool, &bodies).await },
            ));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap().expect("no database error"));
        }
        for id in &ids {
            let (_, stored) = notifications::get(&db.pool, id).await.unwrap().unwrap();
            let stored = stored.body.expect("fixed");
            assert!(
                answers.iter().all(|a| a[id] == stored),
                "every writer is answered the stored body"
            );
        }
    })
    .await;
}
