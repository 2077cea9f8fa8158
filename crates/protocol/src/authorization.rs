//! The APIv3 `Authorization` request header (PROTOCOL.md §1.3.1).
//!
//! `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`:
//! the five keys in any order (the Go/Java SDKs and the PHP SDK use different orders),
//! optional whitespace after commas, no duplicate, missing or unknown key.

use crate::headers::SIGNATURE_SCHEME;

/// A parsed, well-formed `Authorization` header. Values are kept exactly as sent: the
/// signing string must use the `timestamp` and `nonce_str` bytes the client signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: String,
    pub serial_no: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    #[error("the Authorization header is empty")]
    Empty,
    #[error("unsupported Authorization scheme {0:?}; only WECHATPAY2-SHA256-RSA2048 is accepted")]
    WrongScheme(String),
    #[error("malformed Authorization header: {0}")]
    Malformed(String),
    #[error("the Authorization header repeats the key {0:?}")]
    DuplicateKey(String),
    #[error("the Authorization header lacks the key {0:?}")]
    MissingKey(&'static str),
    #[error("the Authorization header has an unknown key {0:?}")]
    UnknownKey(String),
    #[error("the Authorization timestamp {0:?} is not Unix seconds")]
    InvalidTimestamp(String),
}

const KEYS: [&str; 5] = ["mchid", "nonce_str", "timestamp", "serial_no", "signature"];

impl Authorization {
    /// Parses a header value. Never panics, whatever the input.
    pub fn parse(value: &str) -> Result<Self, AuthorizationError> {
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.is_empty() {
            return Err(AuthorizationError::Empty);
        }
        let (scheme, params) = match value.split_once([' ', '\t']) {
            Some((scheme, params)) => (scheme, params),
            None if value == SIGNATURE_SCHEME => {
                return Err(AuthorizationError::Malformed("no parameters after the scheme".into()))
            }
            None => (value, ""),
        };
        if scheme != SIGNATURE_SCHEME {
            return Err(AuthorizationError::WrongScheme(scheme.chars().take(64).collect()));
        }

        let mut found: [Option<String>; 5] = Default::default();
        for (key, val) in Pairs::new(params) {
            let (key, val) = (key?, val);
            let slot = KEYS
                .iter()
                .position(|k| *k == key)
                .ok_or_else(|| AuthorizationError::UnknownKey(key.chars().take(32).collect()))?;
            if found[slot].is_some() {
                return Err(AuthorizationError::DuplicateKey(KEYS[slot].to_string()));
            }
            if val.is_empty() {
                return Err(AuthorizationError::Malformed(format!("{} is empty", KEYS[slot])));
            }
            found[slot] = Some(val.to_string());
        }
        let [mchid, nonce_str, timestamp, serial_no, signature] = found;
        let take = |v: Option<String>, i: usize| v.ok_or(AuthorizationError::MissingKey(KEYS[i]));
        let auth = Authorization {
            mchid: take(mchid, 0)?,
            nonce_str: take(nonce_str, 1)?,
            timestamp: take(timestamp, 2)?,
            serial_no: take(serial_no, 3)?,
            signature: take(signature, 4)?,
        };
        auth.timestamp_secs()?;
        Ok(auth)
    }

    /// The `timestamp` as Unix seconds.
    pub fn timestamp_secs(&self) -> Result<i64, AuthorizationError> {
        let ts = &self.timestamp;
        if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthorizationError::InvalidTimestamp(ts.chars().take(32).collect()));
        }
        ts.parse().map_err(|_| AuthorizationError::InvalidTimestamp(ts.clone()))
    }

    /// The header value in the order the Go and Java SDKs emit.
    pub fn to_header_value(&self) -> String {
        format!(
            "{SIGNATURE_SCHEME} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce_str, self.timestamp, self.serial_no, self.signature
        )
    }
}

/// Iterator over `key="value"` pairs separated by commas (whitespace allowed around them).
struct Pairs<'a> {
    rest: &'a str,
    failed: bool,
}

impl<'a> Pairs<'a> {
    fn new(params: &'a str) -> Self {
        Pairs {
            rest: params,
            failed: false,
        }
    }

