//! Per-field validation rules of the v2 papay requests (PROTOCOL.md §5.2–5.4).
//!
//! Each rule reads one parameter from [`Params`] and either returns its typed
//! value or a [`V2ParamError`] naming the field and what is wrong with it, so
//! the server can answer `PARAM_ERROR` with a message the merchant can act on.
//! An empty value counts as absent, as in the §5.1 signing string.
//!
//! Lengths are counted in characters (Unicode scalar values), not bytes.

use std::fmt;
use std::net::IpAddr;

use crate::v2::sign::SignType;
use crate::v2::Params;

/// Why one request parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// Required but absent or empty.
    Missing,
    /// Longer than the documented maximum (in characters).
    TooLong { max: usize },
    /// Contains characters other than ASCII digits.
    NotDigits,
    /// Contains characters other than ASCII digits and letters.
    NotAlphanumeric,
    /// Contains characters other than visible ASCII (identifiers).
    NotVisibleAscii,
    /// Contains a character that needs 4 bytes in UTF-8 (emoji etc.).
    FourByteUtf8,
    /// Contains a control character XML 1.0 cannot carry, so the value could not be
    /// answered or notified (a GET query string can hold one; XML bodies cannot).
    NotXmlText,
    /// A number that must not start with `0` does.
    LeadingZero,
    /// A number larger than allowed (`request_serial` > i64::MAX).
    OutOfRange,
    /// Not exactly the given number of digits.
    WrongLength { expected: usize },
    /// Outside the accepted freshness window around the current time.
    Stale { window_secs: i64 },
    /// Not an `http://` or `https://` URL with a host.
    NotHttpUrl,
    /// A URL that carries a query string.
    HasQuery,
    /// Not an IPv4 or IPv6 address.
    NotIpAddress,
    /// Not the one accepted value.
    WrongValue { expected: &'static str },
    /// `sign_type` other than `MD5` / `HMAC-SHA256`.
    UnknownSignType,
    /// Both lookup modes (`contract_id` and `plan_id` + `contract_code`) given.
    BothModes,
    /// Neither lookup mode given.
    NoMode,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("is required"),
            Self::TooLong { max } => write!(f, "is longer than {max} characters"),
            Self::NotDigits => f.write_str("must contain digits only"),
            Self::NotAlphanumeric => f.write_str("must contain digits and letters only"),
            Self::NotVisibleAscii => f.write_str("must contain visible ASCII characters only"),
            Self::FourByteUtf8 => f.write_str("must not contain 4-byte UTF-8 characters (emoji)"),
            Self::NotXmlText => f.write_str("must not contain control characters"),
            Self::LeadingZero => f.write_str("must not start with 0"),
            Self::OutOfRange => f.write_str("must not exceed 9223372036854775807"),
            Self::WrongLength { expected } => write!(f, "must be exactly {expected} digits"),
            Self::Stale { window_secs } => {
                write!(f, "is more than {window_secs} seconds away from the current time")
            }
            Self::NotHttpUrl => f.write_str("must be an http:// or https:// URL"),
            Self::HasQuery => f.write_str("must not carry query parameters"),
            Self::NotIpAddress => f.write_str("must be an IPv4 or IPv6 address"),
            Self::WrongValue { expected } => write!(f, "must be `{expected}`"),
            Self::UnknownSignType => f.write_str("must be MD5 or HMAC-SHA256"),
            Self::BothModes => f.write_str("must not be combined with plan_id + contract_code"),
            Self::NoMode => f.write_str("or plan_id + contract_code is required"),
        }
    }
}

/// A refused request parameter: which one and why. The `Display` form
/// (`` `field` issue ``) is meant for `return_msg` / `err_code_des`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {issue}")]
pub struct V2ParamError {
    /// The wire name of the parameter.
    pub field: &'static str,
    /// What is wrong with it.
    pub issue: Issue,
}

pub(crate) fn err(field: &'static str, issue: Issue) -> V2ParamError {
    V2ParamError { field, issue }
}

