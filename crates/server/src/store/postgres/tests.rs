//! The PostgreSQL store against a real server. Runs only when `PAPAY_TEST_POSTGRES` holds an
//! admin URL (e.g. `postgres://postgres@127.0.0.1:5432/test`); each test works in a database
//! of its own (`pga_<random>`), dropped at the end whatever the outcome.

use std::future::Future;

use papay_protocol::nonce::random_bytes;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::PgStore;
use crate::domain::clock::VirtualClock;
use crate::domain::fault::{FaultEndpoint, FaultKind};
use crate::domain::ids::{AppId, Mchid, PublicKeyId, Serial};
use crate::domain::merchant::{
    control_token_digest, ApiCredential, KeyOrigin, Merchant, Plan, PlatformKey, SubMerchant,
};
use crate::provision::throwaway::{self, Throwaway};
use crate::store::{Deleted, Origin, Store};

const ENV: &str = "PAPAY_TEST_POSTGRES";

/// Runs `test` with the URL of a fresh database, then drops the database (also if it panicked).
async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin) = std::env::var(ENV) else {
        eprintln!("{ENV} not set: PostgreSQL store test skipped");
        return;
    };
    let name = format!("pga_{}", hex::encode(random_bytes::<6>()));
    let mut conn = PgConnection::connect(&admin).await.expect("connect as admin");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&format!("/{name}"));
    let outcome = tokio::spawn(test(url.to_string())).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn throwaway() -> Throwaway {
    throwaway::generate(None, OffsetDateTime::now_utc()).expect("throwaway merchant")
}

/// A merchant with one of everything: a certificate and a bare public key to verify it, a
/// generated and an imported platform key (with a public key id), two AppIDs, a sub-merchant
/// with AppIDs of its own, an APIv3 and a v2 key; and its plan, open to the sub-merchant.
fn rich_merchant() -> (Merchant, Plan) {
    let t = throwaway();
    let other = throwaway();
    let mut m = t.merchant;
    m.name = "Rich merchant".into();
    m.api_credentials.push(ApiCredential {
        serial: Serial::parse("0a1b2c3d4e5f").unwrap(),
        public_key: other.credentials.merchant_cert.public_key().clone(),
        certificate: None,
    });
    m.platform_keys.push(
        PlatformKey::new(
            other.credentials.platform_key.clone(),
            other.credentials.platform_cert.clone(),
            Some(PublicKeyId::parse("PUB_KEY_ID_0114232134912410000").unwrap()),
            KeyOrigin::Imported,
        )
        .unwrap(),
    );
    m.appids.push(AppId::parse("wxd678efh567hg6787").unwrap());
    let sub_mchid = Mchid::parse("1900000109").unwrap();
    m.sub_merchants.push(SubMerchant {
        sub_mchid: sub_mchid.clone(),
        sub_appids: vec![
            AppId::parse("wx8888888888888888").unwrap(),
            AppId::parse("wx1111111111111111").unwrap(),
        ],
    });
    let mut plan = t.plan;
    plan.sub_mchids.push(sub_mchid);
    plan.termination_notify_url = Some("https://merchant.example/papay/terminated".into());
    (m, plan)
}

fn sorted<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(key);
    v
}

