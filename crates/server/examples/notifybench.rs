//! Notification benchmark for `scripts/bench-notify.sh`, against a papay started by the script
//! (the release binary, its real notification worker) on loopback. Three modes:
//!
//! - `--mode ca --out DIR`: a throwaway CA (`DIR/receiver-ca.pem`, which papay is told to trust
//!   through `[notify] extra_ca_files`) and a server certificate it signed for `127.0.0.1`
//!   (`DIR/receiver-cert.der`, `DIR/receiver-key.der`). Run before papay starts.
//! - `--mode deliver`: starts an HTTPS receiver (HTTP/1.1 over rustls, counts POSTs, answers
//!   `200` at once), pauses the merchant's notifications, creates `--count` signed contracts
//!   notifying that receiver (pre-sign JSAPI through papay-client, then agree through the control
//!   API, each with its own openid), resumes, and times until the receiver has seen all of them:
//!   `notify_rps=… delivered=… seconds=…`.
//! - `--mode backlog --db FILE`: set-up for the query-under-backlog measurement (see [`backlog`]).
//!
//! Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use papay_client::Client;
use papay_protocol::contracts::{Identity, PresignRequest};
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// What a merchant answers when it accepted a notification.
const SUCCESS_BODY: &str = r#"{"code":"SUCCESS","message":"成功"}"#;

struct Args {
    mode: String,
    addr: String,
    creds: PathBuf,
    out: PathBuf,
    db: PathBuf,
    count: usize,
    /// Contracts created at once during set-up.
    concurrency: usize,
    /// The longest wait for all deliveries.
    timeout: u64,
}

