//! `papay serve` with no config bootstraps a demo merchant whose files a newcomer can point
//! an SDK at, and a second start reuses them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use papay::config::{Overrides, Settings};
use papay::App;
use papay_client::Client;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;

async fn start(data_dir: &std::path::Path) -> App {
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
        ..Overrides::default()
    };
    App::build(Settings::load(None, &overrides).unwrap()).await.unwrap()
}

fn demo_client(base_url: &str, demo: &std::path::Path) -> Client {
    let read = |n: &str| std::fs::read_to_string(demo.join(n)).unwrap();
    let cert = Certificate::from_pem(&read("merchant_cert.pem")).unwrap();
    Client::builder()
        .base_url(base_url)
        .merchant(
            "1900000100",
            cert.serial(),
            PrivateKey::from_pem(&read("merchant_key.pem")).unwrap(),
        )
        .apiv3_key(ApiV3Key::parse(&read("apiv3_key.txt")).unwrap())
        .platform_certificate(&Certificate::from_pem(&read("platform_cert.pem")).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn demo_merchant_is_made_once_and_reused() {
    let data = tempfile::tempdir().unwrap();
    let app = start(data.path()).await;
    let demo = app.demo().unwrap().clone();
    assert!(demo.info.created);
    let dir = data.path().join("demo");
    for f in [
        "merchant_key.pem",
        "merchant_cert.pem",
        "platform_cert.pem",
        "apiv3_key.txt",
        "v2_key.txt",
        "demo.toml",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert_eq!(demo.plan_id, Some(12535));
    let platform_serial = demo.merchant.platform_keys[0].serial.to_string();
    assert_eq!(platform_serial.len(), 40);
    assert_eq!(platform_serial, platform_serial.to_ascii_uppercase());
    let base = app.base_url().to_string();
    let server = tokio::spawn(app.run_until(std::future::pending()));
    let certs = demo_client(&base, &dir).download_certificates().await.unwrap();
    assert_eq!(certs[0].serial(), platform_serial);
    server.abort();

    // demo.toml is a config file --config accepts, describing the same merchant.
    let text = std::fs::read_to_string(dir.join("demo.toml")).unwrap();
    assert!(text.contains(&platform_serial) && text.contains("wx8a3e6b0c5d2f4e71"));
    let again = start(data.path()).await;
    let demo2 = again.demo().unwrap();
    assert!(!demo2.info.created);
    assert_eq!(demo2.merchant.platform_keys[0].serial.as_str(), platform_serial);
    assert_eq!(
        demo2.merchant.api_credentials[0].serial,
        demo.merchant.api_credentials[0].serial
    );
}

#[test]
fn serve_prints_what_a_newcomer_needs() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        out.push_str(&line);
        out.push('\n');
        if line.starts_with("papay listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for needle in [
        "mchid                    1900000100",
        "appid                    wx8a3e6b0c5d2f4e71",
        "plan_id                  12535",
        "platform serial",
        "API serial",
        "merchant_key.pem",
        "apiv3_key.txt",
        "demo.toml",
        "base URL                 http://127.0.0.1:",
        "/dashboard · API documents http://127.0.0.1:",
        "/openapi · metrics http://127.0.0.1:",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
}
