//! The query string of `GET /papay/h5entrustweb` (PROTOCOL.md §5.1–5.2).
//!
//! h5entrustweb is the one v2 papay API whose parameters travel in the URL, and
//! its `sign` covers the *decoded* values (§5.1: signed before URL-encoding).
//! So the decoder must give every receiver exactly the same [`Params`] for the
//! same bytes, and refuse whatever it could only guess at: a malformed escape,
//! bytes that are not UTF-8, an empty or repeated name (which value was
//! signed?), or oversize input. `+` decodes to a space (§5.1 DECISION), since
//! merchants' URL builders differ in how they write one.
//!
//! [`encode`] goes the other way for a client: everything but the RFC 3986
//! unreserved characters is percent-encoded, so the result survives any URL
//! handling unchanged and decodes back to the same parameters.

use std::collections::HashSet;
use std::fmt;

use super::Params;

/// Largest accepted raw query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// Largest accepted number of parameters.
pub const MAX_QUERY_PARAMS: usize = 64;

/// How much of a name or escape an error message repeats, in characters.
const SHOWN_CHARS: usize = 40;

/// Which half of a `name=value` segment an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Name,
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "name",
            Self::Value => "value",
        })
    }
}

/// Why a query string was refused. The messages are meant for `return_msg`;
/// they name the parameter (truncated to a few dozen characters) where there
/// is one, and never repeat more of the input than that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The raw query string is longer than [`MAX_QUERY_BYTES`].
    #[error("the query string is {len} bytes long; at most {max} are allowed", max = MAX_QUERY_BYTES)]
    TooLong { len: usize },
    /// More than [`MAX_QUERY_PARAMS`] parameters.
    #[error("the query string has more than {max} parameters", max = MAX_QUERY_PARAMS)]
    TooManyParams,
    /// A segment `=value` with no name (`position` counts non-empty segments from 1).
    #[error("parameter #{position} of the query string has an empty name")]
    EmptyName { position: usize },
    /// A `%` not followed by two hex digits. `param` is the raw (undecoded) name.
    #[error("malformed percent-escape `{escape}` in the {part} of query parameter `{param}`")]
    BadEscape { param: String, part: Part, escape: String },
    /// The percent-decoded bytes are not UTF-8. `param` is the raw name when
    /// the name is at fault, the decoded name otherwise.
    #[error("the {part} of query parameter `{param}` is not valid UTF-8 once percent-decoded")]
    NotUtf8 { param: String, part: Part },
    /// The same (decoded) name twice: which value would be signed is ambiguous.
    #[error("query parameter `{param}` appears more than once")]
    Duplicate { param: String },
}

/// Decodes the raw query string of a GET (without the leading `?`) into its
/// parameters, in the order sent. See the [module docs](self) for the rules;
/// never panics, whatever the input.
///
/// Segments are separated by `&` (empty ones are skipped) and split at their
/// first `=`; a segment without `=` is a name with the empty value. Names and
/// values are percent-decoded with `+` meaning a space.
pub fn decode(raw: &str) -> Result<Params, QueryError> {
    if raw.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong { len: raw.len() });
    }
    let mut params = Params::new();
    let mut seen = HashSet::new();
    for (i, segment) in raw.split('&').filter(|s| !s.is_empty()).enumerate() {
        if i >= MAX_QUERY_PARAMS {
            return Err(QueryError::TooManyParams);
        }
        let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        if raw_name.is_empty() {
            return Err(QueryError::EmptyName { position: i + 1 });
        }
        let name = unescape(raw_name).map_err(|e| e.into_error(raw_name, Part::Name))?;
        let value = unescape(raw_value).map_err(|e| e.into_error(&name, Part::Value))?;
        if !seen.insert(name.clone()) {
            return Err(QueryError::Duplicate { param: shown(&name) });
        }
        params.push(name, value);
    }
    Ok(params)
}

/// Encodes `params` as a query string (no leading `?`): `name=value` joined by
/// `&`, every byte except `A-Za-z0-9-._~` written `%XX` in upper-case hex
/// (so a space is `%20`). [`decode`] gives back `params` whenever the names are
/// unique and non-empty and the limits are respected.
pub fn encode(params: &Params) -> String {
    let mut out = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape_into(&mut out, name);
        out.push('=');
        escape_into(&mut out, value);
    }
    out
}

fn escape_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
}

/// What went wrong decoding one name or value, before it is attributed.
enum Unescape {
    /// The offending escape as written (at most `%` and two characters).
    BadEscape(String),
    NotUtf8,
}

impl Unescape {
    fn into_error(self, param: &str, part: Part) -> QueryError {
        let param = shown(param);
        match self {
            Self::BadEscape(escape) => QueryError::BadEscape { param, part, escape },
            Self::NotUtf8 => QueryError::NotUtf8 { param, part },
        }
    }
}

