//! The v2 `sign` parameter (PROTOCOL.md §5.1).
//!
//! v2 authenticates a message with a keyed digest of its other parameters:
//! the non-empty parameters except `sign` are sorted by name and joined as
//! `k=v&…` ([`string_a`]), `&key=<API key>` is appended, and the result is
//! hashed with MD5 or HMAC-SHA256 (keyed with the same API key) and written as
//! upper-case hex ([`sign`]). The same algorithm signs the sandbox's own
//! responses and notifications, so one implementation serves both directions.
//!
//! Values are signed raw, exactly as received (after URL or XML decoding, before
//! any trimming): that is what §5.1 specifies, and it keeps verification a pure
//! function of the wire message.

use std::fmt;

use aws_lc_rs::{constant_time, hmac};
use md5::{Digest, Md5};

use super::Params;

/// The two v2 signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignType {
    /// `MD5`: upper-case hex of MD5 over the signing string (32 characters).
    Md5,
    /// `HMAC-SHA256`: upper-case hex of HMAC-SHA256 keyed with the API key
    /// over the signing string (64 characters).
    HmacSha256,
}

impl SignType {
    /// Parses the wire value of `sign_type`: exactly `MD5` or `HMAC-SHA256`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MD5" => Some(Self::Md5),
            "HMAC-SHA256" => Some(Self::HmacSha256),
            _ => None,
        }
    }

    /// The wire value of `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// Length of the hex `sign` this algorithm produces.
    fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::HmacSha256 => 64,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a v2 signature was not accepted. The messages are meant for `return_msg`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// No `sign` parameter, or an empty one.
    #[error("the required parameter `sign` is missing")]
    Missing,
    /// The `sign` parameter does not match the parameters and the API key.
    #[error("signature verification failed: `sign` does not match the parameters")]
    Mismatch,
    /// The `sign_type` parameter names an algorithm other than `MD5` / `HMAC-SHA256`.
    #[error("unsupported sign_type `{0}`: expected MD5 or HMAC-SHA256")]
    UnknownSignType(String),
}

/// The `sign_type` parameter of `params`, if it was sent.
///
/// An absent or empty `sign_type` gives `Ok(None)` (empty parameters count as
/// not sent, as in the signing string); anything other than `MD5` or
/// `HMAC-SHA256` is [`SignError::UnknownSignType`]. The result is meant to be
/// passed to [`verify`].
pub fn sign_type_param(params: &Params) -> Result<Option<SignType>, SignError> {
    match params.get("sign_type") {
        None | Some("") => Ok(None),
        Some(s) => SignType::parse(s)
            .map(Some)
            .ok_or_else(|| SignError::UnknownSignType(s.to_owned())),
    }
}