/// The provisioned parts of two merchants are equal (the store answers in key order).
fn assert_same_merchant(stored: &Merchant, given: &Merchant) {
    assert_eq!(stored.mchid, given.mchid);
    assert_eq!(stored.name, given.name);
    assert_eq!(
        stored.apiv3_key.as_ref().map(|k| k.expose().to_string()),
        given.apiv3_key.as_ref().map(|k| k.expose().to_string())
    );
    assert_eq!(
        stored.v2_key.as_ref().map(|k| k.expose().to_string()),
        given.v2_key.as_ref().map(|k| k.expose().to_string())
    );
    assert_eq!(
        stored.api_credentials,
        sorted(&given.api_credentials, |c| c.serial.as_str().to_string())
    );
    let keys = |m: &Merchant| {
        sorted(&m.platform_keys, |k| k.serial.as_str().to_string())
            .into_iter()
            .map(|k| {
                (
                    k.serial.as_str().to_string(),
                    k.private_key.to_pkcs8_pem().unwrap(),
                    k.certificate.pem().to_string(),
                    k.public_key_id.map(|i| i.as_str().to_string()),
                    k.origin,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(stored), keys(given));
    assert_eq!(stored.appids, sorted(&given.appids, |a| a.as_str().to_string()));
    let subs = sorted(&given.sub_merchants, |s| s.sub_mchid.as_str().to_string())
        .into_iter()
        .map(|s| SubMerchant {
            sub_appids: sorted(&s.sub_appids, |a| a.as_str().to_string()),
            ..s
        })
        .collect::<Vec<_>>();
    assert_eq!(stored.sub_merchants, subs);
}

/// Everything provisioning writes, as text (without `merchants.updated_at`, the time of writing).
async fn dump(store: &PgStore) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [
        ("merchant_api_credentials", "mchid, serial"),
        ("platform_keys", "mchid, serial"),
        ("merchant_appids", "mchid, appid"),
        ("sub_merchants", "sp_mchid, sub_mchid"),
        ("sub_merchant_appids", "sp_mchid, sub_mchid, appid"),
        ("plans", "plan_id"),
        ("plan_sub_merchants", "plan_id, sub_mchid"),
    ] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t ORDER BY {order}"))
            .fetch_all(&store.pool)
            .await
            .unwrap();
        out.push(format!("{table}: {}", rows.join(" | ")));
    }
    let merchants: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(',', mchid, name, apiv3_key, v2_key, origin, control_token_sha256, clock_speed,
                notifications_paused) FROM merchants ORDER BY mchid",
    )
    .fetch_all(&store.pool)
    .await
    .unwrap();
    out.push(format!("merchants: {}", merchants.join(" | ")));
    out
}

#[tokio::test]
async fn provision_reads_back_and_is_idempotent() {
    with_database(|url| async move {
        let store = PgStore::open_url(&url).await.unwrap();
        let (m, plan) = rich_merchant();
        let (plain, plain_plan) = {
            let t = throwaway();
            (t.merchant, t.plan)
        };
        let merchants = [m.clone(), plain.clone()];
        let plans = [plan.clone(), plain_plan.clone()];

        store.provision(&merchants, &plans, Origin::Config).await.unwrap();
        let first = dump(&store).await;
        store.provision(&merchants, &plans, Origin::Config).await.unwrap();
        assert_eq!(
            dump(&store).await,
            first,
            "provisioning the same set again changes nothing"
        );

        let stored = store.merchant(&m.mchid).await.unwrap().expect("provisioned merchant");
        assert_same_merchant(&stored, &m);
        assert!(!stored.sandbox.throwaway);
        assert_eq!(stored.sandbox.clock, None);
        assert!(!stored.sandbox.faults_pending);
        assert_same_merchant(&store.merchant(&plain.mchid).await.unwrap().unwrap(), &plain);
        let stored_plan = store.plan(plan.plan_id).await.unwrap().expect("provisioned plan");
        assert_eq!(stored_plan, plan);
        assert_eq!(store.plan(plain_plan.plan_id).await.unwrap(), Some(plain_plan.clone()));
        assert!(store.merchant(&Mchid::parse("1").unwrap()).await.unwrap().is_none());

        // A changed set replaces what each merchant and plan had, and only that.
        let mut fewer = m.clone();
        fewer.appids.truncate(1);
        fewer.sub_merchants.clear();
        fewer.platform_keys.truncate(1);
        fewer.v2_key = None;
        let mut fewer_plan = plan.clone();
        fewer_plan.sub_mchids.clear();
        fewer_plan.contract_validity_days = 30;
        store
            .provision(
                std::slice::from_ref(&fewer),
                std::slice::from_ref(&fewer_plan),
                Origin::Config,
            )
            .await
            .unwrap();
        assert_same_merchant(&store.merchant(&m.mchid).await.unwrap().unwrap(), &fewer);
        assert_eq!(store.plan(plan.plan_id).await.unwrap(), Some(fewer_plan));
        assert_same_merchant(&store.merchant(&plain.mchid).await.unwrap().unwrap(), &plain);
    })
    .await;
}

