//! A merchant's notification endpoint, the other side of papay's outgoing notifications.
//!
//! WeChat Pay tells a merchant about signing and termination by POSTing to the merchant's `notify_url`, which
//! must be HTTPS. Testing papay's delivery (headers, signature, encrypted resource, retries after a failure or a
//! timeout) needs a real HTTPS server that records exactly what arrived and answers as each test scripts it.
//!
//! [`Receiver::start`] serves HTTP/1.1 over TLS on `127.0.0.1:0`. Its certificate (for `127.0.0.1` and
//! `localhost`) is signed by a throwaway CA written to `dir/receiver-ca.pem`, which papay trusts through
//! `[notify] extra_ca_files = ["receiver-ca.pem"]`: papay's certificate checks stay on, and a test can as well
//! show that a receiver papay was not told to trust is refused. The rustls crypto provider is given explicitly,
//! so nothing depends on (or installs) a process-wide default.
//!
//! Every request is recorded; answers come from a queue of scripted ones, in order, then from a default
//! (`200` with `{"code":"SUCCESS","message":"成功"}`, what a merchant answers when it accepted the notification).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// What a merchant answers when it accepted a notification.
pub const SUCCESS_BODY: &str = r#"{"code":"SUCCESS","message":"成功"}"#;

/// One request, as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// When its head arrived (before the body was read).
    pub at: Instant,
    pub at_system: SystemTime,
    pub method: Method,
    /// The request target: the path, and the query if there was one.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("the notification body is UTF-8")
    }

    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the notification body is JSON")
    }
}

#[derive(Debug, Clone)]
enum Answer {
    /// `status` and `body` (as `application/json` when not empty), after `delay`.
    Respond {
        status: StatusCode,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Close the connection without answering.
    Close,
}

struct Shared {
    /// Scripted answers, then the default. Locked while a request is recorded, so the n-th request recorded
    /// is the one that got the n-th scripted answer.
    script: Mutex<(VecDeque<Answer>, Answer)>,
    received: watch::Sender<Vec<Received>>,
}

/// The running receiver; dropping it shuts it down.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver and writes its CA certificate to `dir/receiver-ca.pem`. Needs a Tokio runtime.
    pub fn start(dir: &Path) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (ca_pem, tls) = certificates(addr);
        std::fs::write(dir.join("receiver-ca.pem"), ca_pem).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let shared = Arc::new(Shared {
            script: Mutex::new((VecDeque::new(), respond(200, SUCCESS_BODY, Duration::ZERO))),
            received: watch::Sender::new(Vec::new()),
        });
        let server = tokio::spawn(serve(listener, TlsAcceptor::from(Arc::new(tls)), shared.clone()));
        Receiver { addr, shared, server }
    }

    /// `https://127.0.0.1:<port><path>`; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Queues an answer: `status` with `body`.
    pub fn respond_with(&self, status: u16, body: impl Into<Vec<u8>>) {
        self.push(respond(status, body, Duration::ZERO));
    }

    /// Queues an answer: `status` with [`SUCCESS_BODY`], written only after `delay` (to make papay time out).
    pub fn respond_with_delay(&self, status: u16, delay: Duration) {
        self.push(respond(status, SUCCESS_BODY, delay));
    }

    /// Queues a non-answer: the connection is closed, once the request's body is read, without a response.
    pub fn close_connection(&self) {
        self.push(Answer::Close);
    }

    /// The answer once the queue is used up (at first `200` with [`SUCCESS_BODY`]).
    pub fn set_default(&self, status: u16, body: impl Into<Vec<u8>>) {
        self.shared.script.lock().unwrap().1 = respond(status, body, Duration::ZERO);
    }

    /// The answer once the queue is used up: `status` with [`SUCCESS_BODY`], after `delay`.
    pub fn set_default_delay(&self, status: u16, delay: Duration) {
        self.shared.script.lock().unwrap().1 = respond(status, SUCCESS_BODY, delay);
    }

    /// Every request so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.borrow().clone()
    }

    /// Waits until at least `n` requests arrived and returns all of them; panics, listing them, after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let mut changes = self.shared.received.subscribe();
        if let Ok(Ok(received)) = tokio::time::timeout(timeout, changes.wait_for(|r| r.len() >= n)).await {
            return received.clone();
        }
        let received = self.received();
        let mut list = String::new();
        for r in &received {
            let body = String::from_utf8_lossy(&r.body);
            write!(list, "\n  {} {} ({} bytes) {body}", r.method, r.path, r.body.len()).unwrap();
        }
        panic!(
            "receiver: waited {timeout:?} for {n} requests, {} arrived{list}",
            received.len()
        );
    }

    fn push(&self, answer: Answer) {
        self.shared.script.lock().unwrap().0.push_back(answer);
    }
}

impl Drop for Receiver {
    /// Stops accepting and drops every open connection (their tasks belong to the server task's `JoinSet`).
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn respond(status: u16, body: impl Into<Vec<u8>>, delay: Duration) -> Answer {
    let status = StatusCode::from_u16(status).unwrap();
    Answer::Respond {
        status,
        body: body.into(),
        delay,
    }
}

/// The CA certificate (PEM) and a TLS configuration presenting a server certificate signed by it. The CA's name
/// carries the receiver's address, so that two receivers' CAs are told apart by name, as unrelated CAs would be.
fn certificates(addr: SocketAddr) -> (String, ServerConfig) {
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, format!("papay test receiver CA {addr}"));
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

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let mut tls = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], key)
        .unwrap();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca_pem, tls)
}

async fn serve(listener: TcpListener, tls: TlsAcceptor, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(tcp, tls.clone(), shared.clone()));
    }
}

