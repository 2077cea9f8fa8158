//! Several papay instances on ONE PostgreSQL database (issue 8, "Must show"): concurrent
//! pre-signs of one code make one contract; concurrent agreements of one user make one
//! SIGNED contract; 1,000 notifications are delivered exactly once by 3 instances; and a
//! SIGKILLed instance's claims are delivered by the survivor once its lease runs out, with
//! duplicates only for attempts it had in flight.
//!
//! Every test needs `PAPAY_TEST_POSTGRES` (see `helpers::POSTGRES_ENV`) and skips without it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use papay_client::Client;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::contracts::PresignRequest;
use papay_protocol::notifications::{open, Notification};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::helpers::*;
use crate::notifications::receiver_config;
use crate::receiver::{Received, Receiver};

/// When the suite runs on PostgreSQL, a guard that runs these tests one at a time (3 instances
/// hold up to 48 connections; PostgreSQL's default limit is 100); `None`, said on stderr, when
/// the test is skipped.
async fn on_postgres(test: &str) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    if !std::env::var(POSTGRES_ENV).is_ok_and(|u| !u.is_empty()) {
        eprintln!("skipped {test}: set {POSTGRES_ENV} to run it on PostgreSQL");
        return None;
    }
    Some(ONE_AT_A_TIME.lock().await)
}

/// A directory with the keys and `papay.toml` (`config`).
fn config_dir(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();
    dir
}

/// An APP pre-sign (no openid: the user is named when agreeing).
fn app_presign(code: &str) -> PresignRequest {
    PresignRequest {
        openid: None,
        return_url: None,
        ..jsapi(code)
    }
}

/// Runs `f(i)` for `i` in `0..n`, at most `limit` at once; answers the results in order of `i`.
async fn bounded<T, F, Fut>(n: usize, limit: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit));
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let permits = permits.clone();
        let fut = f(i);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            (i, fut.await)
        });
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let all = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(r) = tasks.join_next().await {
            let (i, t) = r.unwrap();
            out[i] = Some(t);
        }
    });
    all.await.expect("bounded: tasks did not finish within 120 s");
    out.into_iter().map(Option::unwrap).collect()
}

/// A control API call to `base` without panicking on the status.
async fn control_at(http: &reqwest::Client, base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .timeout(Duration::from_secs(30));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
    };
    (status, json)
}

fn envelope_id(r: &Received) -> String {
    serde_json::from_slice::<Notification>(&r.body).unwrap().id
}

