//! Merchants as WeChat Pay knows them: the keys they sign with, the keys WeChat Pay signs
//! with for them, the AppIDs bound to them, their sub-merchants, and their plans.

use papay_protocol::aead::ApiV3Key;
use papay_protocol::keys::{PrivateKey, PublicKey};
use papay_protocol::pki::Certificate;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use super::ids::{AppId, IdError, Mchid, PlanId, PublicKeyId, Serial};

/// A merchant account with everything needed to authenticate it and sign for it.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub mchid: Mchid,
    pub name: String,
    /// `None` reproduces a merchant that never set its APIv3 key.
    pub apiv3_key: Option<ApiV3Key>,
    pub v2_key: Option<V2Key>,
    /// The merchant's API certificates (or public keys with a serial): verify its requests.
    pub api_credentials: Vec<ApiCredential>,
    /// WeChat Pay's keys for this merchant: sign answers and notifications.
    pub platform_keys: Vec<PlatformKey>,
    pub appids: Vec<AppId>,
    pub sub_merchants: Vec<SubMerchant>,
    /// What the test-control API set for this merchant; kept by the store, never provisioned.
    pub sandbox: SandboxState,
}

/// How a merchant's control-API token is stored and looked up: SHA-256, hex.
pub fn control_token_digest(token: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()))
}

/// A merchant's test-control settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SandboxState {
    /// `None`: real time.
    pub clock: Option<crate::domain::clock::VirtualClock>,
    /// Whether any injected fault is pending (so calls without one skip the fault lookup).
    pub faults_pending: bool,
    /// Created through the control API, deletable through it.
    pub throwaway: bool,
}

impl Merchant {
    /// The merchant's time at real time `real`.
    pub fn now(&self, real: time::OffsetDateTime) -> time::OffsetDateTime {
        crate::domain::clock::merchant_now(self.sandbox.clock.as_ref(), real)
    }
}

/// What verifies a merchant's request signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCredential {
    pub serial: Serial,
    pub public_key: PublicKey,
    /// Present in certificate form; absent when the merchant gave a public key and serial.
    pub certificate: Option<Certificate>,
}

impl ApiCredential {
    pub fn from_certificate(certificate: Certificate) -> Result<Self, IdError> {
        Ok(ApiCredential {
            serial: Serial::parse(certificate.serial())?,
            public_key: certificate.public_key().clone(),
            certificate: Some(certificate),
        })
    }

    pub fn expired_at(&self, now: OffsetDateTime) -> bool {
        self.certificate.as_ref().is_some_and(|c| c.not_after() < now)
    }
}

/// A platform key pair with its certificate, optionally also known by a public-key id.
#[derive(Debug, Clone)]
pub struct PlatformKey {
    pub private_key: PrivateKey,
    pub certificate: Certificate,
    pub serial: Serial,
    pub public_key_id: Option<PublicKeyId>,
    pub origin: KeyOrigin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Brought by the operator (PEM key and certificate).
    Imported,
    /// Made by papay and kept in its database across restarts.
    Generated,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformKeyError {
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    #[error(transparent)]
    Id(#[from] IdError),
}

impl PlatformKey {
    pub fn new(
        private_key: PrivateKey,
        certificate: Certificate,
        public_key_id: Option<PublicKeyId>,
        origin: KeyOrigin,
    ) -> Result<Self, PlatformKeyError> {
        if &private_key.public_key() != certificate.public_key() {
            return Err(PlatformKeyError::KeyMismatch);
        }
        Ok(PlatformKey {
            serial: Serial::parse(certificate.serial())?,
            private_key,
            certificate,
            public_key_id,
            origin,
        })
    }
}

/// The merchant's v2 API key (32 characters). A secret.
#[derive(Debug, Clone)]
pub struct V2Key(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a v2 API key is exactly 32 ASCII letters and digits")]
pub struct V2KeyError;

impl V2Key {
    pub fn parse(text: &str) -> Result<Self, V2KeyError> {
        let text = text.trim();
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(V2Key(SecretString::from(text.to_string())))
        } else {
            Err(V2KeyError)
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubMerchant {
    pub sub_mchid: Mchid,
    pub sub_appids: Vec<AppId>,
}

/// A deduction plan (template), owned by one merchant and usable by some of its sub-merchants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub plan_id: PlanId,
    pub mchid: Mchid,
    pub name: String,
    pub sub_mchids: Vec<Mchid>,
    pub termination_notify_url: Option<String>,
    pub contract_validity_days: u32,
}

/// Which platform key signs an answer, and the name `Wechatpay-Serial` gives it.
#[derive(Debug, Clone, Copy)]
pub struct SigningKey<'a> {
    pub key: &'a PlatformKey,
    pub name: &'a str,
}

/// The `Wechatpay-*` values of one signed answer or notification (PROTOCOL.md §1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    /// `Wechatpay-Serial`: the certificate serial or public-key id of the key.
    pub serial: String,
}

impl SigningKey<'_> {
    /// Signs `body` at `timestamp` (Unix seconds) with a fresh nonce; with `probe`, the
    /// signature is a deliberately invalid `WECHATPAY/SIGNTEST/` one (§1.4 signature probes).
    pub fn sign(&self, timestamp: i64, body: &[u8], probe: bool) -> Result<Signature, papay_protocol::keys::KeyError> {
        let timestamp = timestamp.to_string();
        let nonce = papay_protocol::nonce::response_nonce();
        let signature = if probe {
            format!(
                "{}{}",
                papay_protocol::headers::SIGNATURE_PROBE_PREFIX,
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    papay_protocol::nonce::random_bytes::<192>()
                )
            )
        } else {
            let message = papay_protocol::signing::response_signing_string(&timestamp, &nonce, body);
            self.key.private_key.sign_base64(&message)?
        };
        Ok(Signature {
            timestamp,
            nonce,
            signature,
            serial: self.name.to_string(),
        })
    }
}

