//! Nothing accepted is lost: notifications pending when the papay process is killed with
//! SIGKILL are all delivered by the next process on the same database.

use std::process::Stdio;
use std::time::Duration;

use papay_protocol::notifications::Notification;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;
use crate::notifications::receiver_config;
use crate::receiver::Receiver;

/// A `papay serve` process on 127.0.0.1:0 with `dir/papay.toml`; answers it and its base URL.
async fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(["serve", "--config"])
        .arg(dir.join("papay.toml"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("papay listening on ") {
                return url.to_string();
            }
        }
        panic!("papay exited before listening");
    })
    .await
    .expect("papay did not start");
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

async fn control(base: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new().request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{method} {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

fn ids(received: &[crate::receiver::Received]) -> std::collections::BTreeSet<String> {
    received
        .iter()
        .map(|r| serde_json::from_slice::<Notification>(&r.body).unwrap().id)
        .collect()
}

#[tokio::test]
async fn pending_notifications_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let receiver = Receiver::start(dir.path());
    receiver.set_default(503, "down for maintenance");
    std::fs::write(dir.path().join("papay.toml"), receiver_config(&receiver)).unwrap();

    let (mut first, base) = serve(dir.path()).await;
    let client = papay_client::Client::builder()
        .base_url(&base)
        .merchant(
            MCHID,
            papay_protocol::pki::Certificate::from_pem(&keys().merchant_cert)
                .unwrap()
                .serial(),
            papay_protocol::keys::PrivateKey::from_pem(&keys().merchant_key).unwrap(),
        )
        .platform_certificate(&papay_protocol::pki::Certificate::from_pem(&keys().platform_cert).unwrap())
        .build()
        .unwrap();
    const N: usize = 12;
    for i in 0..N {
        let code = format!("K{i}");
        client
            .presign_jsapi(&papay_protocol::contracts::PresignRequest {
                success_notify_url: receiver.url("/sign"),
                openid: Some(format!("o{code}")),
                ..jsapi(&code)
            })
            .await
            .unwrap();
        let id = client
            .query_contract_by_code(&code, PLAN, &common())
            .await
            .unwrap()
            .contract_id;
        let detail = control(&base, "GET", &format!("/sandbox/v1/contracts/{id}"), None).await;
        let session = detail["session_id"].as_str().unwrap();
        control(&base, "POST", &format!("/sandbox/v1/sessions/{session}/agree"), None).await;
    }
    // Every first attempt failed; all are pending, the next attempts 15 s away.
    let failed = receiver.wait_for(N, Duration::from_secs(20)).await;
    let expected = ids(&failed);
    assert_eq!(expected.len(), N);

    first.start_kill().unwrap();
    first.wait().await.unwrap();
    receiver.set_default(200, r#"{"code":"SUCCESS","message":"成功"}"#);

    let (_second, base) = serve(dir.path()).await;
    control(
        &base,
        "POST",
        &format!("/sandbox/v1/merchants/{MCHID}/clock/advance"),
        Some(json!({"by": "16s"})),
    )
    .await;
    let all = receiver.wait_for(2 * N, Duration::from_secs(20)).await;
    assert_eq!(
        ids(&all[N..]),
        expected,
        "every pending notification delivered after the restart"
    );
}