/// The non-empty value of `field`, if sent.
pub(crate) fn optional<'a>(p: &'a Params, field: &'static str) -> Option<&'a str> {
    p.get(field).filter(|v| !v.is_empty())
}

/// The non-empty value of `field`, or [`Issue::Missing`].
pub(crate) fn required<'a>(p: &'a Params, field: &'static str) -> Result<&'a str, V2ParamError> {
    optional(p, field).ok_or(err(field, Issue::Missing))
}

fn max_len(field: &'static str, v: &str, max: usize) -> Result<(), V2ParamError> {
    if v.chars().count() > max {
        return Err(err(field, Issue::TooLong { max }));
    }
    Ok(())
}

/// Refuses what an XML 1.0 document cannot hold (C0 controls other than tab, LF, CR; U+FFFE,
/// U+FFFF): a text value may be echoed in an answer or a notification.
fn xml_text(field: &'static str, v: &str) -> Result<(), V2ParamError> {
    if v.chars().any(|c| !crate::v2::xml::is_xml_char(c)) {
        return Err(err(field, Issue::NotXmlText));
    }
    Ok(())
}

/// Free text of 1..=`max` characters that XML can carry (no other charset rule).
pub(crate) fn text(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    xml_text(field, v)?;
    Ok(v.to_owned())
}

/// A value with no documented rule, kept as sent (if XML can carry it).
pub(crate) fn as_sent(field: &'static str, v: &str) -> Result<String, V2ParamError> {
    xml_text(field, v)?;
    Ok(v.to_owned())
}

/// An identifier (`appid`, `mch_id`, `contract_id`, …): 1..=`max` visible ASCII characters.
pub(crate) fn ident(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(field, Issue::NotVisibleAscii));
    }
    Ok(v.to_owned())
}

/// 1..=`max` ASCII digits.
pub(crate) fn digits(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(field, Issue::NotDigits));
    }
    Ok(v.to_owned())
}

/// 1..=`max` ASCII digits and letters.
pub(crate) fn alphanumeric(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    if !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err(field, Issue::NotAlphanumeric));
    }
    Ok(v.to_owned())
}

/// 1..=`max` characters, none of them outside the Basic Multilingual Plane.
pub(crate) fn bmp_text(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    xml_text(field, v)?;
    if v.chars().any(|c| c.len_utf8() == 4) {
        return Err(err(field, Issue::FourByteUtf8));
    }
    Ok(v.to_owned())
}

/// `request_serial`: an int64 written with digits only, no leading `0`.
pub(crate) fn request_serial(field: &'static str, v: &str) -> Result<i64, V2ParamError> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(field, Issue::NotDigits));
    }
    if v.starts_with('0') {
        return Err(err(field, Issue::LeadingZero));
    }
    v.parse::<i64>().map_err(|_| err(field, Issue::OutOfRange))
}

/// `timestamp`: exactly 10 digits, Unix seconds.
pub(crate) fn timestamp(field: &'static str, v: &str) -> Result<i64, V2ParamError> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(field, Issue::NotDigits));
    }
    if v.len() != 10 {
        return Err(err(field, Issue::WrongLength { expected: 10 }));
    }
    v.parse::<i64>().map_err(|_| err(field, Issue::OutOfRange))
}

/// `notify_url`: ≤ `max` characters, `http://` or `https://` (scheme
/// case-insensitive) followed by a host, no whitespace or control characters,
/// no `?`.
pub(crate) fn notify_url(field: &'static str, v: &str, max: usize) -> Result<String, V2ParamError> {
    max_len(field, v, max)?;
    let lower = v.get(..8).unwrap_or(v).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &v[8..]
    } else if lower.starts_with("http://") {
        &v[7..]
    } else {
        return Err(err(field, Issue::NotHttpUrl));
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(field, Issue::NotHttpUrl));
    }
    if v.contains('?') {
        return Err(err(field, Issue::HasQuery));
    }
    Ok(v.to_owned())
}