/// `stringA` of §5.1: every parameter except `sign` and those with an empty
/// value, stable-sorted byte-wise by name, joined as `k1=v1&k2=v2…` with the
/// raw (unencoded) values.
///
/// `sign_type`, when present, is an ordinary parameter and is included.
pub fn string_a(params: &Params) -> String {
    let mut fields: Vec<(&str, &str)> = params.iter().filter(|&(k, v)| k != "sign" && !v.is_empty()).collect();
    // Stable: repeated names (if the caller allowed them) keep their order.
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `stringSignTemp` of §5.1: `stringA + "&key=" + key`.
///
/// With no signed parameter at all this is just `key=<key>`, as the official
/// SDKs build it (they append `k=v&` per parameter and then `key=…`).
fn string_sign_temp(params: &Params, key: &str) -> String {
    let mut s = string_a(params);
    if !s.is_empty() {
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(key);
    s
}

/// The raw digest bytes of the §5.1 signature.
fn digest(params: &Params, key: &str, sign_type: SignType) -> Vec<u8> {
    let data = string_sign_temp(params, key);
    match sign_type {
        SignType::Md5 => Md5::digest(data.as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            let k = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
            hmac::sign(&k, data.as_bytes()).as_ref().to_vec()
        }
    }
}

/// The upper-case hex `sign` of `params` per §5.1 (any `sign` already in
/// `params` is ignored), with the v2 API `key`.
pub fn sign(params: &Params, key: &str, sign_type: SignType) -> String {
    hex::encode_upper(digest(params, key, sign_type))
}

/// Verifies the `sign` parameter of `params` against the other parameters and
/// the v2 API `key`, returning the algorithm that verified.
///
/// * `sign_type = Some(t)`: only `t` is tried.
/// * `sign_type = None`: the algorithm is chosen by the length of `sign` —
///   32 hex characters ⇒ MD5, 64 ⇒ HMAC-SHA256 (PROTOCOL.md §5.1 DECISION for
///   an absent `sign_type`); any other length is a [`SignError::Mismatch`].
///
/// The comparison accepts upper- or lower-case hex (merchants' SDKs send upper
/// case) and runs in constant time over the digest.
pub fn verify(params: &Params, key: &str, sign_type: Option<SignType>) -> Result<SignType, SignError> {
    let given = match params.get("sign") {
        None | Some("") => return Err(SignError::Missing),
        Some(s) => s,
    };
    let sign_type = match sign_type {
        Some(t) => t,
        None if given.len() == SignType::Md5.hex_len() => SignType::Md5,
        None if given.len() == SignType::HmacSha256.hex_len() => SignType::HmacSha256,
        None => return Err(SignError::Mismatch),
    };
    // Decoding the hex makes the comparison case-insensitive; invalid hex or a
    // wrong length simply cannot match. Lengths are public, contents are not.
    let given = hex::decode(given).map_err(|_| SignError::Mismatch)?;
    let expected = digest(params, key, sign_type);
    constant_time::verify_slices_are_equal(&expected, &given)
        .map(|()| sign_type)
        .map_err(|_| SignError::Mismatch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    /// The official §5.1 example parameters.
    fn official() -> Params {
        [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ]
        .into_iter()
        .collect()
    }

    fn with_sign(mut p: Params, sign: &str) -> Params {
        p.push("sign", sign);
        p
    }

    #[test]
    fn sign_type_names() {
        assert_eq!(SignType::parse("MD5"), Some(SignType::Md5));
        assert_eq!(SignType::parse("HMAC-SHA256"), Some(SignType::HmacSha256));
        for bad in ["md5", "HMACSHA256", "hmac-sha256", "", " MD5"] {
            assert_eq!(SignType::parse(bad), None, "{bad:?}");
        }
        for t in [SignType::Md5, SignType::HmacSha256] {
            assert_eq!(SignType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
    }

    #[test]
    fn sign_type_param_reads_the_parameter() {
        let mut p = official();
        assert_eq!(sign_type_param(&p), Ok(None));
        p.push("sign_type", "");
        assert_eq!(sign_type_param(&p), Ok(None));
        let p: Params = [("sign_type", "HMAC-SHA256")].into_iter().collect();
        assert_eq!(sign_type_param(&p), Ok(Some(SignType::HmacSha256)));
        let p: Params = [("sign_type", "SHA1")].into_iter().collect();
        assert_eq!(sign_type_param(&p), Err(SignError::UnknownSignType("SHA1".into())));
    }

    #[test]
    fn official_string_a() {
        assert_eq!(
            string_a(&official()),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
        );
    }

    #[test]
    fn official_known_answers() {
        assert_eq!(
            sign(&official(), KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(&official(), KEY, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn string_a_excludes_sign_and_empty_values_and_sorts_bytewise() {
        let p: Params = [
            ("b", "2"),
            ("sign", "XYZ"),
            ("a", "1"),
            ("empty", ""),
            ("B", "upper"),
            ("a_b", "3"),
            ("sign_type", "MD5"),
            ("ab", "4"),
        ]
        .into_iter()
        .collect();
        // 'B' (0x42) < '_' (0x5F) < 'a'..; "a" < "a_b" < "ab" since '_' < 'b'.
        assert_eq!(string_a(&p), "B=upper&a=1&a_b=3&ab=4&b=2&sign_type=MD5");
        // Adding or changing `sign` or an empty value does not change the signature.
        let mut q = p.clone();
        q.push("other_empty", "");
        q.push("sign", "ANOTHER");
        assert_eq!(sign(&p, KEY, SignType::Md5), sign(&q, KEY, SignType::Md5));
    }

    #[test]
    fn values_are_signed_raw() {
        let p: Params = [("a", " x y&z=1 "), ("b", "微信")].into_iter().collect();
        assert_eq!(string_a(&p), "a= x y&z=1 &b=微信");
    }

    #[test]
    fn no_signed_parameters_gives_key_only() {
        let p: Params = [("sign", "X"), ("empty", "")].into_iter().collect();
        assert_eq!(string_a(&p), "");
        assert_eq!(string_sign_temp(&p, KEY), format!("key={KEY}"));
    }

    #[test]
    fn verify_official_signatures() {
        let md5 = with_sign(official(), "9A0A8659F005D6984697E2CA0A9CF3B7");
        assert_eq!(verify(&md5, KEY, None), Ok(SignType::Md5));
        assert_eq!(verify(&md5, KEY, Some(SignType::Md5)), Ok(SignType::Md5));
        assert_eq!(verify(&md5, KEY, Some(SignType::HmacSha256)), Err(SignError::Mismatch));

        let hmac = with_sign(
            official(),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6",
        );
        assert_eq!(verify(&hmac, KEY, None), Ok(SignType::HmacSha256));
        assert_eq!(verify(&hmac, KEY, Some(SignType::HmacSha256)), Ok(SignType::HmacSha256));
        assert_eq!(verify(&hmac, KEY, Some(SignType::Md5)), Err(SignError::Mismatch));
    }

    /// The §5.2 worked h5entrustweb example (HMAC-SHA256, `sign_type` sent).
    #[test]
    fn verify_h5entrustweb_worked_example() {
        let p: Params = [
            ("appid", "wxcbda96de0b165486"),
            ("mch_id", "1200009811"),
            ("plan_id", "12535"),
            ("contract_code", "100000"),
            ("request_serial", "1000"),
            ("contract_display_account", "微信代扣"),
            ("notify_url", "https://weixin.qq.com/papay/notify"),
            ("version", "1.0"),
            ("sign_type", "HMAC-SHA256"),
            ("timestamp", "1414488825"),
            ("clientip", "119.145.83.6"),
            (
                "sign",
                "1C47E24EC575F981FE13DF3CE7EE0C4ECD6AE29DA534A5AEA3D7CDBF46EE73D9",
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            string_a(&p),
            "appid=wxcbda96de0b165486&clientip=119.145.83.6&contract_code=100000&\
             contract_display_account=微信代扣&mch_id=1200009811&\
             notify_url=https://weixin.qq.com/papay/notify&plan_id=12535&request_serial=1000&\
             sign_type=HMAC-SHA256&timestamp=1414488825&version=1.0"
        );
        let t = sign_type_param(&p).unwrap();
        assert_eq!(verify(&p, KEY, t), Ok(SignType::HmacSha256));
        assert_eq!(verify(&p, KEY, None), Ok(SignType::HmacSha256));
    }

    #[test]
    fn verify_accepts_lower_case_hex() {
        let p = with_sign(official(), "9a0a8659f005d6984697e2ca0a9cf3b7");
        assert_eq!(verify(&p, KEY, None), Ok(SignType::Md5));
    }

    #[test]
    fn verify_rejects_wrong_key_and_tampering() {
        let p = with_sign(official(), "9A0A8659F005D6984697E2CA0A9CF3B7");
        assert_eq!(
            verify(&p, "192006250b4c09247ec02edce69f6a2e", None),
            Err(SignError::Mismatch)
        );
        let mut tampered: Params = p
            .iter()
            .map(|(k, v)| (k, if k == "body" { "test2" } else { v }))
            .collect();
        assert_eq!(verify(&tampered, KEY, None), Err(SignError::Mismatch));
        // An extra non-empty parameter is signed too; an extra empty one is not.
        tampered = p.clone();
        tampered.push("attach", "");
        assert_eq!(verify(&tampered, KEY, None), Ok(SignType::Md5));
        tampered.push("attach2", "x");
        assert_eq!(verify(&tampered, KEY, None), Err(SignError::Mismatch));
    }

    #[test]
    fn verify_rejects_missing_and_malformed_signs() {
        assert_eq!(verify(&official(), KEY, None), Err(SignError::Missing));
        let p = with_sign(official(), "");
        assert_eq!(verify(&p, KEY, None), Err(SignError::Missing));
        for bad in [
            "9A0A8659F005D6984697E2CA0A9CF3B",   // 31 chars
            "9A0A8659F005D6984697E2CA0A9CF3B7A", // 33 chars
            "ZA0A8659F005D6984697E2CA0A9CF3B7",  // not hex
            "9A0A8659F005D6984697E2CA0A9CF3B八", // non-ASCII
        ] {
            let p = with_sign(official(), bad);
            assert_eq!(verify(&p, KEY, None), Err(SignError::Mismatch), "{bad}");
            assert_eq!(verify(&p, KEY, Some(SignType::Md5)), Err(SignError::Mismatch), "{bad}");
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        for t in [SignType::Md5, SignType::HmacSha256] {
            let s = sign(&official(), KEY, t);
            assert_eq!(s.len(), t.hex_len());
            assert_eq!(s, s.to_ascii_uppercase());
            let p = with_sign(official(), &s);
            assert_eq!(verify(&p, KEY, None), Ok(t));
            assert_eq!(verify(&p, KEY, Some(t)), Ok(t));
        }
    }

    #[test]
    fn error_messages_are_readable() {
        assert_eq!(
            SignError::UnknownSignType("SHA1".into()).to_string(),
            "unsupported sign_type `SHA1`: expected MD5 or HMAC-SHA256"
        );
        assert!(SignError::Missing.to_string().contains("sign"));
    }
}