#[tokio::test]
async fn instances_provisioning_at_once_both_succeed() {
    with_database(|url| async move {
        let a = PgStore::open_url(&url).await.unwrap();
        let b = PgStore::open_url(&url).await.unwrap();
        let (m, plan) = rich_merchant();
        let merchants = [m.clone()];
        let plans = [plan.clone()];
        for _ in 0..5 {
            let (ra, rb) = tokio::join!(
                a.provision(&merchants, &plans, Origin::Config),
                b.provision(&merchants, &plans, Origin::Config)
            );
            ra.unwrap();
            rb.unwrap();
        }
        assert_same_merchant(&a.merchant(&m.mchid).await.unwrap().unwrap(), &m);
        assert_eq!(b.plan(plan.plan_id).await.unwrap(), Some(plan));
    })
    .await;
}

#[tokio::test]
async fn throwaway_merchants_are_created_once_found_by_token_and_deleted() {
    with_database(|url| async move {
        let store = PgStore::open_url(&url).await.unwrap();
        let t = throwaway();
        let digest = t.control_token_digest();
        assert!(store
            .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &digest)
            .await
            .unwrap());
        let stored = store.merchant(&t.merchant.mchid).await.unwrap().unwrap();
        assert_same_merchant(&stored, &t.merchant);
        assert!(stored.sandbox.throwaway);
        assert_eq!(store.plan(t.plan.plan_id).await.unwrap(), Some(t.plan.clone()));
        assert_eq!(
            store.merchant_by_control_token(&digest).await.unwrap(),
            Some(t.merchant.mchid.clone())
        );
        assert_eq!(
            store
                .merchant_by_control_token(&control_token_digest("papay_ct_unknown"))
                .await
                .unwrap(),
            None
        );

        // The mchid is taken.
        let again = throwaway();
        let mut same_mchid = again.merchant.clone();
        same_mchid.mchid = t.merchant.mchid.clone();
        let mut its_plan = again.plan.clone();
        its_plan.mchid = t.merchant.mchid.clone();
        assert!(!store
            .create_merchant(
                &same_mchid,
                std::slice::from_ref(&its_plan),
                &again.control_token_digest()
            )
            .await
            .unwrap());
        assert_eq!(
            store.plan(its_plan.plan_id).await.unwrap(),
            None,
            "nothing of a refused creation stays"
        );
        // A plan id is taken: the merchant is not created either.
        let mut taken_plan = again.plan.clone();
        taken_plan.plan_id = t.plan.plan_id;
        assert!(!store
            .create_merchant(
                &again.merchant,
                &[again.plan.clone(), taken_plan],
                &again.control_token_digest()
            )
            .await
            .unwrap());
        assert!(store.merchant(&again.merchant.mchid).await.unwrap().is_none());
        assert_eq!(store.plan(again.plan.plan_id).await.unwrap(), None);
        assert_eq!(
            store
                .merchant_by_control_token(&again.control_token_digest())
                .await
                .unwrap(),
            None
        );

        // Deleting: only throwaway merchants, with everything they own.
        let (configured, configured_plan) = rich_merchant();
        store
            .provision(std::slice::from_ref(&configured), &[configured_plan], Origin::Config)
            .await
            .unwrap();
        assert_eq!(
            store.delete_merchant(&configured.mchid).await.unwrap(),
            Deleted::NotThrowaway
        );
        assert!(store.merchant(&configured.mchid).await.unwrap().is_some());
        assert_eq!(
            store.delete_merchant(&Mchid::parse("1").unwrap()).await.unwrap(),
            Deleted::NotFound
        );
        store
            .add_fault(&t.merchant.mchid, FaultEndpoint::Any, FaultKind::SystemError, 3, 0)
            .await
            .unwrap();
        assert_eq!(
            store.delete_merchant(&t.merchant.mchid).await.unwrap(),
            Deleted::Deleted
        );
        assert!(store.merchant(&t.merchant.mchid).await.unwrap().is_none());
        assert_eq!(store.plan(t.plan.plan_id).await.unwrap(), None);
        assert_eq!(store.merchant_by_control_token(&digest).await.unwrap(), None);
        assert_eq!(
            store.delete_merchant(&t.merchant.mchid).await.unwrap(),
            Deleted::NotFound
        );
        // Its ids are free again.
        assert!(store
            .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &digest)
            .await
            .unwrap());
        assert!(store.faults(&t.merchant.mchid).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn concurrent_creations_of_one_mchid_or_plan_admit_exactly_one() {
    with_database(|url| async move {
        let a = PgStore::open_url(&url).await.unwrap();
        let b = PgStore::open_url(&url).await.unwrap();
        let base = throwaway();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let merchant = base.merchant.clone();
            let plan = base.plan.clone();
            let digest = control_token_digest(&format!("token-{i}"));
            tasks.push(tokio::spawn(async move {
                store.create_merchant(&merchant, &[plan], &digest).await.unwrap()
            }));
        }
        let mut created = 0;
        for t in tasks {
            created += usize::from(t.await.unwrap());
        }
        assert_eq!(created, 1, "one mchid, one creation");

        // Different mchids racing for one plan id.
        let plan_id = throwaway().plan.plan_id;
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let mut t = throwaway();
            t.plan.plan_id = plan_id;
            tasks.push(tokio::spawn(async move {
                let ok = store
                    .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &t.control_token_digest())
                    .await
                    .unwrap();
                (ok, t.merchant.mchid)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (ok, mchid) = t.await.unwrap();
            let exists = a.merchant(&mchid).await.unwrap().is_some();
            assert_eq!(ok, exists, "a refused creation leaves no merchant behind");
            if ok {
                winners.push(mchid);
            }
        }
        assert_eq!(winners.len(), 1, "one plan id, one creation");
        assert_eq!(a.plan(plan_id).await.unwrap().unwrap().mchid, winners[0]);
    })
    .await;
}

#[tokio::test]
async fn faults_are_listed_and_taken_exactly_count_times_across_instances() {
    with_database(|url| async move {
        let a = PgStore::open_url(&url).await.unwrap();
        let b = PgStore::open_url(&url).await.unwrap();
        let t = throwaway();
        assert!(a
            .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &t.control_token_digest())
            .await
            .unwrap());
        let mchid = t.merchant.mchid.clone();

        let query = a
            .add_fault(&mchid, FaultEndpoint::QueryContract, FaultKind::SystemError, 5, 250)
            .await
            .unwrap();
        assert_eq!(query.endpoint, FaultEndpoint::QueryContract);
        assert_eq!(query.kind, FaultKind::SystemError);
        assert_eq!((query.remaining, query.latency_ms), (5, 250));
        let any = a
            .add_fault(&mchid, FaultEndpoint::Any, FaultKind::SystemError, 1, 0)
            .await
            .unwrap();
        assert!(any.id > query.id);
        assert_eq!(a.faults(&mchid).await.unwrap(), vec![query.clone(), any.clone()]);
        assert!(a.merchant(&mchid).await.unwrap().unwrap().sandbox.faults_pending);

        // `*` does not cover notifications; nothing else matches them here.
        assert_eq!(a.take_fault(&mchid, FaultEndpoint::Notifications).await.unwrap(), None);
        // The oldest matching fault goes first; `*` serves other endpoints.
        let taken = a
            .take_fault(&mchid, FaultEndpoint::Certificates)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((taken.id, taken.remaining), (any.id, 0));
        assert_eq!(a.take_fault(&mchid, FaultEndpoint::Certificates).await.unwrap(), None);
        assert_eq!(a.faults(&mchid).await.unwrap(), vec![query.clone()]);

        // 20 calls on two instances at once: exactly 5 are affected.
        let mut tasks = Vec::new();
        for i in 0..20 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let mchid = mchid.clone();
            tasks.push(tokio::spawn(async move {
                store.take_fault(&mchid, FaultEndpoint::QueryContract).await.unwrap()
            }));
        }
        let mut remaining = Vec::new();
        for t in tasks {
            if let Some(f) = t.await.unwrap() {
                assert_eq!(f.id, query.id);
                remaining.push(f.remaining);
            }
        }
        remaining.sort_unstable();
        assert_eq!(remaining, vec![0, 1, 2, 3, 4], "each of the 5 calls consumed once");
        assert!(a.faults(&mchid).await.unwrap().is_empty());
        assert!(!a.merchant(&mchid).await.unwrap().unwrap().sandbox.faults_pending);
        assert_eq!(b.take_fault(&mchid, FaultEndpoint::QueryContract).await.unwrap(), None);

        // Two faults of 3 and 2 under a burst: 5 calls affected, the older fault first.
        let first = a
            .add_fault(&mchid, FaultEndpoint::TerminateContract, FaultKind::SystemError, 3, 0)
            .await
            .unwrap();
        let second = a
            .add_fault(&mchid, FaultEndpoint::Any, FaultKind::SystemError, 2, 0)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let mchid = mchid.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .take_fault(&mchid, FaultEndpoint::TerminateContract)
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            if let Some(f) = t.await.unwrap() {
                ids.push(f.id);
            }
        }
        ids.sort_unstable();
        assert_eq!(ids, vec![first.id, first.id, first.id, second.id, second.id]);

        a.add_fault(&mchid, FaultEndpoint::Any, FaultKind::SystemError, 2, 0)
            .await
            .unwrap();
        a.clear_faults(&mchid).await.unwrap();
        assert!(a.faults(&mchid).await.unwrap().is_empty());
        assert_eq!(a.take_fault(&mchid, FaultEndpoint::QueryContract).await.unwrap(), None);
    })
    .await;
}

