//! Load generator for `scripts/bench.sh`: the bare RSA sign rate, a closed-loop load of
//! distinct, pre-signed APIv3 requests against a running papay on loopback, and the "floor":
//! `GET /readyz` (one database call, no RSA), the per-request cost of everything but signing.
//! The APIv2 modes load `querycontract` of a signed contract and `h5entrustweb` pre-signs
//! (v2 answers are HTTP 200 whatever they say: only `result_code` SUCCESS counts as success).
//!
//! Requests are signed before the timed window (fresh nonce each), then replayed over
//! keep-alive HTTP/1.1 connections as raw bytes, so the generator's own cost per request is a
//! write and a read. Every run is bounded by `--seconds`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use papay_client::v2::{H5EntrustWebRequest, QueryContractRequest, V2ApiKey, V2Client};
use papay_client::Client;
use papay_protocol::contracts::PresignRequest;
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What a successful v2 answer says.
const V2_SUCCESS: &[u8] = b"<result_code><![CDATA[SUCCESS]]></result_code>";

struct Args {
    mode: String,
    addr: String,
    seconds: u64,
    concurrency: usize,
    creds: String,
    count: usize,
}

fn args() -> Args {
    let mut a = Args {
        mode: String::new(),
        addr: String::new(),
        seconds: 10,
        concurrency: 16,
        creds: String::new(),
        count: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--mode" => a.mode = v,
            "--addr" => a.addr = v,
            "--seconds" => a.seconds = v.parse().unwrap(),
            "--concurrency" => a.concurrency = v.parse().unwrap(),
            "--creds" => a.creds = v,
            "--count" => a.count = v.parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn sign_rate(seconds: u64) {
    let key = Arc::new(PrivateKey::generate().unwrap());
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                let msg = b"1700000000\nc5ac7061fccab6bf3e254dcf98995b8c\n{\"mchid\":\"1900000100\"}\n";
                while Instant::now() < deadline {
                    key.sign(msg).unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("sign_rps={:.0}", total as f64 / start.elapsed().as_secs_f64());
}

fn mchid(a: &Args) -> String {
    std::fs::read_to_string(format!("{}/papay.toml", a.creds))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("mchid = \"")
                .map(|r| r.trim_end_matches('"').to_string())
        })
        .unwrap()
}

fn client(a: &Args) -> Client {
    let read = |n: &str| std::fs::read_to_string(format!("{}/{n}", a.creds)).unwrap();
    let serial = Certificate::from_pem(&read("merchant_cert.pem"))
        .unwrap()
        .serial()
        .to_string();
    Client::builder()
        .base_url(format!("http://{}", a.addr))
        .merchant(
            mchid(a),
            serial,
            PrivateKey::from_pem(&read("merchant_key.pem")).unwrap(),
        )
        .platform_certificate(&Certificate::from_pem(&read("platform_cert.pem")).unwrap())
        .build()
        .unwrap()
}

fn raw(addr: &str, req: papay_client::PreparedRequest) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n",
        req.method,
        req.path_and_query,
        req.body.len()
    );
    for (k, v) in &req.headers {
        out.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    bytes
}

fn presign_body(code: &str) -> Vec<u8> {
    let req = PresignRequest {
        identity: papay_protocol::contracts::Identity::common("wx8a3e6b0c5d2f4e71"),
        plan_id: 12535,
        out_contract_code: code.into(),
        user_display_name: Some("Bench User".into()),
        success_notify_url: "https://127.0.0.1:9/papay/notify".into(),
        openid: Some(format!("openid{code}")),
        ..Default::default()
    };
    serde_json::to_vec(&req).unwrap()
}

fn v2_client(a: &Args) -> V2Client {
    let read = |n: &str| std::fs::read_to_string(format!("{}/{n}", a.creds)).unwrap();
    let key = V2ApiKey::parse(read("v2_key.txt").trim()).unwrap();
    V2Client::new(format!("http://{}", a.addr), mchid(a), key).unwrap()
}

fn h5entrustweb(code: &str, serial: i64) -> H5EntrustWebRequest {
    H5EntrustWebRequest::new(
        "wx8a3e6b0c5d2f4e71",
        "12535",
        code,
        serial,
        "Bench User",
        "https://127.0.0.1:9/papay/notify",
        "127.0.0.1",
    )
}

fn get(addr: &str, url: &str) -> Vec<u8> {
    let target = &url[url.find("/papay/").unwrap()..];
    format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes()
}