    fn next_pair(&mut self) -> Result<(&'a str, &'a str), AuthorizationError> {
        let malformed = |what: &str| AuthorizationError::Malformed(what.to_string());
        let rest = self.rest.trim_start_matches([' ', '\t']);
        let (key, after_key) = rest
            .split_once('=')
            .ok_or_else(|| malformed("expected key=\"value\""))?;
        let key = key.trim_end_matches([' ', '\t']);
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(malformed("expected key=\"value\""));
        }
        let quoted = after_key
            .strip_prefix('"')
            .ok_or_else(|| malformed("values must be in double quotes"))?;
        let (value, after_value) = quoted
            .split_once('"')
            .ok_or_else(|| malformed("unterminated quoted value"))?;
        let after_value = after_value.trim_start_matches([' ', '\t']);
        self.rest = match after_value.strip_prefix(',') {
            Some(more) if more.trim().is_empty() => return Err(malformed("trailing comma")),
            Some(more) => more,
            None if after_value.is_empty() => "",
            None => return Err(malformed("expected a comma between pairs")),
        };
        Ok((key, value))
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (Result<&'a str, AuthorizationError>, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.trim().is_empty() {
            return None;
        }
        match self.next_pair() {
            Ok((k, v)) => Some((Ok(k), v)),
            Err(e) => {
                self.failed = true;
                Some((Err(e), ""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIG: &str = "Base64+/Sig==";

    fn sample() -> Authorization {
        Authorization {
            mchid: "1900009191".into(),
            nonce_str: "593BEC0C930BF1AFEB40B4A08C8FB242".into(),
            timestamp: "1554208460".into(),
            serial_no: "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C".into(),
            signature: SIG.into(),
        }
    }

    fn pairs(a: &Authorization) -> [(&'static str, String); 5] {
        [
            ("mchid", a.mchid.clone()),
            ("nonce_str", a.nonce_str.clone()),
            ("timestamp", a.timestamp.clone()),
            ("serial_no", a.serial_no.clone()),
            ("signature", a.signature.clone()),
        ]
    }

    fn header(order: &[usize], sep: &str) -> String {
        let p = pairs(&sample());
        let body: Vec<String> = order.iter().map(|i| format!("{}=\"{}\"", p[*i].0, p[*i].1)).collect();
        format!("WECHATPAY2-SHA256-RSA2048 {}", body.join(sep))
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }

    #[test]
    fn documented_example_parses() {
        let h = "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",timestamp=\"1554208460\",serial_no=\"1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C\",signature=\"Base64+/Sig==\"";
        assert_eq!(Authorization::parse(h), Ok(sample()));
        assert_eq!(sample().to_header_value(), h);
    }

    #[test]
    fn go_java_and_php_orders_parse() {
        // Go/Java: mchid,nonce_str,timestamp,serial_no,signature; PHP: mchid,serial_no,timestamp,nonce_str,signature.
        assert_eq!(Authorization::parse(&header(&[0, 1, 2, 3, 4], ",")), Ok(sample()));
        assert_eq!(Authorization::parse(&header(&[0, 3, 2, 1, 4], ",")), Ok(sample()));
    }

    #[test]
    fn every_key_order_and_spacing_parses() {
        let orders = permutations(5);
        assert_eq!(orders.len(), 120);
        for order in orders {
            for sep in [",", ", ", " , ", ",\t"] {
                assert_eq!(
                    Authorization::parse(&header(&order, sep)),
                    Ok(sample()),
                    "{order:?} {sep:?}"
                );
            }
        }
    }

    #[test]
    fn refusals() {
        use AuthorizationError::*;
        let cases: Vec<(String, AuthorizationError)> = vec![
            ("".into(), Empty),
            ("   ".into(), Empty),
            ("Bearer abc".into(), WrongScheme("Bearer".into())),
            (
                "WECHATPAY2-SHA256-RSA2048".into(),
                Malformed("no parameters after the scheme".into()),
            ),
            (
                "wechatpay2-sha256-rsa2048 mchid=\"1\"".into(),
                WrongScheme("wechatpay2-sha256-rsa2048".into()),
            ),
            (
                "WECHATPAY2-SM2-WITH-SM3 mchid=\"1\"".into(),
                WrongScheme("WECHATPAY2-SM2-WITH-SM3".into()),
            ),
            (header(&[0, 1, 2, 3], ","), MissingKey("signature")),
            (
                format!("{},mchid=\"2\"", header(&[0, 1, 2, 3, 4], ",")),
                DuplicateKey("mchid".into()),
            ),
            (
                format!("{},serial=\"2\"", header(&[0, 1, 2, 3, 4], ",")),
                UnknownKey("serial".into()),
            ),
            (
                format!("{},", header(&[0, 1, 2, 3, 4], ",")),
                Malformed("trailing comma".into()),
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=1900009191".into(),
                Malformed("values must be in double quotes".into()),
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"19".into(),
                Malformed("unterminated quoted value".into()),
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1\" nonce_str=\"2\"".into(),
                Malformed("expected a comma between pairs".into()),
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid".into(),
                Malformed("expected key=\"value\"".into()),
            ),
            (
                header(&[0, 1, 2, 3, 4], ",").replace("1554208460", "15542e8460"),
                InvalidTimestamp("15542e8460".into()),
            ),
            (
                header(&[0, 1, 2, 3, 4], ",").replace("1900009191", ""),
                Malformed("mchid is empty".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Authorization::parse(&input), Err(want), "{input:?}");
        }
    }

    fn value() -> impl Strategy<Value = String> {
        "[^\"\\x00]{1,40}".prop_map(|s| s)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_input_never_panics(s in any::<String>()) {
            let _ = Authorization::parse(&s);
        }

        #[test]
        fn arbitrary_near_misses_never_panic(tail in "[a-z_=\", \t]{0,80}") {
            let _ = Authorization::parse(&format!("WECHATPAY2-SHA256-RSA2048 {tail}"));
        }

        #[test]
        fn build_then_parse_round_trips(
            mchid in value(), nonce in value(), ts in "[0-9]{1,12}", serial in value(), sig in value()
        ) {
            let a = Authorization { mchid, nonce_str: nonce, timestamp: ts, serial_no: serial, signature: sig };
            prop_assert_eq!(Authorization::parse(&a.to_header_value()), Ok(a));
        }
    }
}
