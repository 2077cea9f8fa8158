//! A bad config stops start-up with one line naming the file and the field, and a non-zero
//! exit; it never half-starts. Secrets never appear in errors or `Debug` output.

use std::path::Path;
use std::process::Command;

use papay::config::{Overrides, Settings};

use crate::helpers::*;

fn load(dir: &Path, toml: &str) -> Result<Settings, papay::config::ConfigError> {
    std::fs::write(dir.join("papay.toml"), toml).unwrap();
    Settings::load(Some(&dir.join("papay.toml")), &Overrides::default())
}

const GOOD_MERCHANT: &str = r#"
[[merchants]]
mchid = "1900000100"
api_certificate = "merchant_cert.pem"
apiv3_key_file = "apiv3_key.txt"
"#;

#[test]
fn config_errors_name_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    std::fs::write(dir.path().join("garbage.pem"), "not a pem").unwrap();
    let file = dir.path().join("papay.toml").display().to_string();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("unreadable PEM", GOOD_MERCHANT.replace("merchant_cert.pem", "garbage.pem"), "merchants[0].api_certificate", "not a PEM certificate"),
        ("missing file", GOOD_MERCHANT.replace("merchant_cert.pem", "absent.pem"), "merchants[0].api_certificate", "cannot read"),
        ("key not matching its certificate", format!("{GOOD_MERCHANT}\n[[merchants.platform_keys]]\nprivate_key = \"merchant_key.pem\"\ncertificate = \"platform_cert.pem\"\n"), "merchants[0].platform_keys[0]", "does not match"),
        ("duplicate mchid", format!("{GOOD_MERCHANT}{GOOD_MERCHANT}"), "merchants[1].mchid", "duplicate mchid 1900000100"),
        ("plan of an unknown merchant", format!("{GOOD_MERCHANT}\n[[plans]]\nplan_id = 1\nmchid = \"1900000999\"\nname = \"x\"\n"), "plans[0].mchid", "no merchant 1900000999"),
        ("bad apiv3 key", GOOD_MERCHANT.replace("apiv3_key_file = \"apiv3_key.txt\"", "apiv3_key = \"tooShortSecret42\""), "merchants[0].apiv3_key", "32 ASCII"),
        ("unknown field", format!("{GOOD_MERCHANT}colour = \"red\"\n"), "merchants.0", "unknown field"),
        ("bad listen", "listen = \"localhost\"\n".to_string(), "listen", "not an address"),
        ("secret env missing", GOOD_MERCHANT.replace("apiv3_key_file = \"apiv3_key.txt\"", "apiv3_key_env = \"PAPAY_TEST_UNSET_VAR\""), "merchants[0].apiv3_key_env", "PAPAY_TEST_UNSET_VAR is not set"),
        ("sub-merchant not of the plan owner", format!("{GOOD_MERCHANT}\n[[plans]]\nplan_id = 1\nmchid = \"1900000100\"\nname = \"x\"\nsub_mchids = [\"1900000109\"]\n"), "plans[0].sub_mchids[0]", "not a sub-merchant"),
        ("lease too short", format!("{GOOD_MERCHANT}\n[notify]\nlease_seconds = 4\n"), "notify.lease_seconds", "4 is out of range: seconds from 5 to 3600"),
        ("lease too long", format!("{GOOD_MERCHANT}\n[notify]\nlease_seconds = 3601\n"), "notify.lease_seconds", "out of range"),
        ("lease not a number", format!("{GOOD_MERCHANT}\n[notify]\nlease_seconds = \"soon\"\n"), "notify.lease_seconds", "invalid type"),
    ];
    for (name, toml, field, problem) in cases {
        let err = load(dir.path(), &toml).unwrap_err();
        let line = err.to_string();
        assert_eq!(err.file, file, "{name}");
        assert!(err.field.contains(field), "{name}: field {:?} in {line}", err.field);
        assert!(line.contains(problem), "{name}: {line}");
        assert!(!line.contains('\n'), "{name}: one line: {line}");
        assert!(!line.contains("tooShortSecret42"), "{name}: secret leaked: {line}");
    }
}

#[test]
fn settings_debug_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    write_key_files(dir.path());
    let settings = load(dir.path(), &standard_config(false)).unwrap();
    let shown = format!("{settings:?}");
    let k = keys();
    assert!(!shown.contains(&k.apiv3_key), "APIv3 key in Debug");
    assert!(!shown.contains("192006250b4c09247ec02edce69f6a2d"), "v2 key in Debug");
    let private_line = k.platform_key.lines().nth(2).unwrap();
    assert!(!shown.contains(private_line), "private key in Debug");
}

#[test]
fn the_binary_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("papay.toml"), "[[merchants]]\nmchid = \"abc\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_papay"))
        .args(["serve", "--config"])
        .arg(dir.path().join("papay.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("papay.toml: merchants[0].mchid: mchid \"abc\" is invalid"),
        "{stderr}"
    );
    assert!(!dir.path().join("papay-data").exists(), "nothing half-started");
}
