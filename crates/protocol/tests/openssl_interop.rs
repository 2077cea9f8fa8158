#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Interop with OpenSSL: a signature made by `openssl dgst -sha256 -sign` verifies here, and one
//! made here verifies with `openssl dgst -sha256 -verify`, over a real APIv3 signing string.

use std::process::Command;

use papay_protocol::keys::{PrivateKey, PublicKey};
use papay_protocol::signing::request_signing_string;

fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn openssl_signs_papay_verifies_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // Both key formats merchants meet: PKCS#8 (genpkey) and PKCS#1 (-traditional).
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &p("key.pem"),
    ]);
    openssl(&["rsa", "-in", &p("key.pem"), "-traditional", "-out", &p("key_pkcs1.pem")]);
    openssl(&["rsa", "-in", &p("key.pem"), "-pubout", "-out", &p("pub.pem")]);
    let message = request_signing_string(
        "POST",
        "/v3/global/papay/contracts/jsapi-pre-entrust-sign",
        "1700000000",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        "{\"appid\":\"wxcbda96de0b165486\",\"plan_id\":123,\"user_display_name\":\"张三\"}\n".as_bytes(),
    );
    std::fs::write(p("msg"), &message).unwrap();

    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &p("key.pem"),
        "-out",
        &p("sig.bin"),
        &p("msg"),
    ]);
    let public = PublicKey::from_pem(&std::fs::read_to_string(p("pub.pem")).unwrap()).unwrap();
    public.verify(&message, &std::fs::read(p("sig.bin")).unwrap()).unwrap();
    let mut tampered = message.clone();
    tampered[0] = b'G';
    assert!(public.verify(&tampered, &std::fs::read(p("sig.bin")).unwrap()).is_err());

    for key_file in ["key.pem", "key_pkcs1.pem"] {
        let key = PrivateKey::from_pem(&std::fs::read_to_string(p(key_file)).unwrap()).unwrap();
        assert_eq!(key.public_key(), public);
        std::fs::write(p("ours.bin"), key.sign(&message).unwrap()).unwrap();
        let out = openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            &p("pub.pem"),
            "-signature",
            &p("ours.bin"),
            &p("msg"),
        ]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    }
}