impl Merchant {
    /// The API credential with this serial, compared case-insensitively (PROTOCOL.md §1.3.4).
    pub fn api_credential(&self, serial: &str) -> Option<&ApiCredential> {
        self.api_credentials
            .iter()
            .find(|c| c.serial.as_str().eq_ignore_ascii_case(serial))
    }

    /// The key to sign with: the one the client named in `Wechatpay-Serial` (a certificate
    /// serial or a public-key id) when the merchant holds it, else the newest certificate.
    pub fn signing_key(&self, requested: Option<&str>) -> Option<SigningKey<'_>> {
        if let Some(wanted) = requested.map(str::trim).filter(|w| !w.is_empty()) {
            for key in &self.platform_keys {
                if key.serial.as_str().eq_ignore_ascii_case(wanted) {
                    return Some(SigningKey {
                        key,
                        name: key.serial.as_str(),
                    });
                }
                if let Some(id) = key
                    .public_key_id
                    .as_ref()
                    .filter(|id| id.as_str().eq_ignore_ascii_case(wanted))
                {
                    return Some(SigningKey { key, name: id.as_str() });
                }
            }
        }
        self.newest_platform_key().map(|key| SigningKey {
            key,
            name: key.serial.as_str(),
        })
    }

    pub fn newest_platform_key(&self) -> Option<&PlatformKey> {
        self.platform_keys
            .iter()
            .max_by_key(|k| (k.certificate.not_before(), k.serial.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn key(days_ago: i64, id: Option<&str>) -> PlatformKey {
        let private_key = PrivateKey::generate().unwrap();
        let nb = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(days_ago);
        let cert = Certificate::generate(&private_key, "Tenpay", "papay", nb, Duration::days(3650)).unwrap();
        PlatformKey::new(
            private_key,
            cert,
            id.map(|i| PublicKeyId::parse(i).unwrap()),
            KeyOrigin::Generated,
        )
        .unwrap()
    }

    #[test]
    fn signing_key_follows_the_request_else_newest() {
        let old = key(10, Some("PUB_KEY_ID_0117000800002025045698789500001779"));
        let new = key(1, None);
        let merchant = Merchant {
            mchid: Mchid::parse("1900000100").unwrap(),
            name: "m".into(),
            apiv3_key: None,
            v2_key: None,
            api_credentials: vec![],
            platform_keys: vec![old.clone(), new.clone()],
            appids: vec![],
            sub_merchants: vec![],
            sandbox: SandboxState::default(),
        };
        let pick = |r: Option<&str>| {
            let k = merchant.signing_key(r).unwrap();
            (k.key.serial.clone(), k.name.to_string())
        };
        assert_eq!(pick(None), (new.serial.clone(), new.serial.to_string()));
        assert_eq!(pick(Some("FFFF")), (new.serial.clone(), new.serial.to_string()));
        let lower = old.serial.as_str().to_ascii_lowercase();
        assert_eq!(pick(Some(&lower)), (old.serial.clone(), old.serial.to_string()));
        assert_eq!(
            pick(Some("PUB_KEY_ID_0117000800002025045698789500001779")),
            (
                old.serial.clone(),
                "PUB_KEY_ID_0117000800002025045698789500001779".to_string()
            )
        );
    }

    #[test]
    fn platform_key_must_match_its_certificate() {
        let a = PrivateKey::generate().unwrap();
        let b = PrivateKey::generate().unwrap();
        let cert = Certificate::generate(&a, "x", "y", OffsetDateTime::now_utc(), Duration::days(1)).unwrap();
        assert_eq!(
            PlatformKey::new(b, cert, None, KeyOrigin::Imported).unwrap_err(),
            PlatformKeyError::KeyMismatch
        );
    }

    #[test]
    fn v2_key_is_validated_and_redacted() {
        let k = V2Key::parse("192006250b4c09247ec02edce69f6a2d").unwrap();
        assert!(!format!("{k:?}").contains("192006250b4c"));
        assert!(V2Key::parse("short").is_err());
    }
}
