//! The demo merchant: on a first start without `--config`, papay makes a credential set under
//! `DATA_DIR/demo/` with a `demo.toml` describing it; later starts load that file again.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::credentials::{files, CredentialError, CredentialSet, Identity};

pub const CONFIG_FILE: &str = "demo.toml";

/// What a newcomer needs to point an SDK at the demo merchant.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub created: bool,
}

/// Makes sure `data_dir/demo/demo.toml` and its files exist; returns where they are.
pub fn ensure(data_dir: &Path, now: OffsetDateTime) -> Result<DemoInfo, CredentialError> {
    let dir = data_dir.join("demo");
    let config = dir.join(CONFIG_FILE);
    if config.is_file() {
        return Ok(DemoInfo {
            dir,
            config,
            created: false,
        });
    }
    let set = CredentialSet::generate(Identity::demo(), now)?;
    set.write_to(&dir)?;
    // Written last, so an interrupted first start is simply redone on the next one.
    let text = set.config_toml(Some(".."));
    std::fs::write(&config, text).map_err(|source| CredentialError::Write {
        path: config.clone(),
        source,
    })?;
    Ok(DemoInfo {
        dir,
        config,
        created: true,
    })
}

/// The banner printed at start: ids, serials, files and the base URL.
pub fn banner(
    info: &DemoInfo,
    merchant: &crate::domain::merchant::Merchant,
    plan_id: Option<i64>,
    base_url: &str,
) -> String {
    let f = |name: &str| info.dir.join(name).display().to_string();
    let api_serial = merchant
        .api_credentials
        .first()
        .map(|c| c.serial.to_string())
        .unwrap_or_default();
    let (platform_serial, pkid) = merchant
        .newest_platform_key()
        .map(|k| {
            (
                k.serial.to_string(),
                k.public_key_id.as_ref().map(|i| i.to_string()).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let appid = merchant.appids.first().map(|a| a.to_string()).unwrap_or_default();
    let sub = merchant.sub_merchants.first();
    format!(
        "papay demo merchant{created}\n  base URL                 {base_url}\n  mchid                    {mchid}\n  appid                    {appid}\n  plan_id                  {plan}\n  sub_mchid / sub_appid    {sub_mchid} / {sub_appid}\n  API serial (serial_no)   {api_serial}\n  platform serial          {platform_serial}\n  platform public key id   {pkid}\n  merchant private key     {mk}\n  merchant certificate     {mc}\n  platform certificate     {pc}\n  platform public key      {pp}\n  APIv3 key file           {a3}\n  v2 key file              {v2}\n  config                   {cfg}\n",
        created = if info.created { " (created)" } else { "" },
        mchid = merchant.mchid,
        plan = plan_id.map(|p| p.to_string()).unwrap_or_default(),
        sub_mchid = sub.map(|s| s.sub_mchid.to_string()).unwrap_or_default(),
        sub_appid = sub.and_then(|s| s.sub_appids.first()).map(|a| a.to_string()).unwrap_or_default(),
        mk = f(files::MERCHANT_KEY),
        mc = f(files::MERCHANT_CERT),
        pc = f(files::PLATFORM_CERT),
        pp = f(files::PLATFORM_PUBLIC_KEY),
        a3 = f(files::APIV3_KEY),
        v2 = f(files::V2_KEY),
        cfg = info.config.display(),
    )
}