/// Percent-decodes `s`, `+` meaning a space; strict about escapes and UTF-8.
fn unescape(s: &str) -> Result<String, Unescape> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_digit);
                let lo = bytes.get(i + 2).copied().and_then(hex_digit);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => {
                        // `s[i..]` starts at the ASCII `%`, so it is a char boundary.
                        let escape: String = s.get(i..).unwrap_or_default().chars().take(3).collect();
                        return Err(Unescape::BadEscape(escape));
                    }
                }
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Unescape::NotUtf8)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `s` as an error message may repeat it: at most [`SHOWN_CHARS`] characters,
/// then `…`.
fn shown(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::v2::sign::{self, SignType};
    use proptest::prelude::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
    const WORKED_SIGN: &str = "1C47E24EC575F981FE13DF3CE7EE0C4ECD6AE29DA534A5AEA3D7CDBF46EE73D9";

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().copied().collect()
    }

    /// The §5.2 worked example's `query` line, with the full sign.
    fn worked_query() -> String {
        format!(
            "appid=wxcbda96de0b165486&mch_id=1200009811&plan_id=12535&contract_code=100000&request_serial=1000\
             &contract_display_account=%E5%BE%AE%E4%BF%A1%E4%BB%A3%E6%89%A3\
             &notify_url=https%3A%2F%2Fweixin.qq.com%2Fpapay%2Fnotify&version=1.0&sign_type=HMAC-SHA256\
             &timestamp=1414488825&clientip=119.145.83.6&sign={WORKED_SIGN}"
        )
    }

    #[test]
    fn decodes_and_verifies_the_worked_example() {
        let p = decode(&worked_query()).unwrap();
        assert_eq!(p.get("contract_display_account"), Some("微信代扣"));
        assert_eq!(p.get("notify_url"), Some("https://weixin.qq.com/papay/notify"));
        assert_eq!(p.get("sign"), Some(WORKED_SIGN));
        let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "appid",
                "mch_id",
                "plan_id",
                "contract_code",
                "request_serial",
                "contract_display_account",
                "notify_url",
                "version",
                "sign_type",
                "timestamp",
                "clientip",
                "sign"
            ]
        );
        let t = sign::sign_type_param(&p).unwrap();
        assert_eq!(sign::verify(&p, KEY, t), Ok(SignType::HmacSha256));
        assert_eq!(sign::verify(&p, KEY, None), Ok(SignType::HmacSha256));
    }

    #[test]
    fn plus_is_a_space_and_escaped_plus_is_a_plus() {
        assert_eq!(
            decode("a=x+y&b=x%2By&c+d=%20").unwrap(),
            params(&[("a", "x y"), ("b", "x+y"), ("c d", " ")])
        );
    }

    #[test]
    fn segments_and_equals_signs() {
        assert_eq!(decode("").unwrap(), Params::new());
        assert_eq!(decode("&&").unwrap(), Params::new());
        assert_eq!(
            decode("&a=1&&b&c=&d==x=&").unwrap(),
            params(&[("a", "1"), ("b", ""), ("c", ""), ("d", "=x=")])
        );
        // The official example has `&?return_appid=`: an odd but non-empty name.
        assert_eq!(
            decode("appid=wx1&?return_appid=wx2").unwrap(),
            params(&[("appid", "wx1"), ("?return_appid", "wx2")])
        );
    }

    #[test]
    fn hex_case_is_free() {
        assert_eq!(decode("a=%e5%be%ae%E4%BF%A1").unwrap(), params(&[("a", "微信")]));
    }

    #[test]
    fn refuses_malformed_escapes() {
        let bad = |raw: &str| decode(raw).unwrap_err();
        assert_eq!(
            bad("a=1&notify_url=%zz"),
            QueryError::BadEscape {
                param: "notify_url".into(),
                part: Part::Value,
                escape: "%zz".into()
            }
        );
        assert_eq!(
            bad("a=%4"),
            QueryError::BadEscape {
                param: "a".into(),
                part: Part::Value,
                escape: "%4".into()
            }
        );
        assert_eq!(
            bad("a=%"),
            QueryError::BadEscape {
                param: "a".into(),
                part: Part::Value,
                escape: "%".into()
            }
        );
        assert_eq!(
            bad("a=%4微"),
            QueryError::BadEscape {
                param: "a".into(),
                part: Part::Value,
                escape: "%4微".into()
            }
        );
        assert_eq!(
            bad("x%g1=1"),
            QueryError::BadEscape {
                param: "x%g1".into(),
                part: Part::Name,
                escape: "%g1".into()
            }
        );
        assert_eq!(
            bad("a=%zz").to_string(),
            "malformed percent-escape `%zz` in the value of query parameter `a`"
        );
    }

    #[test]
    fn refuses_non_utf8() {
        assert_eq!(
            decode("contract_display_account=%E5%BE").unwrap_err(),
            QueryError::NotUtf8 {
                param: "contract_display_account".into(),
                part: Part::Value
            }
        );
        assert_eq!(
            decode("a%FF=1").unwrap_err(),
            QueryError::NotUtf8 {
                param: "a%FF".into(),
                part: Part::Name
            }
        );
        assert!(decode("a=%C0%80").is_err(), "overlong encodings are not UTF-8");
    }

    #[test]
    fn refuses_empty_names() {
        assert_eq!(decode("a=1&=2").unwrap_err(), QueryError::EmptyName { position: 2 });
        assert_eq!(decode("=").unwrap_err(), QueryError::EmptyName { position: 1 });
        assert_eq!(
            decode("a=1&=2").unwrap_err().to_string(),
            "parameter #2 of the query string has an empty name"
        );
    }

    #[test]
    fn refuses_repeated_names_after_decoding() {
        assert_eq!(
            decode("sign=A&sign=B").unwrap_err(),
            QueryError::Duplicate { param: "sign".into() }
        );
        assert_eq!(
            decode("a%20b=1&a+b=2").unwrap_err(),
            QueryError::Duplicate { param: "a b".into() }
        );
        assert_eq!(decode("a&a=").unwrap_err(), QueryError::Duplicate { param: "a".into() });
    }

    #[test]
    fn limits() {
        let max: String = (0..MAX_QUERY_PARAMS).map(|i| format!("p{i}=v&")).collect();
        assert_eq!(decode(&max).unwrap().len(), MAX_QUERY_PARAMS);
        let over = format!("{max}x=1");
        assert_eq!(decode(&over).unwrap_err(), QueryError::TooManyParams);

        let long = format!("a={}", "x".repeat(MAX_QUERY_BYTES - 2));
        assert_eq!(decode(&long).unwrap().get("a").map(str::len), Some(MAX_QUERY_BYTES - 2));
        let too_long = format!("{long}x");
        assert_eq!(
            decode(&too_long).unwrap_err(),
            QueryError::TooLong {
                len: MAX_QUERY_BYTES + 1
            }
        );
    }

    #[test]
    fn messages_truncate_long_names() {
        let name = "n".repeat(1000);
        let e = decode(&format!("{name}=%zz")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.contains(&format!("{}…", "n".repeat(SHOWN_CHARS))), "{msg}");
        let e = decode(&format!("{name}=1&{name}=2")).unwrap_err();
        assert!(e.to_string().len() < 200);
    }

    #[test]
    fn encode_escapes_all_but_unreserved() {
        let p = params(&[
            ("a b", "x y+z"),
            ("notify_url", "https://weixin.qq.com/papay/notify"),
            ("c", "微"),
            ("safe", "AZaz09-._~"),
            ("empty", ""),
            ("?return_appid", "*&=%"),
        ]);
        assert_eq!(
            encode(&p),
            "a%20b=x%20y%2Bz&notify_url=https%3A%2F%2Fweixin.qq.com%2Fpapay%2Fnotify&c=%E5%BE%AE\
             &safe=AZaz09-._~&empty=&%3Freturn_appid=%2A%26%3D%25"
        );
        assert_eq!(decode(&encode(&p)).unwrap(), p);
        assert_eq!(encode(&Params::new()), "");
    }

    // ---- properties ---------------------------------------------------------

    fn unique_params() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec((".{1,12}", ".{0,20}"), 0..16).prop_map(|pairs| {
            let mut seen = HashSet::new();
            pairs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decode_never_panics_on_strings(s in any::<String>()) {
            let _ = decode(&s);
        }

        #[test]
        fn decode_never_panics_on_lossy_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn decode_never_panics_on_percent_heavy_text(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "%", "%%", "%2", "%zz", "%E5", "%BE", "%AE", "%F0%9F", "%FF", "%00", "%2B", "%3D", "%26",
                    "=", "&", "+", "a", "微", "\u{FFFD}", "é",
                ]),
                0..64,
            )
        ) {
            let _ = decode(&parts.concat());
        }

        #[test]
        fn encode_then_decode_round_trips(pairs in unique_params()) {
            let p: Params = pairs.into_iter().collect();
            let q = encode(&p);
            prop_assert!(q.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)));
            prop_assert_eq!(decode(&q), Ok(p));
        }

        #[test]
        fn decodes_what_form_urlencoded_writes(pairs in unique_params()) {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &pairs {
                ser.append_pair(k, v);
            }
            let p: Params = pairs.into_iter().collect();
            prop_assert_eq!(decode(&ser.finish()), Ok(p));
        }
    }
}