/// A v2 contract signed through the API and the control API: the querycontract load's target.
async fn signed_v2_contract(a: &Args, v2: &V2Client, code: &str) -> String {
    v2.h5entrustweb(&h5entrustweb(code, 1)).await.unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}/sandbox/v1", a.addr);
    let list: serde_json::Value = http
        .get(format!(
            "{base}/merchants/{}/contracts?out_contract_code={code}",
            mchid(a)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contract = &list["contracts"][0];
    let session = contract["session_id"].as_str().unwrap();
    let agreed = http
        .post(format!("{base}/sessions/{session}/agree"))
        .json(&serde_json::json!({"openid": format!("openid{code}")}))
        .send()
        .await
        .unwrap();
    assert!(agreed.status().is_success(), "agree: {}", agreed.status());
    contract["contract"]["contract_id"].as_str().unwrap().to_string()
}

/// Reads one HTTP/1.1 response into `buf`; returns its status.
async fn read_response(r: &mut BufReader<TcpStream>, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    loop {
        let mut byte = [0u8; 1024];
        let n = r.read(&mut byte).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&byte[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head[9..12].parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = r.read(&mut byte).await.unwrap();
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&byte[..n]);
            }
            return status;
        }
    }
}

async fn load(a: &Args) {
    let c = client(a);
    let run = std::process::id();
    let requests: Vec<Vec<u8>> = if a.mode == "floor" {
        // No RSA, no JSON: the cost of an HTTP round trip with one database call.
        let raw = format!("GET /readyz HTTP/1.1\r\nhost: {}\r\n\r\n", a.addr).into_bytes();
        vec![raw; a.count]
    } else if a.mode == "v2query" {
        let v2 = v2_client(a);
        let id = signed_v2_contract(a, &v2, &format!("BV{run}")).await;
        let body = v2.querycontract_body(&QueryContractRequest::by_contract_id("wx8a3e6b0c5d2f4e71", id));
        let raw = format!(
            "POST /papay/querycontract HTTP/1.1\r\nhost: {}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
            a.addr,
            body.len()
        );
        vec![raw.into_bytes(); a.count]
    } else if a.mode == "v2presign" {
        let v2 = v2_client(a);
        (0..a.count)
            .map(|i| {
                get(
                    &a.addr,
                    &v2.h5entrustweb_url(&h5entrustweb(&format!("BV{run}x{i}"), i as i64 + 1)),
                )
            })
            .collect()
    } else if a.mode == "query" {
        let code = format!("BQ{run}");
        c.presign_jsapi(&serde_json::from_slice(&presign_body(&code)).unwrap())
            .await
            .unwrap();
        let path =
            format!("/v3/global/papay/contracts/out-contract-code/{code}?appid=wx8a3e6b0c5d2f4e71&plan_id=12535");
        (0..a.count)
            .map(|_| raw(&a.addr, c.prepare(http::Method::GET, &path, None).unwrap()))
            .collect()
    } else {
        let path = "/v3/global/papay/contracts/jsapi-pre-entrust-sign";
        (0..a.count)
            .map(|i| {
                raw(
                    &a.addr,
                    c.prepare(http::Method::POST, path, Some(presign_body(&format!("B{run}x{i}"))))
                        .unwrap(),
                )
            })
            .collect()
    };
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    let v2 = a.mode.starts_with("v2");
    for _ in 0..a.concurrency {
        let (requests, next, addr) = (requests.clone(), next.clone(), a.addr.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut r = BufReader::new(stream);
            let mut buf = Vec::with_capacity(4096);
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(req) = requests.get(i) else { break };
                let t = Instant::now();
                r.get_mut().write_all(req).await.unwrap();
                let status = read_response(&mut r, &mut buf).await;
                let v2_failed = v2 && !buf.windows(V2_SUCCESS.len()).any(|w| w == V2_SUCCESS);
                if status != 200 || v2_failed {
                    errors += 1;
                }
                lat.push(t.elapsed());
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}_rps={:.0} p50_ms={:.2} p99_ms={:.2} requests={} errors={errors} exhausted={}",
        a.mode,
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        lat.len(),
        next.load(Ordering::Relaxed) >= requests.len()
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    match a.mode.as_str() {
        "sign" => sign_rate(a.seconds),
        "query" | "presign" | "floor" | "v2query" | "v2presign" => load(&a).await,
        other => panic!("--mode sign|query|presign|floor|v2query|v2presign, not {other:?}"),
    }
}
