//! The shape of `papay.toml`, exactly as operators write it. Paths are relative to the file.

use figment::value::magic::RelativePathBuf;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub data_dir: Option<RelativePathBuf>,
    pub database_url: Option<String>,
    /// Refuse a reused `nonce_str` within the 5-minute window (off: the real service documents none).
    #[serde(default)]
    pub replay_protection: bool,
    /// Bearer token for the control API (needed when papay listens beyond loopback).
    pub control_token: Option<String>,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub merchants: Vec<MerchantConfig>,
    #[serde(default)]
    pub plans: Vec<PlanConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default)]
    pub extra_ca_files: Vec<RelativePathBuf>,
    #[serde(default = "yes")]
    pub allow_private_targets: bool,
    /// How long a claimed notification stays claimed (seconds); another instance takes it
    /// over once it runs out. Default 60.
    pub lease_seconds: Option<u64>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            extra_ca_files: Vec::new(),
            allow_private_targets: true,
            lease_seconds: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// A secret given inline, in a file, or in a named environment variable.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    pub mchid: String,
    pub name: Option<String>,
    pub api_certificate: Option<RelativePathBuf>,
    pub api_public_key: Option<RelativePathBuf>,
    pub api_serial: Option<String>,
    pub apiv3_key: Option<String>,
    pub apiv3_key_file: Option<RelativePathBuf>,
    pub apiv3_key_env: Option<String>,
    pub v2_key: Option<String>,
    pub v2_key_file: Option<RelativePathBuf>,
    pub v2_key_env: Option<String>,
    #[serde(default)]
    pub appids: Vec<String>,
    #[serde(default)]
    pub platform_keys: Vec<PlatformKeyConfig>,
    #[serde(default)]
    pub sub_merchants: Vec<SubMerchantConfig>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlatformKeyConfig {
    pub private_key: Option<RelativePathBuf>,
    pub private_key_env: Option<String>,
    pub certificate: Option<RelativePathBuf>,
    pub public_key_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubMerchantConfig {
    pub sub_mchid: String,
    #[serde(default)]
    pub sub_appids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub plan_id: i64,
    pub mchid: String,
    pub name: String,
    #[serde(default)]
    pub sub_mchids: Vec<String>,
    pub termination_notify_url: Option<String>,
    #[serde(default = "default_validity")]
    pub contract_validity_days: u32,
}

fn default_validity() -> u32 {
    365
}
