//! RSA-2048 keys for APIv3 signatures: RSASSA-PKCS1-v1_5 with SHA-256, Base64 on the wire.
//!
//! Merchants bring keys in whichever PEM form their tooling wrote: PKCS#8 (`PRIVATE KEY`, what
//! WeChat's `apiclient_key.pem` is) or PKCS#1 (`RSA PRIVATE KEY`, older `openssl genrsa`);
//! public keys as SPKI (`PUBLIC KEY`, the WeChat Pay public key file) or PKCS#1.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

/// PEM with `\n` line endings, as openssl and WeChat Pay write it.
pub fn encode_pem(tag: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not PEM: {0}")]
    NotPem(String),
    #[error("unexpected PEM block {0:?}")]
    UnexpectedPemTag(String),
    #[error("the key is not a valid RSA key: {0}")]
    Rejected(String),
    #[error("RSA keys must be 2048 to 8192 bits")]
    UnsupportedSize,
    #[error("RSA operation failed")]
    Crypto,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature is not valid Base64")]
    NotBase64,
    #[error("the signature does not match")]
    Mismatch,
}

/// An RSA private key. Its `Debug` shows only the public half's fingerprint, never the key.
#[derive(Clone)]
pub struct PrivateKey {
    pair: KeyPair,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public_key().fingerprint())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// A fresh 2048-bit key, the size WeChat Pay issues.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Crypto)?;
        Ok(PrivateKey { pair })
    }

    /// Reads a PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM block.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(text.trim()).map_err(|e| KeyError::NotPem(e.to_string()))?;
        let pair = match block.tag() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => KeyPair::from_der(block.contents()),
            other => return Err(KeyError::UnexpectedPemTag(other.to_string())),
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let bits = pair.public_modulus_len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::UnsupportedSize);
        }
        Ok(PrivateKey { pair })
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form WeChat Pay hands out.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let der: Pkcs8V1Der<'static> = self.pair.as_der().map_err(|_| KeyError::Crypto)?;
        Ok(encode_pem("PRIVATE KEY", der.as_ref().to_vec()))
    }

    pub fn public_key(&self) -> PublicKey {
        // The public half of a valid key pair always re-parses.
        #[allow(clippy::expect_used)]
        PublicKey::from_der(self.pair.public_key().as_ref()).expect("public half of a valid RSA key")
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
            .map_err(|_| KeyError::Crypto)?;
        Ok(sig)
    }

    /// Base64 (standard, padded) signature, as in `Authorization` and `Wechatpay-Signature`.
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, KeyError> {
        Ok(BASE64.encode(self.sign(message)?))
    }
}

/// An RSA public key, parsed once for repeated verification.
#[derive(Clone)]
pub struct PublicKey {
    spki_der: Vec<u8>,
    parsed: std::sync::Arc<ParsedPublicKey>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PublicKey").field(&self.fingerprint()).finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}
impl Eq for PublicKey {}

impl PublicKey {
    /// From DER: SubjectPublicKeyInfo or PKCS#1 `RSAPublicKey`.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        let bits = key.modulus_len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::UnsupportedSize);
        }
        let spki: PublicKeyX509Der<'static> = key.as_der().map_err(|_| KeyError::Crypto)?;
        let spki_der = spki.as_ref().to_vec();
        let parsed = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &spki_der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(PublicKey {
            spki_der,
            parsed: std::sync::Arc::new(parsed),
        })
    }

    /// From a `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) PEM block.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let block = pem::parse(text.trim()).map_err(|e| KeyError::NotPem(e.to_string()))?;
        match block.tag() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(block.contents()),
            other => Err(KeyError::UnexpectedPemTag(other.to_string())),
        }
    }

    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form of the WeChat Pay public key file.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", self.spki_der.clone())
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// First 8 bytes of SHA-256 over the SPKI, hex: enough to tell keys apart in logs.
    pub fn fingerprint(&self) -> String {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki_der);
        hex::encode(&d.as_ref()[..8])
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.parsed
            .verify_sig(message, signature)
            .map_err(|_| VerifyError::Mismatch)
    }

    pub fn verify_base64(&self, message: &[u8], signature_b64: &str) -> Result<(), VerifyError> {
        let sig = BASE64
            .decode(signature_b64.trim())
            .map_err(|_| VerifyError::NotBase64)?;
        self.verify(message, &sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_round_trip_and_pem_forms() {
        let key = PrivateKey::generate().unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = PrivateKey::from_pem(&pem).unwrap();
        let sig = again.sign_base64(b"hello").unwrap();
        assert_eq!(sig.len(), 344);
        let public = PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
        public.verify_base64(b"hello", &sig).unwrap();
        assert_eq!(public.verify_base64(b"hellO", &sig), Err(VerifyError::Mismatch));
        assert_eq!(public.verify_base64(b"hello", "@@@"), Err(VerifyError::NotBase64));
        let other = PrivateKey::generate().unwrap().public_key();
        assert_eq!(other.verify_base64(b"hello", &sig), Err(VerifyError::Mismatch));
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = PrivateKey::generate().unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        let body_line = pem.lines().nth(1).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(body_line), "{shown}");
        assert!(shown.contains(&key.public_key().fingerprint()));
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(PrivateKey::from_pem("nope"), Err(KeyError::NotPem(_))));
        let cert_like = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            PrivateKey::from_pem(cert_like).unwrap_err(),
            KeyError::UnexpectedPemTag("CERTIFICATE".into())
        );
        let bad = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(PrivateKey::from_pem(bad), Err(KeyError::Rejected(_))));
    }
}