/// A clock as the store keeps it: millisecond anchors.
fn clock(speed: f64) -> VirtualClock {
    let real = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap() + time::Duration::milliseconds(123);
    VirtualClock::anchored(real, real + time::Duration::days(40), speed)
}

#[tokio::test]
async fn set_clock_and_reset_merchant() {
    with_database(|url| async move {
        let store = PgStore::open_url(&url).await.unwrap();
        let t = throwaway();
        assert!(store
            .create_merchant(&t.merchant, std::slice::from_ref(&t.plan), &t.control_token_digest())
            .await
            .unwrap());
        let mchid = t.merchant.mchid.clone();

        assert!(store.set_clock(&mchid, Some(clock(2.5))).await.unwrap());
        assert_eq!(
            store.merchant(&mchid).await.unwrap().unwrap().sandbox.clock,
            Some(clock(2.5))
        );
        assert!(store.set_clock(&mchid, Some(clock(0.0))).await.unwrap());
        assert_eq!(
            store.merchant(&mchid).await.unwrap().unwrap().sandbox.clock,
            Some(clock(0.0))
        );
        assert!(store.set_clock(&mchid, None).await.unwrap());
        assert_eq!(store.merchant(&mchid).await.unwrap().unwrap().sandbox.clock, None);
        assert!(!store
            .set_clock(&Mchid::parse("1").unwrap(), Some(clock(1.0)))
            .await
            .unwrap());

        // Reset: clock, faults and the pause switch go; the merchant and its plan stay.
        store.set_clock(&mchid, Some(clock(3.0))).await.unwrap();
        store
            .add_fault(&mchid, FaultEndpoint::Any, FaultKind::SystemError, 2, 0)
            .await
            .unwrap();
        sqlx::query("UPDATE merchants SET notifications_paused = TRUE WHERE mchid = $1")
            .bind(mchid.as_str())
            .execute(&store.pool)
            .await
            .unwrap();
        store.reset_merchant(&mchid).await.unwrap();
        let after = store.merchant(&mchid).await.unwrap().unwrap();
        assert_eq!(after.sandbox.clock, None);
        assert!(!after.sandbox.faults_pending);
        assert!(after.sandbox.throwaway);
        assert!(store.faults(&mchid).await.unwrap().is_empty());
        let paused: bool = sqlx::query_scalar("SELECT notifications_paused FROM merchants WHERE mchid = $1")
            .bind(mchid.as_str())
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(!paused);
        assert_eq!(store.plan(t.plan.plan_id).await.unwrap(), Some(t.plan.clone()));
        // Resetting a merchant with nothing to reset, or an unknown one, is fine.
        store.reset_merchant(&mchid).await.unwrap();
        store.reset_merchant(&Mchid::parse("1").unwrap()).await.unwrap();
    })
    .await;
}
