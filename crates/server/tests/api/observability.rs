//! The operator's view of papay: `/metrics` moves as requests, signature failures, contracts
//! and deliveries happen; `/healthz` and `/readyz`; each request's log lines carry its
//! `Request-ID`, route and merchant; `--log-format json` writes one JSON object per line; and
//! no log line of the whole run holds a secret (`log_capture.rs` checks every line).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use papay_client::v2::{QueryContractRequest, V2ApiKey, V2Client};
use papay_protocol::contracts::PresignRequest;

use crate::helpers::*;
use crate::log_capture;
use crate::notifications::spawn_with_receiver;

/// The sum of every sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let r = reqwest::get(format!("{}/metrics", app.base_url)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    r.text().await.unwrap()
}

/// Scrapes until `ready` holds (the worker records deliveries in the background).
async fn scrape_until(app: &TestApp, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let text = poll(Duration::from_secs(10), || scrape(app), |t| ready(t)).await;
    assert!(ready(&text), "{what} never showed in:\n{text}");
    text
}

/// An APIv3 request from the main merchant whose signature is wrong.
async fn badly_signed(app: &TestApp) -> reqwest::Response {
    let auth = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"N0nceN0nceN0nce\",signature=\"AAAA\",timestamp=\"{}\",serial_no=\"{}\"",
        now(),
        app.merchant_serial()
    );
    reqwest::Client::new()
        .get(format!(
            "{}/v3/global/papay/contracts/out-contract-code/x?plan_id={PLAN}&appid={APPID}",
            app.base_url
        ))
        .header("authorization", auth)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_move_with_requests_signature_failures_contracts_and_deliveries() {
    let (app, receiver) = spawn_with_receiver().await;
    let before = scrape(&app).await;
    assert!(before.contains("# TYPE papay_contracts gauge"), "{before}");
    assert_eq!(sample(&before, "papay_contracts", &[("state", "SIGNED")]), 0.0);

    let presign = [
        ("family", "APIv3"),
        ("route", "/v3/global/papay/contracts/jsapi-pre-entrust-sign"),
        ("method", "POST"),
        ("status", "200"),
        ("code", "OK"),
    ];
    let c = app.client();
    let request = PresignRequest {
        success_notify_url: receiver.url("/sign"),
        ..jsapi("METRICS1")
    };
    c.presign_jsapi(&request).await.unwrap();
    let id = c
        .query_contract_by_code("METRICS1", PLAN, &common())
        .await
        .unwrap()
        .contract_id;
    assert_eq!(badly_signed(&app).await.status(), 401);
    let wrong_key = V2Client::new(&app.base_url, MCHID, V2ApiKey::parse(&"0".repeat(32)).unwrap()).unwrap();
    assert!(wrong_key
        .query_contract(&QueryContractRequest::by_contract_id(APPID, &id))
        .await
        .is_err());

    // Paused deliveries wait in the queue; resumed, they go out.
    let (status, _) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications/pause"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    app.agree(&id, None).await;
    let queued = scrape(&app).await;
    assert_eq!(sample(&queued, "papay_notification_queue_depth", &[]), 1.0, "{queued}");
    assert_eq!(sample(&queued, "papay_contracts", &[("state", "SIGNED")]), 1.0);
    assert_eq!(sample(&queued, "papay_contracts", &[("state", "NOTSIGN")]), 0.0);
    let (status, _) = app
        .control(
            "POST",
            &format!("/sandbox/v1/merchants/{MCHID}/notifications/resume"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let delivered = [("api", "V3"), ("outcome", "DELIVERED")];
    let after = scrape_until(&app, "the delivery", |t| {
        sample(t, "papay_notification_attempts_total", &delivered) >= 1.0
            && sample(t, "papay_notification_queue_depth", &[]) == 0.0
    })
    .await;

    let moved = |name: &str, labels: &[(&str, &str)]| sample(&after, name, labels) - sample(&before, name, labels);
    assert_eq!(moved("papay_http_requests_total", &presign), 1.0, "{after}");
    assert_eq!(
        moved("papay_http_request_duration_seconds_count", &presign[..2]),
        1.0,
        "{after}"
    );
    let bad = [("family", "APIv3"), ("reason", "bad_signature")];
    assert_eq!(moved("papay_signature_failures_total", &bad), 1.0, "{after}");
    let bad_v2 = [("family", "APIv2"), ("reason", "bad_signature")];
    assert_eq!(moved("papay_signature_failures_total", &bad_v2), 1.0, "{after}");
    let v2_refused = [("family", "APIv2"), ("status", "200"), ("code", "SIGN_ERROR")];
    assert_eq!(moved("papay_http_requests_total", &v2_refused), 1.0, "{after}");
    let agreed = [
        ("family", "control"),
        ("route", "/sandbox/v1/sessions/{session_id}/agree"),
        ("code", "OK"),
    ];
    assert_eq!(moved("papay_http_requests_total", &agreed), 1.0, "{after}");
    assert_eq!(
        moved("papay_notification_attempt_duration_seconds_count", &delivered),
        1.0
    );
}

#[tokio::test]
async fn metrics_need_the_admin_token_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let config = format!("control_token = \"{ADMIN_TOKEN}\"\n{}", standard_config(false));
    std::fs::write(dir.path().join("papay.toml"), config).unwrap();
    let app = spawn_config_on(dir, "0.0.0.0:0").await;
    let get = |token: Option<String>| {
        let mut r = reqwest::Client::new().get(format!("{}/metrics", app.base_url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = get(None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("UNAUTHORIZED"), "{body}");
    let (status, made) = app
        .control_as(Some(ADMIN_TOKEN), "POST", "/sandbox/v1/merchants", None)
        .await;
    assert_eq!(status, 201, "{made}");
    let merchant_token = made["control_token"].as_str().unwrap().to_string();
    let (status, body) = get(Some(merchant_token)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("NO_AUTH") && body.contains("admin token"), "{body}");
    let (status, body) = get(Some(ADMIN_TOKEN.into())).await;
    assert_eq!(status, 200);
    assert!(body.contains("papay_http_requests_total"), "{body}");
}

#[tokio::test]
async fn healthz_answers_and_readyz_checks_the_database() {
    let app = spawn_app().await;
    let get = |path: &str| {
        let url = format!("{}{path}", app.base_url);
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await, (200, "ok".into()));
    assert_eq!(get("/readyz").await, (200, "ready".into()));
    // Only a database papay does not own can vanish under it: PostgreSQL's.
    if let Some(name) = app.database_name() {
        drop_database(name).await;
        let (status, body) = get("/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("database"), "{body}");
        assert_eq!(get("/healthz").await.0, 200, "alive, though not ready");
    }
}

/// Each request's log lines sit in its span: Request-ID, method, route and, once the
/// signature names one, the merchant; the answer line gives status, code and latency.
#[tokio::test]
async fn each_request_logs_in_a_span_with_its_request_id_route_and_merchant() {
    let app = spawn_app().await;
    let r = badly_signed(&app).await;
    let header = r.headers()["request-id"].to_str().unwrap().to_string();
    let id = header.rsplit_once('-').unwrap().0.to_string();
    let lines = log_capture::lines_with(&id);
    let answered = lines
        .iter()
        .find(|l| l["fields"]["message"] == "answered")
        .unwrap_or_else(|| panic!("no answer line for {id}: {lines:?}"));
    assert_eq!(answered["level"], "INFO");
    assert_eq!(answered["fields"]["status"], 401);
    assert_eq!(answered["fields"]["code"], "SIGN_ERROR");
    assert!(answered["fields"]["latency_ms"].as_f64().is_some());
    let span = &answered["span"];
    assert_eq!(span["name"], "request");
    assert_eq!(span["request_id"], id.as_str());
    assert_eq!(span["method"], "GET");
    assert_eq!(
        span["route"],
        "/v3/global/papay/contracts/out-contract-code/{out_contract_code}"
    );
    assert_eq!(span["mchid"], MCHID);
    log_capture::assert_clean();
}

/// `papay serve --log-format json`: every line on standard error is one JSON object, a
/// request's answer among them; none holds one of the demo merchant's secrets.
#[tokio::test]
async fn the_binary_logs_json_lines_without_secrets() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("PAPAY_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut base = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("papay listening on ") {
            base = Some(url.to_string());
            break;
        }
    }
    let base = base.expect("papay printed its address");
    for path in ["/v3/certificates", "/healthz", "/sandbox/v1/merchants/1900000100/clock"] {
        reqwest::get(format!("{base}{path}")).await.unwrap();
    }
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(child.wait().unwrap().success());

    let demo = data.path().join("demo");
    let secrets: Vec<String> = ["merchant_key.pem", "apiv3_key.txt", "v2_key.txt"]
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(demo.join(f)).unwrap();
            text.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(secrets.len() > 10);
    let mut answered = 0;
    for line in stderr.lines() {
        let json: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(json["timestamp"].is_string() && json["level"].is_string(), "{line}");
        for s in &secrets {
            assert!(
                !line.contains(s.as_str()),
                "a demo secret in: {}",
                line.replace(s.as_str(), "<SECRET>")
            );
        }
        if json["fields"]["message"] == "answered" {
            answered += 1;
        }
    }
    assert!(answered >= 1, "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
}

/// Every line the suite logged so far parsed as JSON and held none of the secrets; this
/// test adds the paths most likely to leak one (refused signatures, v2 keys, tokens).
#[tokio::test]
async fn no_log_line_holds_a_secret() {
    let app = spawn_app().await;
    badly_signed(&app).await;
    let wrong_key = V2Client::new(&app.base_url, MCHID, V2ApiKey::parse(&"1".repeat(32)).unwrap()).unwrap();
    let _ = wrong_key
        .query_contract(&QueryContractRequest::by_contract_id(APPID, "1"))
        .await;
    let (status, made) = app.control("POST", "/sandbox/v1/merchants", None).await;
    assert_eq!(status, 201, "{made}");
    let (lines, secrets) = log_capture::counts();
    assert!(lines > 0 && secrets >= 5, "{lines} lines, {secrets} secrets");
    log_capture::assert_clean();
}
