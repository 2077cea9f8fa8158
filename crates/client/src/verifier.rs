use std::collections::HashMap;

use papay_protocol::keys::PublicKey;
use papay_protocol::pki::Certificate;
use papay_protocol::signing::response_signing_string;

/// The keys a client trusts for answers and notifications: platform certificates by serial,
/// WeChat Pay public keys by `PUB_KEY_ID_…`. Lookups are case-insensitive.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: HashMap<String, PublicKey>,
}

impl Verifier {
    pub fn add_certificate(&mut self, cert: &Certificate) {
        self.keys
            .insert(cert.serial().to_ascii_uppercase(), cert.public_key().clone());
    }

    pub fn add_public_key(&mut self, id: &str, key: PublicKey) {
        self.keys.insert(id.to_ascii_uppercase(), key);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn knows(&self, serial: &str) -> bool {
        self.keys.contains_key(&serial.to_ascii_uppercase())
    }

    /// Verifies `Wechatpay-Signature` over `timestamp\nnonce\nbody\n` with the key `serial` names.
    pub fn verify(
        &self,
        serial: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
        signature: &str,
    ) -> Result<(), String> {
        let key = self
            .keys
            .get(&serial.to_ascii_uppercase())
            .ok_or_else(|| format!("Wechatpay-Serial {serial} is not a certificate or public key this client holds"))?;
        key.verify_base64(&response_signing_string(timestamp, nonce, body), signature)
            .map_err(|e| format!("Wechatpay-Signature: {e}"))
    }
}