fn args() -> Args {
    let mut a = Args {
        mode: String::new(),
        addr: String::new(),
        creds: PathBuf::new(),
        out: PathBuf::new(),
        db: PathBuf::new(),
        count: 30_000,
        concurrency: 32,
        timeout: 120,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--mode" => a.mode = v,
            "--addr" => a.addr = v,
            "--creds" => a.creds = v.into(),
            "--out" => a.out = v.into(),
            "--db" => a.db = v.into(),
            "--count" => a.count = v.parse().unwrap(),
            "--concurrency" => a.concurrency = v.parse().unwrap(),
            "--timeout" => a.timeout = v.parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// The merchant the credentials directory's `papay.toml` describes.
struct Merchant {
    mchid: String,
    appid: String,
    plan_id: i64,
}

fn merchant(creds: &Path) -> Merchant {
    let toml = std::fs::read_to_string(creds.join("papay.toml")).unwrap();
    let value = |prefix: &str| {
        toml.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in papay.toml"))
            .trim_matches(|c| " \"[]".contains(c))
            .to_string()
    };
    Merchant {
        mchid: value("mchid = "),
        appid: value("appids = "),
        plan_id: value("plan_id = ").parse().unwrap(),
    }
}

// The receiver's certificates.

fn write_certificates(dir: &Path) {
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "papay notifybench receiver CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    server.distinguished_name.push(DnType::CommonName, "localhost");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();

    std::fs::write(dir.join("receiver-ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.join("receiver-cert.der"), server_cert.der()).unwrap();
    std::fs::write(dir.join("receiver-key.der"), server_key.serialize_der()).unwrap();
}

fn tls_config(dir: &Path) -> ServerConfig {
    let cert = CertificateDer::from(std::fs::read(dir.join("receiver-cert.der")).unwrap());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        std::fs::read(dir.join("receiver-key.der")).unwrap(),
    ));
    let mut tls = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls
}

// The receiver: counts POSTs, notes when the target was reached.

struct Counter {
    posts: AtomicUsize,
    target: usize,
    reached: Mutex<Option<Instant>>,
    done: Notify,
}

async fn receive(listener: TcpListener, tls: TlsAcceptor, counter: Arc<Counter>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (tls, counter) = (tls.clone(), counter.clone());
        tokio::spawn(async move {
            let Ok(stream) = tls.accept(tcp).await else { return };
            let service = service_fn(move |r| answer(r, counter.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(request: Request<Incoming>, counter: Arc<Counter>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let post = request.method() == http::Method::POST;
    request.into_body().collect().await?;
    if post && counter.posts.fetch_add(1, Ordering::Relaxed) + 1 == counter.target {
        *counter.reached.lock().unwrap() = Some(Instant::now());
        counter.done.notify_one();
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(SUCCESS_BODY.as_bytes())))
        .unwrap())
}

// Set-up through papay's own APIs.

fn client(a: &Args, m: &Merchant) -> Client {
    let read = |n: &str| std::fs::read_to_string(a.creds.join(n)).unwrap();
    let serial = Certificate::from_pem(&read("merchant_cert.pem"))
        .unwrap()
        .serial()
        .to_string();
    Client::builder()
        .base_url(format!("http://{}", a.addr))
        .merchant(
            &m.mchid,
            serial,
            PrivateKey::from_pem(&read("merchant_key.pem")).unwrap(),
        )
        .platform_certificate(&Certificate::from_pem(&read("platform_cert.pem")).unwrap())
        .build()
        .unwrap()
}

/// Calls the control API (open on loopback); answers the status and the JSON body.
async fn control(http: &reqwest::Client, addr: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http.post(format!("http://{addr}{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A JSAPI pre-sign notifying `notify_url`, for user `o<code>`: a NOTSIGN contract; its sign_url.
async fn presign(c: &Client, m: &Merchant, code: &str, notify_url: &str) -> String {
    let presign = PresignRequest {
        identity: Identity::common(&m.appid),
        plan_id: m.plan_id,
        out_contract_code: code.into(),
        user_display_name: Some("Bench User".into()),
        success_notify_url: notify_url.into(),
        openid: Some(format!("o{code}")),
        ..Default::default()
    };
    c.presign_jsapi(&presign).await.unwrap().sign_url
}

/// The user of the pre-sign of `code` agrees (control API): SIGNED, one PAPAY.SIGN queued.
async fn agree(http: &reqwest::Client, addr: &str, code: &str, sign_url: &str) {
    let (status, session) = control(
        http,
        addr,
        "/sandbox/v1/links/resolve",
        Some(json!({ "link": sign_url })),
    )
    .await;
    assert_eq!(status, 200, "resolve: {session}");
    let session_id = session["session_id"].as_str().unwrap();
    let path = format!("/sandbox/v1/sessions/{session_id}/agree");
    let (status, view) = control(http, addr, &path, Some(json!({ "openid": format!("o{code}") }))).await;
    assert!(status == 200 && view["state"] == "SIGNED", "agree: {status} {view}");
}

/// `f(0)` to `f(count - 1)`, `concurrency` at a time; their results in order.
async fn concurrently<T, F, Fut>(count: usize, concurrency: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let (f, next) = (Arc::new(f), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return done;
                    }
                    done.push((i, f(i).await));
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// How many of the merchant's notifications are still pending (at most 500 counted).
async fn pending(http: &reqwest::Client, addr: &str, mchid: &str) -> usize {
    let url = format!("http://{addr}/sandbox/v1/merchants/{mchid}/notifications?status=PENDING&limit=500");
    let list: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    list["notifications"].as_array().map_or(0, Vec::len)
}

async fn deliver(a: &Args) {
    let m = Arc::new(merchant(&a.creds));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("https://{}/papay/notify", listener.local_addr().unwrap());
    let counter = Arc::new(Counter {
        posts: AtomicUsize::new(0),
        target: a.count,
        reached: Mutex::new(None),
        done: Notify::new(),
    });
    tokio::spawn(receive(
        listener,
        TlsAcceptor::from(Arc::new(tls_config(&a.creds))),
        counter.clone(),
    ));

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let merchant_path = format!("/sandbox/v1/merchants/{}/notifications", m.mchid);
    let (status, body) = control(&http, &a.addr, &format!("{merchant_path}/pause"), None).await;
    assert_eq!(status, 204, "pause: {body}");

    // Set-up (not timed as delivery): the contracts, with their notifications held. All
    // pre-signs first, then all agreements: every agreement queues a notification and wakes the
    // worker, whose claim (one UPDATE, holding the write lock) then steps over every held
    // notification of the paused merchant, so pre-signs mixed with agreements would wait on
    // claims that grow with the backlog.
    let setup = Instant::now();
    let c = Arc::new(client(a, &m));
    let run = std::process::id();
    let code = move |i: usize| format!("N{run}x{i}");
    let presigning = m.clone();
    let links = concurrently(a.count, a.concurrency, move |i| {
        let (c, m, notify_url) = (c.clone(), presigning.clone(), notify_url.clone());
        async move { presign(&c, &m, &code(i), &notify_url).await }
    })
    .await;
    let presigned = setup.elapsed().as_secs_f64();
    let (links, addr, agreeing) = (Arc::new(links), a.addr.clone(), http.clone());
    concurrently(a.count, a.concurrency, move |i| {
        let (http, addr, links) = (agreeing.clone(), addr.clone(), links.clone());
        async move { agree(&http, &addr, &code(i), &links[i]).await }
    })
    .await;
    eprintln!(
        "notifybench: {} signed contracts in {:.1}s (set-up: pre-signs {presigned:.1}s), {} POSTs while paused",
        a.count,
        setup.elapsed().as_secs_f64(),
        counter.posts.load(Ordering::Relaxed)
    );
    assert_eq!(counter.posts.load(Ordering::Relaxed), 0, "deliveries while paused");

    // The measurement: resume, then wait for the receiver to have seen every one.
    let start = Instant::now();
    let (status, body) = control(&http, &a.addr, &format!("{merchant_path}/resume"), None).await;
    assert_eq!(status, 204, "resume: {body}");
    // Deliveries in each second since the resume, for the report.
    let per_second = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let (counter, per_second) = (counter.clone(), per_second.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut last = 0;
            loop {
                tick.tick().await;
                let now = counter.posts.load(Ordering::Relaxed);
                per_second.lock().unwrap().push(now - last);
                last = now;
            }
        })
    };
    let finished = tokio::time::timeout(Duration::from_secs(a.timeout), counter.done.notified()).await;
    sampler.abort();
    let reached = *counter.reached.lock().unwrap();
    let (delivered, seconds) = match (finished, reached) {
        (_, Some(at)) => (a.count, (at - start).as_secs_f64()),
        _ => (counter.posts.load(Ordering::Relaxed), start.elapsed().as_secs_f64()),
    };
    // Let the worker record the last batch, so what follows runs on a quiet server.
    let quiet = Instant::now() + Duration::from_secs(30);
    while pending(&http, &a.addr, &m.mchid).await > 0 && Instant::now() < quiet {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let per_second: Vec<String> = per_second.lock().unwrap().iter().map(|n| n.to_string()).collect();
    eprintln!("notifybench: deliveries in each second: {}", per_second.join(" "));
    let extra = counter.posts.load(Ordering::Relaxed).saturating_sub(a.count);
    if delivered < a.count || extra > 0 {
        eprintln!(
            "notifybench: {delivered} of {} delivered within {}s, {extra} more POSTs than notifications",
            a.count, a.timeout
        );
    }
    println!(
        "notify_rps={:.0} delivered={delivered} seconds={seconds:.2}",
        delivered as f64 / seconds
    );
}

/// Set-up only, not a papay code path: puts `--count` notifications of the merchant into the
/// outbox as pending retries (one failed attempt logged, the next one 1 to 3 hours ahead, so none
/// falls due during the measurement), written straight into papay's SQLite file in one
/// transaction while papay runs, attached round-robin to the merchant's contracts; then
/// checkpoints the WAL so the measurement does not pay for moving the bulk write.
async fn backlog(a: &Args) {
    let m = merchant(&a.creds);
    let started = Instant::now();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&a.db)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    // Shaped like the envelopes papay fixes (~600 bytes); never sent.
    let body = format!(
        r#"{{"id":"backlog","create_time":"2026-01-01T00:00:00+08:00","event_type":"PAPAY.SIGN","resource_type":"encrypt-resource","summary":"签约成功","resource":{{"algorithm":"AEAD_AES_256_GCM","ciphertext":"{}","associated_data":"papay","original_type":"papay","nonce":"000000000000"}}}}"#,
        "A".repeat(440)
    );
    let count = i64::try_from(a.count).unwrap();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("CREATE TEMP TABLE backlog_contracts (k INTEGER PRIMARY KEY, contract_id TEXT NOT NULL)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let contracts = sqlx::query(
        "INSERT INTO backlog_contracts (k, contract_id)
         SELECT ROW_NUMBER() OVER (ORDER BY contract_id) - 1, contract_id FROM contracts WHERE mchid = ?",
    )
    .bind(&m.mchid)
    .execute(&mut *tx)
    .await
    .unwrap()
    .rows_affected();
    assert!(contracts > 0, "no contracts of {} to attach notifications to", m.mchid);
    let seq = "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)";
    let id = "printf('00000000-0000-4000-8000-%012x', i)";
    sqlx::query(&format!(
        "{seq} INSERT INTO notification_outbox
            (id, contract_id, event_type, created_at, mchid, status, attempts, body,
             schedule_base_ms, due_virtual_ms, due_real_ms)
         SELECT {id}, b.contract_id, 'PAPAY.SIGN', ?2 / 1000, ?3, 'PENDING', 1, ?4,
             ?2, ?5 + (i % 7200) * 1000, ?5 + (i % 7200) * 1000
         FROM seq JOIN backlog_contracts b ON b.k = seq.i % ?6"
    ))
    .bind(count)
    .bind(now_ms - 60_000)
    .bind(&m.mchid)
    .bind(&body)
    .bind(now_ms + 3_600_000)
    .bind(i64::try_from(contracts).unwrap())
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(&format!(
        "{seq} INSERT INTO notification_attempts
            (notification_id, number, at_ms, virtual_at_ms, url, http_status, latency_ms, outcome, error)
         SELECT {id}, 1, ?2, ?2, 'https://127.0.0.1:9/papay/notify', 500, 1, 'FAILED', 'answered HTTP 500' FROM seq"
    ))
    .bind(count)
    .bind(now_ms - 60_000)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("DROP TABLE backlog_contracts")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await;
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notification_outbox WHERE status = 'PENDING' AND mchid = ?")
            .bind(&m.mchid)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    eprintln!(
        "notifybench: backlog of {} inserted in {:.1}s (set-up), {pending} pending",
        a.count,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    match a.mode.as_str() {
        "ca" => write_certificates(&a.out),
        "deliver" => deliver(&a).await,
        "backlog" => backlog(&a).await,
        other => panic!("--mode ca|deliver|backlog, not {other:?}"),
    }
}
