//! A merchant brings the exact keys it uses in production: keys and certificates made by
//! `openssl`, not by papay, in certificate mode and in public-key mode.

use std::path::Path;
use std::process::Command;

use http::Method;
use papay_client::Client;
use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::{PrivateKey, PublicKey};
use papay_protocol::pki::Certificate;

use crate::helpers::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[tokio::test]
async fn openssl_made_keys_work_in_certificate_and_public_key_mode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Merchant API key + certificate (a 40-hex serial as WeChat issues), PKCS#1 key file.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "apiclient_key.pem",
            "-out",
            "apiclient_cert.pem",
            "-days",
            "365",
            "-subj",
            "/CN=1900000500/O=Openssl Store",
            "-set_serial",
            "0x1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "apiclient_key.pem",
            "-traditional",
            "-out",
            "apiclient_key_pkcs1.pem",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "apiclient_key.pem",
            "-pubout",
            "-out",
            "apiclient_pub.pem",
        ],
    );
    // Platform key + certificate, and its public key for public-key mode.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "wechatpay_key.pem",
            "-out",
            "wechatpay_cert.pem",
            "-days",
            "365",
            "-subj",
            "/CN=Tenpay.com Root CA",
            "-set_serial",
            "0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "wechatpay_key.pem",
            "-pubout",
            "-out",
            "wechatpay_pub.pem",
        ],
    );
    let apiv3 = {
        let out = Command::new("openssl").args(["rand", "-hex", "16"]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let pkid = "PUB_KEY_ID_0117000800002025045698789500001779";
    std::fs::write(
        d.join("papay.toml"),
        format!(
            r#"
data_dir = "."

[[merchants]]
mchid = "1900000500"
api_certificate = "apiclient_cert.pem"
apiv3_key_env = "PAPAY_TEST_OPENSSL_APIV3"

[[merchants.platform_keys]]
private_key = "wechatpay_key.pem"
certificate = "wechatpay_cert.pem"

[[merchants]]
mchid = "1900000600"
api_public_key = "apiclient_pub.pem"
api_serial = "7A7232F1B8E1"
apiv3_key = "{apiv3}"

[[merchants.platform_keys]]
private_key = "wechatpay_key.pem"
certificate = "wechatpay_cert.pem"
public_key_id = "{pkid}"
"#
        ),
    )
    .unwrap();
    std::env::set_var("PAPAY_TEST_OPENSSL_APIV3", &apiv3);
    let app = spawn_config(dir).await;
    let d = app.dir.path();
    assert_eq!(
        Certificate::from_pem(&read(d, "apiclient_cert.pem")).unwrap().serial(),
        "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
    );

    // Certificate mode: PKCS#1 key file, certificates downloaded and trusted.
    let cert_mode = Client::builder()
        .base_url(&app.base_url)
        .merchant(
            "1900000500",
            "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
            PrivateKey::from_pem(&read(d, "apiclient_key_pkcs1.pem")).unwrap(),
        )
        .apiv3_key(ApiV3Key::parse(&apiv3).unwrap())
        .build()
        .unwrap();
    let certs = cert_mode.download_certificates().await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial(), "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
    assert_eq!(certs[0].pem().trim(), read(d, "wechatpay_cert.pem").trim());
    let answer = cert_mode
        .execute(
            cert_mode
                .prepare(Method::GET, "/v3/certificates?algorithm_type=RSA", None)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        answer.signed_by.as_deref(),
        Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1")
    );

    // Public-key mode: merchant known by public key + serial, answers signed under the id.
    let pk_mode = Client::builder()
        .base_url(&app.base_url)
        .merchant(
            "1900000600",
            "7a7232f1b8e1",
            PrivateKey::from_pem(&read(d, "apiclient_key.pem")).unwrap(),
        )
        .apiv3_key(ApiV3Key::parse(&apiv3).unwrap())
        .platform_public_key(pkid, PublicKey::from_pem(&read(d, "wechatpay_pub.pem")).unwrap())
        .build()
        .unwrap();
    let certs = pk_mode.download_certificates().await.unwrap();
    assert_eq!(certs[0].serial(), "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
    let answer = pk_mode
        .execute(pk_mode.prepare(Method::GET, "/v3/global/certificates", None).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.signed_by.as_deref(), Some(pkid));
}
