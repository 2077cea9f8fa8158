//! Random strings for nonces and identifiers, drawn from the operating system's CSPRNG.

use aws_lc_rs::rand::{fill, SecureRandom, SystemRandom};

const ALNUM_UPPER: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random bytes; panics only if the OS random source fails, which no caller can recover from.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut out)
        .expect("the operating system's random source failed");
    out
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut raw = vec![0u8; len];
    #[allow(clippy::expect_used)]
    fill(&mut raw).expect("the operating system's random source failed");
    // 256 is not a multiple of the alphabet sizes; the bias (< 1.6 %) is irrelevant for nonces.
    raw.iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect()
}

/// A request `nonce_str` as the official SDKs make it: 32 characters `[0-9A-Z]`.
pub fn nonce_str() -> String {
    random_from(ALNUM_UPPER, 32)
}

/// A `Wechatpay-Nonce` as the real service sends it: 32 lower-case hex characters.
pub fn response_nonce() -> String {
    hex::encode(random_bytes::<16>())
}

/// The 12-character ASCII nonce of AEAD_AES_256_GCM resources (§1.6).
pub fn aead_nonce() -> String {
    random_from(ALNUM, 12)
}

/// Upper-case hex of `N` random bytes, e.g. for `Request-ID`s.
pub fn upper_hex<const N: usize>() -> String {
    hex::encode_upper(random_bytes::<N>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let n = nonce_str();
        assert_eq!(n.len(), 32);
        assert!(n.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        let r = response_nonce();
        assert_eq!(r.len(), 32);
        assert!(r.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(aead_nonce().len(), 12);
        assert_ne!(nonce_str(), nonce_str());
    }
}
