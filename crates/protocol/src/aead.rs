//! AEAD_AES_256_GCM with the merchant's APIv3 key (PROTOCOL.md §1.6): platform certificates
//! and notification resources are encrypted with it.
//!
//! Key = the 32 ASCII bytes of the APIv3 key, IV = the 12 ASCII bytes of `nonce`, AAD =
//! `associated_data`, output Base64(ciphertext ‖ 16-byte tag).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    #[error("an APIv3 key is exactly 32 ASCII characters (got {0} bytes)")]
    KeyLength(usize),
    #[error("an APIv3 key is ASCII letters and digits only")]
    KeyCharset,
    #[error("the nonce must be exactly 12 bytes (got {0})")]
    NonceLength(usize),
    #[error("the ciphertext is not valid Base64")]
    NotBase64,
    #[error("decryption failed: wrong key, nonce, associated data or tampered ciphertext")]
    Open,
    #[error("the plaintext is not UTF-8")]
    NotUtf8,
    #[error("encryption failed")]
    Seal,
}

/// The merchant's APIv3 key. A secret: `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiV3Key([u8; 32]);

impl std::fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

impl ApiV3Key {
    /// Parses the key as merchants set it on the merchant platform: 32 characters, letters
    /// and digits (surrounding whitespace, e.g. a file's final newline, is ignored).
    pub fn parse(text: &str) -> Result<Self, AeadError> {
        let text = text.trim();
        let bytes: [u8; 32] = text
            .as_bytes()
            .try_into()
            .map_err(|_| AeadError::KeyLength(text.len()))?;
        if !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(AeadError::KeyCharset);
        }
        Ok(ApiV3Key(bytes))
    }

    /// A fresh random key of 32 letters and digits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(crate::nonce::nonce_str().as_bytes());
        ApiV3Key(bytes)
    }

    /// The key's text, for writing it to a credentials file the operator asked for.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn cipher(&self) -> Result<LessSafeKey, AeadError> {
        let key = UnboundKey::new(&AES_256_GCM, &self.0).map_err(|_| AeadError::Seal)?;
        Ok(LessSafeKey::new(key))
    }

    pub fn encrypt(&self, nonce: &str, associated_data: &str, plaintext: &[u8]) -> Result<String, AeadError> {
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| AeadError::NonceLength(nonce.len()))?;
        let mut buf = plaintext.to_vec();
        self.cipher()?
            .seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut buf)
            .map_err(|_| AeadError::Seal)?;
        Ok(BASE64.encode(buf))
    }

    pub fn decrypt(&self, nonce: &str, associated_data: &str, ciphertext_b64: &str) -> Result<Vec<u8>, AeadError> {
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| AeadError::NonceLength(nonce.len()))?;
        let mut buf = BASE64.decode(ciphertext_b64).map_err(|_| AeadError::NotBase64)?;
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut buf)
            .map_err(|_| AeadError::Open)?;
        Ok(plain.to_vec())
    }

    pub fn decrypt_to_string(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext_b64: &str,
    ) -> Result<String, AeadError> {
        String::from_utf8(self.decrypt(nonce, associated_data, ciphertext_b64)?).map_err(|_| AeadError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const PLAIN: &str = r#"{"mchid":"10000100","appid":"wxcbda96de0b165486","out_contract_code":"100001256","plan_id":123,"contract_id":"202109211651000001","openid":"ouFhd5X9s9WteC3eWRjXV3lea123","operate_time":"2021-09-21T16:51:00+08:00"}"#;
    const CIPHER: &str = "DUcegK33A8MEOgdLtMPWwQdq30XykJ/QVVcJKDYytrm6bhZC1MQ8KcjTPYeYhL8ZRqTo/wxZl1ylttOTJtmkTZ52GYUw12glZxN+TX4LAN0L/hHQpEdo1Cj9Z93AWMzLAlHDjFragXp0QGC2PwMOzUaVdSkYg+oAm3msNS4C5dUWLKX44BQmdifc6H+x8Jb0IN66b9kPX7J8ITL2f4XdsOj7j0+WC2zULKRym61WHJoCLxdo0Qsb3MkIC4EDW0DgtGOxrJDE54jobk5jZq/VSnd/1jpSico/Q/NYFjHmOASa8Aeqwg==";

    #[test]
    fn protocol_test_vector() {
        let key = ApiV3Key::parse(KEY).unwrap();
        assert_eq!(key.encrypt("fdasflkja484", "papay", PLAIN.as_bytes()).unwrap(), CIPHER);
        assert_eq!(key.decrypt_to_string("fdasflkja484", "papay", CIPHER).unwrap(), PLAIN);
    }

    #[test]
    fn round_trips_and_refusals() {
        let key = ApiV3Key::generate();
        let ct = key
            .encrypt("abcdefghijkl", "certificate", b"-----BEGIN CERTIFICATE-----")
            .unwrap();
        assert_eq!(
            key.decrypt("abcdefghijkl", "certificate", &ct).unwrap(),
            b"-----BEGIN CERTIFICATE-----"
        );
        assert_eq!(key.decrypt("abcdefghijkl", "papay", &ct), Err(AeadError::Open));
        assert_eq!(key.decrypt("abcdefghijkm", "certificate", &ct), Err(AeadError::Open));
        assert_eq!(
            ApiV3Key::generate().decrypt("abcdefghijkl", "certificate", &ct),
            Err(AeadError::Open)
        );
        assert_eq!(key.decrypt("short", "", &ct), Err(AeadError::NonceLength(5)));
        assert_eq!(key.decrypt("abcdefghijkl", "", "***"), Err(AeadError::NotBase64));
        let empty_aad = key.encrypt("abcdefghijkl", "", b"x").unwrap();
        assert_eq!(key.decrypt("abcdefghijkl", "", &empty_aad).unwrap(), b"x");
    }

    #[test]
    fn key_rules_and_redaction() {
        assert_eq!(ApiV3Key::parse("short"), Err(AeadError::KeyLength(5)));
        assert_eq!(
            ApiV3Key::parse("0123456789abcdef0123456789abcde!"),
            Err(AeadError::KeyCharset)
        );
        assert!(ApiV3Key::parse(&format!("{KEY}\n")).is_ok());
        assert_eq!(format!("{:?}", ApiV3Key::parse(KEY).unwrap()), "ApiV3Key(<redacted>)");
    }
}
