//! A fresh credential set for one merchant, as WeChat Pay would issue it: the merchant's API
//! key pair and certificate, a platform key pair and certificate (also usable as a
//! "WeChat Pay public key" under an id), an APIv3 key and a v2 key. `papay keys generate`
//! writes one to disk with a matching config snippet; the demo merchant is one of these.

use std::io::Write;
use std::path::{Path, PathBuf};

use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::{KeyError, PrivateKey};
use papay_protocol::pki::{Certificate, PkiError};
use time::{Duration, OffsetDateTime};

/// Who the credentials are for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub mchid: String,
    pub name: String,
    pub appid: String,
    pub plan_id: i64,
    pub plan_name: String,
    pub sub_mchid: String,
    pub sub_appid: String,
}

impl Identity {
    /// The demo merchant's ids (those of the README and the issue's config example).
    pub fn demo() -> Self {
        Identity {
            mchid: "1900000100".into(),
            name: "papay Demo Store".into(),
            appid: "wx8a3e6b0c5d2f4e71".into(),
            plan_id: 12535,
            plan_name: "Demo monthly membership".into(),
            sub_mchid: "1900000109".into(),
            sub_appid: "wx5c7d9e1f3a5b7c92".into(),
        }
    }
}

/// File names inside a credentials directory.
pub mod files {
    pub const MERCHANT_KEY: &str = "merchant_key.pem";
    pub const MERCHANT_CERT: &str = "merchant_cert.pem";
    pub const PLATFORM_KEY: &str = "platform_key.pem";
    pub const PLATFORM_CERT: &str = "platform_cert.pem";
    pub const PLATFORM_PUBLIC_KEY: &str = "platform_public_key.pem";
    pub const APIV3_KEY: &str = "apiv3_key.txt";
    pub const V2_KEY: &str = "v2_key.txt";
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("generated credentials are unusable: {0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

#[derive(Debug)]
pub struct CredentialSet {
    pub identity: Identity,
    pub merchant_key: PrivateKey,
    pub merchant_cert: Certificate,
    pub platform_key: PrivateKey,
    pub platform_cert: Certificate,
    pub public_key_id: String,
    pub apiv3_key: ApiV3Key,
    pub v2_key: String,
}

const VALIDITY: Duration = Duration::days(5 * 365);

impl CredentialSet {
    pub fn generate(identity: Identity, now: OffsetDateTime) -> Result<Self, CredentialError> {
        // Back-date an hour so clients with a slightly slow clock accept the certificates.
        let not_before = now.replace_nanosecond(0).unwrap_or(now) - Duration::hours(1);
        let merchant_key = PrivateKey::generate()?;
        let merchant_cert =
            Certificate::generate(&merchant_key, &identity.mchid, &identity.name, not_before, VALIDITY)?;
        let platform_key = PrivateKey::generate()?;
        let platform_cert = Certificate::generate(
            &platform_key,
            "Tenpay.com sandbox platform",
            "papay",
            not_before,
            VALIDITY,
        )?;
        let date = crate::provision::beijing_date(now);
        let public_key_id = format!("PUB_KEY_ID_01{:0>10}{date}{:014}", identity.mchid, 1);
        Ok(CredentialSet {
            identity,
            merchant_key,
            merchant_cert,
            platform_key,
            platform_cert,
            public_key_id,
            apiv3_key: ApiV3Key::generate(),
            v2_key: papay_protocol::nonce::nonce_str(),
        })
    }

    /// Writes every file into `dir` (private keys and secrets readable by the owner only).
    pub fn write_to(&self, dir: &Path) -> Result<(), CredentialError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CredentialError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let secret = |name: &str, text: &str| write_file(&dir.join(name), text, true).map_err(io(&dir.join(name)));
        let public = |name: &str, text: &str| write_file(&dir.join(name), text, false).map_err(io(&dir.join(name)));
        secret(files::MERCHANT_KEY, &self.merchant_key.to_pkcs8_pem()?)?;
        public(files::MERCHANT_CERT, self.merchant_cert.pem())?;
        secret(files::PLATFORM_KEY, &self.platform_key.to_pkcs8_pem()?)?;
        public(files::PLATFORM_CERT, self.platform_cert.pem())?;
        public(files::PLATFORM_PUBLIC_KEY, &self.platform_key.public_key().to_pem())?;
        secret(files::APIV3_KEY, &format!("{}\n", self.apiv3_key.expose()))?;
        secret(files::V2_KEY, &format!("{}\n", self.v2_key))?;
        Ok(())
    }

    /// A config file describing this merchant, with paths relative to the directory the
    /// files were written to. `data_dir`, when given, is written as the file's `data_dir`.
    pub fn config_toml(&self, data_dir: Option<&str>) -> String {
        let id = &self.identity;
        let mut out = format!(
            "# papay credentials for merchant {mchid}, made by papay (not by WeChat Pay).\n\
             # API certificate serial (Authorization serial_no): {api_serial}\n\
             # Platform certificate serial (Wechatpay-Serial):   {platform_serial}\n\
             # Platform public key id (public-key mode):         {pkid}\n",
            mchid = id.mchid,
            api_serial = self.merchant_cert.serial(),
            platform_serial = self.platform_cert.serial(),
            pkid = self.public_key_id,
        );
        if let Some(dir) = data_dir {
            out.push_str(&format!("data_dir = {dir:?}\n"));
        }
        out.push_str(&format!(
            r#"
[[merchants]]
mchid = "{mchid}"
name = "{name}"
api_certificate = "{merchant_cert}"
apiv3_key_file = "{apiv3}"
v2_key_file = "{v2}"
appids = ["{appid}"]

[[merchants.platform_keys]]
private_key = "{platform_key}"
certificate = "{platform_cert}"
public_key_id = "{pkid}"

[[merchants.sub_merchants]]
sub_mchid = "{sub_mchid}"
sub_appids = ["{sub_appid}"]

[[plans]]
plan_id = {plan_id}
mchid = "{mchid}"
name = "{plan_name}"
sub_mchids = ["{sub_mchid}"]
contract_validity_days = 365
"#,
            mchid = id.mchid,
            name = id.name,
            merchant_cert = files::MERCHANT_CERT,
            apiv3 = files::APIV3_KEY,
            v2 = files::V2_KEY,
            appid = id.appid,
            platform_key = files::PLATFORM_KEY,
            platform_cert = files::PLATFORM_CERT,
            pkid = self.public_key_id,
            sub_mchid = id.sub_mchid,
            sub_appid = id.sub_appid,
            plan_id = id.plan_id,
            plan_name = id.plan_name,
        ));
        out
    }
}

fn write_file(path: &Path, text: &str, secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)?;
    f.write_all(text.as_bytes())
}
