//! X.509 certificates: reading the ones merchants bring, making ones for a sandbox.
//!
//! Serials are rendered the way the official SDKs render them (Go `%X`, Java
//! `BigInteger.toString(16).toUpperCase()`): upper-case hex of the integer, no leading
//! zeros. Certificates papay makes get 20-byte serials whose top byte is 0x10–0x7F, so the
//! serial is exactly 40 upper-case hex characters like a real WeChat Pay serial.

use time::{Duration, OffsetDateTime};

use crate::keys::{encode_pem, KeyError, PrivateKey, PublicKey};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    #[error("not a PEM certificate: {0}")]
    NotPem(String),
    #[error("expected a CERTIFICATE PEM block, found {0:?}")]
    UnexpectedPemTag(String),
    #[error("not a valid X.509 certificate: {0}")]
    Invalid(String),
    #[error("the certificate's public key: {0}")]
    Key(#[from] KeyError),
    #[error("could not make a certificate: {0}")]
    Generate(String),
}

/// A parsed certificate with what the protocol needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pem: String,
    serial: String,
    subject: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    public_key: PublicKey,
}

impl Certificate {
    pub fn from_pem(text: &str) -> Result<Self, PkiError> {
        let block = pem::parse(text.trim()).map_err(|e| PkiError::NotPem(e.to_string()))?;
        if block.tag() != "CERTIFICATE" {
            return Err(PkiError::UnexpectedPemTag(block.tag().to_string()));
        }
        Self::from_der(block.contents())
    }

    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Invalid(e.to_string()))?;
        if !rest.is_empty() {
            return Err(PkiError::Invalid("trailing bytes after the certificate".into()));
        }
        let ts = |t: x509_parser::time::ASN1Time| {
            OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|e| PkiError::Invalid(e.to_string()))
        };
        let public_key = PublicKey::from_der(cert.public_key().raw)?;
        Ok(Certificate {
            pem: encode_pem("CERTIFICATE", der.to_vec()),
            serial: serial_hex(cert.raw_serial()),
            subject: cert.subject().to_string(),
            not_before: ts(cert.validity().not_before)?,
            not_after: ts(cert.validity().not_after)?,
            public_key,
        })
    }

    /// Makes a certificate for `key`, signed by `key` itself (WeChat's are signed by its CA;
    /// nothing in the protocol checks the issuer chain).
    pub fn generate(
        key: &PrivateKey,
        common_name: &str,
        organization: &str,
        not_before: OffsetDateTime,
        validity: Duration,
    ) -> Result<Self, PkiError> {
        let pkcs8 = key.to_pkcs8_pem()?;
        let gen_err = |e: rcgen::Error| PkiError::Generate(e.to_string());
        let signer = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).map_err(gen_err)?;
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&random_serial()));
        params.not_before = not_before;
        params.not_after = not_before + validity;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "CN");
        dn.push(rcgen::DnType::OrganizationName, organization);
        dn.push(rcgen::DnType::OrganizationalUnitName, "papay sandbox");
        dn.push(rcgen::DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
        ];
        let cert = params.self_signed(&signer).map_err(gen_err)?;
        Self::from_der(cert.der())
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }
    /// Upper-case hex serial, as SDKs and `Wechatpay-Serial` spell it.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    pub fn subject(&self) -> &str {
        &self.subject
    }
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }
}

/// Upper-case hex of a DER INTEGER's magnitude without leading zeros (Go `%X` of a big.Int).
pub fn serial_hex(raw: &[u8]) -> String {
    let hex = hex::encode_upper(raw);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

fn random_serial() -> [u8; 20] {
    let mut serial = crate::nonce::random_bytes::<20>();
    serial[0] = 0x10 + serial[0] % 0x70;
    serial
}

/// Whether `s` looks like a certificate serial a client may send: hex, 1–64 characters.
pub fn is_serial(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_look_like_wechat_ones() {
        let key = PrivateKey::generate().unwrap();
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let cert = Certificate::generate(&key, "1900000100", "Demo Store", now, Duration::days(1825)).unwrap();
        assert_eq!(cert.serial().len(), 40);
        assert!(cert
            .serial()
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert_eq!(cert.public_key(), &key.public_key());
        assert_eq!(cert.not_before(), now);
        assert_eq!(cert.not_after(), now + Duration::days(1825));
        assert!(cert.subject().contains("CN=1900000100"));
        let again = Certificate::from_pem(cert.pem()).unwrap();
        assert_eq!(again, cert);
    }

    #[test]
    fn serial_rendering_matches_the_sdks() {
        assert_eq!(serial_hex(&[0x00, 0xAB, 0x01]), "AB01");
        assert_eq!(serial_hex(&[0x0A, 0xBC]), "ABC");
        assert_eq!(serial_hex(&[0x00]), "0");
    }

    #[test]
    fn refuses_non_certificates() {
        let key = PrivateKey::generate().unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert_eq!(
            Certificate::from_pem(&pem).unwrap_err(),
            PkiError::UnexpectedPemTag("PRIVATE KEY".into())
        );
        assert!(matches!(Certificate::from_pem("x"), Err(PkiError::NotPem(_))));
        let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(Certificate::from_pem(junk), Err(PkiError::Invalid(_))));
    }
}