/// Each instance still serves (its task did not end, `/healthz` answers).
async fn assert_all_alive(apps: &[TestApp]) {
    for (i, app) in apps.iter().enumerate() {
        assert!(app.is_running(), "instance {i} stopped");
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", app.base_url))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "instance {i} /healthz");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_presigns_of_one_code_across_instances_make_one_contract() {
    let Some(_one_at_a_time) = on_postgres("concurrent_presigns_of_one_code_across_instances_make_one_contract").await
    else {
        return;
    };
    let dir = config_dir(&standard_config(false));
    let apps = spawn_instances(3, dir.path()).await;
    let clients: Vec<Arc<Client>> = apps.iter().map(|a| Arc::new(a.client())).collect();
    const CODE: &str = "MULTIPRESIGN1";
    const N: usize = 200;
    let started = Instant::now();

    // While the pre-signs run, the user agrees as soon as the contract exists: pre-signs
    // started after that agreement must all answer CONTRACT_EXISTED.
    let signed_at = {
        let (client, app) = (clients[1].clone(), apps[2].base_url.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                assert!(Instant::now() < deadline, "could not agree within 30 s");
                let Ok(q) = client.query_contract_by_code(CODE, PLAN, &common()).await else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let path = format!("/sandbox/v1/contracts/{}", q.contract_id);
                let (_, detail) = control_at(&http, &app, "GET", &path, None).await;
                let session = detail["session_id"].as_str().unwrap().to_string();
                let agree = format!("/sandbox/v1/sessions/{session}/agree");
                let (status, view) = control_at(&http, &app, "POST", &agree, None).await;
                assert!(status < 500, "agree: {status} {view}");
                if status == 200 {
                    assert_eq!(view["state"], "SIGNED", "{view}");
                    return Instant::now();
                }
                // A newer pre-sign replaced the session: agree to that one.
                assert_eq!(
                    (status, view["code"].as_str()),
                    (410, Some("SESSION_EXPIRED")),
                    "{view}"
                );
            }
        })
    };

    let answers = bounded(N, N, |i| {
        let client = clients[i % 3].clone();
        async move {
            let start = Instant::now();
            let r = client.presign_jsapi(&jsapi(CODE)).await;
            let r = r.map(|_| ()).map_err(|e| match e.api() {
                Some(body) => format!("{} {}", body.status, body.code),
                None => format!("{e:?}"),
            });
            (start, r)
        }
    })
    .await;
    let signed_at = tokio::time::timeout(Duration::from_secs(30), signed_at)
        .await
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();

    let (mut ok, mut existed) = (0, 0);
    for (i, (start, r)) in answers.iter().enumerate() {
        match r {
            Ok(()) => {
                ok += 1;
                assert!(
                    *start < signed_at,
                    "pre-sign {i} started after the signing yet succeeded"
                );
            }
            Err(e) => {
                assert_eq!(e, "403 CONTRACT_EXISTED", "pre-sign {i}");
                existed += 1;
            }
        }
    }
    assert!(ok >= 1, "the first pre-sign succeeds");
    // Once signed, another 200 concurrent pre-signs are all refused, by every instance.
    let refused = bounded(N, N, |i| {
        let client = clients[i % 3].clone();
        async move {
            let e = client.presign_jsapi(&jsapi(CODE)).await.unwrap_err();
            let body = e.api().unwrap_or_else(|| panic!("{e:?}"));
            (body.status, body.code.clone())
        }
    })
    .await;
    assert!(
        refused.iter().all(|r| *r == (403, "CONTRACT_EXISTED".to_string())),
        "{refused:?}"
    );

    // Exactly one contract, the same seen from every instance.
    let mut ids = BTreeSet::new();
    for (c, app) in clients.iter().zip(&apps) {
        let q = c.query_contract_by_code(CODE, PLAN, &common()).await.unwrap();
        assert_eq!(q.state, "SIGNED");
        let detail = app.contract_by_code(MCHID, CODE).await;
        assert_eq!(detail["contract"]["contract_id"].as_str(), Some(q.contract_id.as_str()));
        ids.insert(q.contract_id);
        let (status, all) = app
            .control("GET", &format!("/sandbox/v1/merchants/{MCHID}/contracts"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(all["contracts"].as_array().unwrap().len(), 1, "{all}");
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    eprintln!("multi_instance: {N} concurrent pre-signs on 3 instances in {elapsed:?}: {ok} succeeded, {existed} CONTRACT_EXISTED; then {N} more all CONTRACT_EXISTED");
    assert_all_alive(&apps).await;
    shutdown_all(apps).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_agreements_of_one_user_across_instances_sign_one_contract() {
    let Some(_one_at_a_time) =
        on_postgres("concurrent_agreements_of_one_user_across_instances_sign_one_contract").await
    else {
        return;
    };
    let dir = config_dir(&standard_config(false));
    let apps = spawn_instances(3, dir.path()).await;
    let c = apps[0].client();
    let mut sessions = Vec::new();
    for code in ["MULTIAGREEA", "MULTIAGREEB"] {
        sessions.push(c.presign_app(&app_presign(code)).await.unwrap().session_id);
    }
    const N: usize = 200;
    let bases: Vec<String> = apps.iter().map(|a| a.base_url.clone()).collect();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let answers = bounded(N, N, |i| {
        let (http, base) = (http.clone(), bases[i % 3].clone());
        let path = format!("/sandbox/v1/sessions/{}/agree", sessions[i % 2]);
        async move { control_at(&http, &base, "POST", &path, Some(json!({"openid": "oMultiSameUser"}))).await }
    })
    .await;
    let elapsed = started.elapsed();

    let mut views = Vec::new();
    let mut closed = 0;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert!(*status < 500, "agreement {i}: {status} {body}");
        match status {
            200 => views.push(body.clone()),
            409 => {
                assert_eq!(body["code"], "SESSION_CLOSED", "agreement {i}: {body}");
                closed += 1;
            }
            _ => panic!("agreement {i}: {status} {body}"),
        }
    }
    assert_eq!(views.len(), 2, "one agreement per session ends it: {views:?}");
    let mut states: Vec<(String, String)> = views
        .iter()
        .map(|v| {
            let state = v["state"].as_str().unwrap_or_else(|| panic!("{v}"));
            (state.into(), v["event"].as_str().unwrap_or("").into())
        })
        .collect();
    states.sort();
    assert_eq!(states[0].0, "SIGNED", "{views:?}");
    assert_eq!(
        (states[1].0.as_str(), states[1].1.as_str()),
        ("SIGNFAIL", "SIGNING_FAILED_ALREADY_SIGNED"),
        "{views:?}"
    );

    // Every instance sees one SIGNED and one SIGNFAIL contract.
    for app in &apps {
        let mut seen = Vec::new();
        for code in ["MULTIAGREEA", "MULTIAGREEB"] {
            let detail = app.contract_by_code(MCHID, code).await;
            seen.push(
                detail["contract"]["state"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{detail}"))
                    .to_string(),
            );
        }
        seen.sort();
        assert_eq!(seen, ["SIGNED", "SIGNFAIL"]);
        let (status, signed) = app
            .control(
                "GET",
                &format!("/sandbox/v1/merchants/{MCHID}/contracts?state=SIGNED"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(signed["contracts"].as_array().unwrap().len(), 1, "{signed}");
    }
    eprintln!("multi_instance: {N} concurrent agreements on 3 instances in {elapsed:?}: 1 SIGNED, 1 SIGNFAIL, {closed} SESSION_CLOSED");
    assert_all_alive(&apps).await;
    shutdown_all(apps).await;
}

/// Signs `n` contracts (APP pre-sign, then agreement on another instance), `limit` at once,
/// each notifying `url`; answers their contract ids.
async fn sign_many(bases: &[(Arc<Client>, String)], prefix: &str, n: usize, limit: usize, url: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let k = bases.len();
    bounded(n, limit, |i| {
        let (client, _) = bases[i % k].clone();
        let (_, agree_base) = bases[(i + 1) % k].clone();
        let http = http.clone();
        let code = format!("{prefix}{i}");
        let req = PresignRequest {
            success_notify_url: url.to_string(),
            ..app_presign(&code)
        };
        async move {
            let session = client.presign_app(&req).await.unwrap().session_id;
            let path = format!("/sandbox/v1/sessions/{session}/agree");
            let (status, view) = control_at(
                &http,
                &agree_base,
                "POST",
                &path,
                Some(json!({"openid": format!("o{code}")})),
            )
            .await;
            assert_eq!(
                (status, view["state"].as_str()),
                (200, Some("SIGNED")),
                "{code}: {view}"
            );
            view["contract_id"].as_str().unwrap().to_string()
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_notifications_are_delivered_exactly_once_by_three_instances() {
    let Some(_one_at_a_time) =
        on_postgres("a_thousand_notifications_are_delivered_exactly_once_by_three_instances").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let receiver = Receiver::start(dir.path());
    std::fs::write(dir.path().join("papay.toml"), receiver_config(&receiver)).unwrap();
    let apps = spawn_instances(3, dir.path()).await;
    let bases: Vec<(Arc<Client>, String)> = apps
        .iter()
        .map(|a| (Arc::new(a.client()), a.base_url.clone()))
        .collect();
    const N: usize = 1000;

    let started = Instant::now();
    let ids = sign_many(&bases, "MN", N, 32, &receiver.url("/sign")).await;
    let signed_in = started.elapsed();
    let received = receiver.wait_for(N, Duration::from_secs(120)).await;
    let delivered_in = started.elapsed();
    // Longer than a worker's longest idle sleep (2 s): a late duplicate would show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received_after = receiver.received();
    assert_eq!(
        received_after.len(),
        N,
        "{} requests for {N} notifications",
        received_after.len()
    );

    let key = ApiV3Key::parse(&keys().apiv3_key).unwrap();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    let mut contracts = BTreeSet::new();
    for r in &received_after {
        let envelope: Notification = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(envelope.event_type, "PAPAY.SIGN");
        contracts.insert(open(&key, &envelope.resource).unwrap().contract_id);
        *per_id.entry(envelope.id).or_default() += 1;
    }
    let duplicated: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "delivered more than once: {duplicated:?}");
    assert_eq!(per_id.len(), N);
    assert_eq!(
        contracts,
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        "one per signed contract"
    );
    assert_eq!(received.len(), N);

    // The delivery log agrees: nothing pending, from any instance.
    for app in &apps {
        let (status, pending) = app
            .control(
                "GET",
                &format!("/sandbox/v1/merchants/{MCHID}/notifications?status=PENDING"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(pending["notifications"], json!([]));
    }
    assert_all_alive(&apps).await;
    eprintln!(
        "multi_instance: {N} contracts signed in {signed_in:?} (32 at once over 3 instances); \
         all {N} notifications delivered exactly once {delivered_in:?} after the start"
    );
    shutdown_all(apps).await;
}

/// A `papay serve` child on `database_url` with `dir/papay.toml`: the process, its base URL
/// and its notification worker's owner (read from its JSON log).
async fn serve_on(dir: &std::path::Path, database_url: &str) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(["--log-format", "json", "serve", "--config"])
        .arg(dir.join("papay.toml"))
        .args(["--listen", "127.0.0.1:0", "--database-url", database_url])
        .env("PAPAY_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = tokio::time::timeout(Duration::from_secs(30), async {
        let (mut base, mut owner) = (None, None);
        while base.is_none() || owner.is_none() {
            tokio::select! {
                line = out.next_line(), if base.is_none() => {
                    let line = line.unwrap().expect("papay exited before listening");
                    if let Some(url) = line.strip_prefix("papay listening on ") {
                        base = Some(url.to_string());
                    }
                }
                line = err.next_line(), if owner.is_none() => {
                    let line = line.unwrap().expect("papay exited before its worker started");
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["fields"]["message"] == "notification worker started" {
                            owner = v["fields"]["owner"].as_str().map(String::from);
                        }
                    }
                }
            }
        }
        (base.unwrap(), owner.unwrap())
    })
    .await
    .expect("papay did not start within 30 s");
    // Keep draining both pipes so the process never blocks on a full one.
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
    tokio::spawn(async move { while let Ok(Some(_)) = err.next_line().await {} });
    (child, started.0, started.1)
}

/// The notifications claimed (leased, lease not over) per owner, straight from the database.
async fn leases(database_url: &str) -> BTreeMap<String, i64> {
    use sqlx::{Connection, Row};
    let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let rows = sqlx::query(
        "SELECT lease_owner, count(*) AS n FROM notification_outbox \
         WHERE lease_owner IS NOT NULL AND lease_until_ms > $1 GROUP BY lease_owner",
    )
    .bind(now_ms)
    .fetch_all(&mut db)
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.get::<String, _>("lease_owner"), r.get::<i64, _>("n")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkilled_instance_s_claims_are_delivered_by_the_other_after_its_lease() {
    let Some(_one_at_a_time) =
        on_postgres("a_sigkilled_instance_s_claims_are_delivered_by_the_other_after_its_lease").await
    else {
        return;
    };
    let test_start = Instant::now();
    let db = TestDatabase::create().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let receiver = Receiver::start(dir.path());
    // Slow enough that a batch's deliveries are in flight when the instance is killed.
    receiver.set_default_delay(200, Duration::from_millis(1500));
    let config = receiver_config(&receiver) + "lease_seconds = 5\n";
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();

    let (mut a, base_a, owner_a) = serve_on(dir.path(), &db.url).await;
    let (mut b, base_b, owner_b) = serve_on(dir.path(), &db.url).await;
    let client = |base: &str| {
        Arc::new(
            papay_client::Client::builder()
                .base_url(base)
                .merchant(
                    MCHID,
                    papay_protocol::pki::Certificate::from_pem(&keys().merchant_cert)
                        .unwrap()
                        .serial(),
                    papay_protocol::keys::PrivateKey::from_pem(&keys().merchant_key).unwrap(),
                )
                .platform_certificate(&papay_protocol::pki::Certificate::from_pem(&keys().platform_cert).unwrap())
                .build()
                .unwrap(),
        )
    };
    let http = reqwest::Client::new();
    let pause = format!("/sandbox/v1/merchants/{MCHID}/notifications/pause");
    assert_eq!(control_at(&http, &base_a, "POST", &pause, None).await.0, 204);

    // Queue N notifications while delivery is paused, signing through both instances.
    const N: usize = 300;
    let bases = [(client(&base_a), base_a.clone()), (client(&base_b), base_b.clone())];
    sign_many(&bases, "MK", N, 16, &receiver.url("/sign")).await;
    assert!(receiver.received().is_empty());

    // Resuming through A wakes A's worker: it claims a full batch at once.
    let resume = format!("/sandbox/v1/merchants/{MCHID}/notifications/resume");
    assert_eq!(control_at(&http, &base_a, "POST", &resume, None).await.0, 204);
    receiver.wait_for(16, Duration::from_secs(10)).await;
    let held = leases(&db.url).await;
    let held_by_a = held.get(&owner_a).copied().unwrap_or(0);
    assert!(held_by_a > 0, "A ({owner_a}) holds claims: {held:?} (B is {owner_b})");

    a.start_kill().unwrap();
    tokio::time::timeout(Duration::from_secs(10), a.wait())
        .await
        .unwrap()
        .unwrap();
    let killed_at = Instant::now();
    let before_kill: BTreeSet<String> = receiver.received().iter().map(envelope_id).collect();
    // The survivor answers quickly from now on.
    receiver.set_default_delay(200, Duration::ZERO);

    // Every notification arrives (A's claims after its lease, 5 s), and B's log shows them all
    // delivered.
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let unique: BTreeSet<String> = receiver.received().iter().map(envelope_id).collect();
        let (status, pending) = control_at(
            &http,
            &base_b,
            "GET",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications?status=PENDING"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{pending}");
        if unique.len() == N && pending["notifications"] == json!([]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the kill: {} of {N} arrived, pending {pending}",
            unique.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let redelivered_in = killed_at.elapsed();

    let all = receiver.received();
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for r in &all {
        *per_id.entry(envelope_id(r)).or_default() += 1;
    }
    assert_eq!(per_id.len(), N, "every notification arrived");
    let duplicates = all.len() - N;
    for (id, n) in &per_id {
        assert!(*n <= 2, "{id} arrived {n} times");
        if *n == 2 {
            assert!(
                before_kill.contains(id),
                "{id}: a duplicate of an attempt not in flight at the kill"
            );
        }
    }
    assert!(
        duplicates as i64 <= held_by_a && duplicates <= 256,
        "{duplicates} duplicates; A held {held_by_a} claims"
    );
    let total = test_start.elapsed();
    eprintln!(
        "multi_instance: SIGKILL with {N} queued: A held {held_by_a} claims ({held:?}), {} requests had arrived, \
         {duplicates} duplicates; all delivered {redelivered_in:?} after the kill; test {total:?}",
        before_kill.len()
    );
    b.start_kill().unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), b.wait()).await;
    drop(db);
}

/// A fault or a virtual clock set through one instance holds on the very next call to another
/// instance, although that instance had the merchant in its cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_and_clocks_set_on_one_instance_hold_at_once_on_another() {
    let Some(_one_at_a_time) = on_postgres("faults_and_clocks_set_on_one_instance_hold_at_once_on_another").await
    else {
        return;
    };
    let dir = config_dir(&standard_config(false));
    let apps = spawn_instances(2, dir.path()).await;
    let (a, b) = (&apps[0], &apps[1]);
    let on_b = b.client();
    // B caches the merchant with no fault pending and real time.
    on_b.presign_jsapi(&jsapi("FRESH1")).await.unwrap();

    let (status, fault) = a
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/faults"),
            Some(json!({"endpoint": "query-contract-by-code", "kind": "SYSTEMERROR", "count": 1})),
        )
        .await;
    assert_eq!(status, 201, "{fault}");
    let e = on_b
        .query_contract_by_code("FRESH1", PLAN, &common())
        .await
        .unwrap_err();
    let body = e.api().expect("an error answer");
    assert_eq!((body.status, body.code.as_str()), (500, "SYSTEMERROR"));
    on_b.query_contract_by_code("FRESH1", PLAN, &common()).await.unwrap();

    let (status, clock) = a
        .control(
            "PUT",
            &format!("/sandbox/v1/merchants/{MCHID}/clock"),
            Some(json!({"speed": 0})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    let (status, clock) = a
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/clock/advance"),
            Some(json!({"by": "30d"})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    // B pre-signs on the advanced clock: the session ends 2 hours after the merchant's time.
    on_b.presign_jsapi(&jsapi("FRESH2")).await.unwrap();
    let detail = b.contract_by_code(MCHID, "FRESH2").await;
    let expires = time::OffsetDateTime::parse(
        detail["session_expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ahead = expires - time::OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::days(29),
        "B did not see A's clock: session ends {expires}"
    );
    shutdown_all(apps).await;
}