/// `clientip`: an IPv4 or IPv6 address.
pub(crate) fn ip(field: &'static str, v: &str) -> Result<IpAddr, V2ParamError> {
    v.parse::<IpAddr>().map_err(|_| err(field, Issue::NotIpAddress))
}

/// `version`: exactly `1.0`.
pub(crate) fn version(p: &Params) -> Result<(), V2ParamError> {
    match required(p, "version")? {
        "1.0" => Ok(()),
        _ => Err(err("version", Issue::WrongValue { expected: "1.0" })),
    }
}

/// Optional `sign_type`: `MD5` or `HMAC-SHA256`; absent or empty ⇒ `None`.
pub(crate) fn sign_type(p: &Params) -> Result<Option<SignType>, V2ParamError> {
    optional(p, "sign_type")
        .map(|v| SignType::parse(v).ok_or(err("sign_type", Issue::UnknownSignType)))
        .transpose()
}

/// Applies `rule` to `field` if it was sent.
pub(crate) fn opt<T>(
    p: &Params,
    field: &'static str,
    rule: impl FnOnce(&'static str, &str) -> Result<T, V2ParamError>,
) -> Result<Option<T>, V2ParamError> {
    optional(p, field).map(|v| rule(field, v)).transpose()
}

/// Applies `rule` to `field`, which must be sent.
pub(crate) fn req<T>(
    p: &Params,
    field: &'static str,
    rule: impl FnOnce(&'static str, &str) -> Result<T, V2ParamError>,
) -> Result<T, V2ParamError> {
    rule(field, required(p, field)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        assert_eq!(
            err("plan_id", Issue::NotDigits).to_string(),
            "`plan_id` must contain digits only"
        );
        assert_eq!(
            err("contract_code", Issue::TooLong { max: 128 }).to_string(),
            "`contract_code` is longer than 128 characters"
        );
    }

    #[test]
    fn lengths_count_characters() {
        assert!(bmp_text("f", &"微".repeat(128), 128).is_ok());
        assert_eq!(
            bmp_text("f", &"微".repeat(129), 128),
            Err(err("f", Issue::TooLong { max: 128 }))
        );
        assert_eq!(bmp_text("f", "a😀", 128), Err(err("f", Issue::FourByteUtf8)));
    }

    #[test]
    fn text_values_must_fit_in_xml() {
        for bad in ["a\u{7}b", "\u{0}", "x\u{1b}", "\u{FFFE}"] {
            assert_eq!(text("f", bad, 128), Err(err("f", Issue::NotXmlText)), "{bad:?}");
            assert_eq!(bmp_text("f", bad, 128), Err(err("f", Issue::NotXmlText)), "{bad:?}");
            assert_eq!(as_sent("f", bad), Err(err("f", Issue::NotXmlText)), "{bad:?}");
        }
        assert!(bmp_text("f", "Zhang\tSan\n微信", 128).is_ok());
    }

    #[test]
    fn request_serial_bounds() {
        assert_eq!(request_serial("r", "9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            request_serial("r", "9223372036854775808"),
            Err(err("r", Issue::OutOfRange))
        );
        assert_eq!(request_serial("r", "0"), Err(err("r", Issue::LeadingZero)));
        assert_eq!(request_serial("r", "-1"), Err(err("r", Issue::NotDigits)));
    }

    #[test]
    fn notify_url_shapes() {
        for ok in [
            "http://a",
            "https://weixin.qq.com/papay/notify",
            "HTTPS://x.y:8443/p#frag",
        ] {
            assert!(notify_url("n", ok, 256).is_ok(), "{ok}");
        }
        for (bad, issue) in [
            ("www.qq.com/test/papay", Issue::NotHttpUrl),
            ("ftp://x", Issue::NotHttpUrl),
            ("https://", Issue::NotHttpUrl),
            ("https:///path", Issue::NotHttpUrl),
            ("https://a b/", Issue::NotHttpUrl),
            ("https://a/?x=1", Issue::HasQuery),
            ("https://a?x", Issue::HasQuery),
        ] {
            assert_eq!(notify_url("n", bad, 256), Err(err("n", issue)), "{bad}");
        }
    }
}