async fn connection(tcp: TcpStream, tls: TlsAcceptor, shared: Arc<Shared>) {
    // A client that does not trust the CA aborts here.
    let Ok(stream) = tls.accept(tcp).await else { return };
    let service = service_fn(move |request| answer(request, shared.clone()));
    // Ends with an error when an answer is `Close`: hyper then drops the connection without writing anything.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn answer(request: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, &'static str> {
    let (at, at_system) = (Instant::now(), SystemTime::now());
    let (head, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes().to_vec()) else {
        return Err("the request body did not arrive");
    };
    let answer = {
        let mut script = shared.script.lock().unwrap();
        let answer = script.0.pop_front().unwrap_or_else(|| script.1.clone());
        let path = head.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let received = Received {
            at,
            at_system,
            method: head.method,
            path,
            headers: head.headers,
            body,
        };
        shared.received.send_modify(|r| r.push(received));
        answer
    };
    match answer {
        Answer::Close => Err("closed by the script"),
        Answer::Respond { status, body, delay } => {
            tokio::time::sleep(delay).await;
            let mut response = Response::builder().status(status);
            if !body.is_empty() {
                response = response.header(http::header::CONTENT_TYPE, "application/json");
            }
            Ok(response.body(Full::new(Bytes::from(body))).unwrap())
        }
    }
}

// The harness's own tests.

/// A client whose only root is the CA in `ca_file`.
fn client_trusting(ca_file: &Path) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_file).unwrap()).unwrap();
    reqwest::Client::builder().tls_certs_only([ca]).no_proxy()
}

async fn post(client: &reqwest::Client, url: &str, body: &'static str) -> (u16, String) {
    let response = client.post(url).body(body).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn answers_as_scripted_in_order_to_a_client_trusting_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let client = client_trusting(&dir.path().join("receiver-ca.pem")).build().unwrap();
    receiver.respond_with(500, r#"{"code":"FAIL","message":"失败"}"#);
    receiver.respond_with(204, "");
    receiver.close_connection();
    receiver.respond_with(429, "slow down");
    let url = receiver.url("/notify");

    assert_eq!(
        post(&client, &url, "1").await,
        (500, r#"{"code":"FAIL","message":"失败"}"#.into())
    );
    assert_eq!(post(&client, &url, "2").await, (204, String::new()));
    let closed = client.post(&url).body("3").send().await.unwrap_err();
    assert!(!closed.is_timeout() && closed.status().is_none(), "{closed:?}");
    assert_eq!(post(&client, &url, "4").await, (429, "slow down".into()));
    assert_eq!(post(&client, &url, "5").await, (200, SUCCESS_BODY.into()));
    receiver.set_default(503, "");
    assert_eq!(post(&client, &url, "6").await, (503, String::new()));

    // The certificate also names localhost.
    let port = reqwest::Url::parse(&url).unwrap().port().unwrap();
    let by_name = client_trusting(&dir.path().join("receiver-ca.pem"))
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    assert_eq!(post(&by_name, &format!("https://localhost:{port}/x"), "7").await.0, 503);

    let bodies: Vec<_> = receiver.received().iter().map(|r| r.body_text().to_string()).collect();
    assert_eq!(bodies, ["1", "2", "3", "4", "5", "6", "7"]);
}

#[tokio::test]
async fn a_client_not_trusting_its_ca_fails_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let _other = Receiver::start(other.path());
    let client = client_trusting(&other.path().join("receiver-ca.pem")).build().unwrap();

    let err = client
        .post(receiver.url("/notify"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(
        format!("{err:?}").contains("InvalidCertificate(UnknownIssuer)"),
        "{err:?}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn wait_for_returns_bodies_and_headers_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let client = client_trusting(&dir.path().join("receiver-ca.pem")).build().unwrap();
    let body = r#"{"id":"EV-2018022511223320873","resource":{"ciphertext":"…"}}"#;
    let before = SystemTime::now();
    let url = receiver.url("/pay/notify?from=papay");
    let sent = tokio::spawn(async move {
        client
            .post(url)
            .header("Wechatpay-Serial", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    });

    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(sent.await.unwrap(), 200);
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.path, "/pay/notify?from=papay");
    assert_eq!(r.body, body.as_bytes());
    assert_eq!(r.body_json()["id"], "EV-2018022511223320873");
    assert_eq!(
        r.headers["wechatpay-serial"],
        "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    );
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["content-length"], body.len().to_string().as_str());
    assert!(before <= r.at_system && r.at_system <= SystemTime::now());
    assert!(r.at <= Instant::now());
}

#[tokio::test]
#[should_panic(expected = "receiver: waited 50ms for 2 requests, 1 arrived\n  POST /a (2 bytes) hi")]
async fn wait_for_lists_what_arrived_when_it_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let client = client_trusting(&dir.path().join("receiver-ca.pem")).build().unwrap();
    post(&client, &receiver.url("/a"), "hi").await;
    receiver.wait_for(2, Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_delayed_answer_takes_at_least_the_delay() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let client = client_trusting(&dir.path().join("receiver-ca.pem")).build().unwrap();
    receiver.respond_with_delay(200, Duration::from_millis(300));
    receiver.respond_with_delay(200, Duration::from_secs(2));

    let start = Instant::now();
    assert_eq!(
        post(&client, &receiver.url("/slow"), "1").await,
        (200, SUCCESS_BODY.into())
    );
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());

    let err = client
        .post(receiver.url("/slower"))
        .timeout(Duration::from_millis(100))
        .body("2")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn stops_serving_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let client = client_trusting(&dir.path().join("receiver-ca.pem")).build().unwrap();
    let url = receiver.url("/");
    assert_eq!(post(&client, &url, "").await.0, 200);
    drop(receiver);
    tokio::task::yield_now().await; // lets the aborted server task be dropped, and its listener with it
    let err = client.post(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}
