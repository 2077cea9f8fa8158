//! Wire time formats: RFC 3339 in Beijing time for APIv3 JSON (§1.8), `yyyy-MM-dd HH:mm:ss`
//! Beijing time for v2 (§5.3), Unix seconds in headers.

use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, UtcOffset};

/// China Standard Time, the offset of every time WeChat Pay emits.
pub const BEIJING: UtcOffset = offset!(+8);

/// `YYYY-MM-DDTHH:mm:ss+08:00`, no fractional seconds, as in every papay example.
pub fn rfc3339_beijing(t: OffsetDateTime) -> String {
    let t = t.to_offset(BEIJING);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    t.format(&fmt).unwrap_or_default()
}

/// Parses any RFC 3339 date-time with an offset (`Z`, `+08:00`, fractional seconds allowed).
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time (domestic v2 APIs).
pub fn v2_beijing(t: OffsetDateTime) -> String {
    let t = t.to_offset(BEIJING);
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).unwrap_or_default()
}

/// Parses `yyyy-MM-dd HH:mm:ss` as Beijing time (the inverse of [`v2_beijing`]); anything
/// else, including surrounding whitespace or fractional seconds, is `None`.
pub fn parse_v2_beijing(s: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_offset(BEIJING))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_in_beijing_time() {
        let t = datetime!(2021-09-21 08:51:00 UTC);
        assert_eq!(rfc3339_beijing(t), "2021-09-21T16:51:00+08:00");
        assert_eq!(v2_beijing(t), "2021-09-21 16:51:00");
    }

    #[test]
    fn parses_documented_variants() {
        for s in [
            "2021-11-20T13:29:35+08:00",
            "2021-11-20T13:29:35.000+08:00",
            "2021-11-20T05:29:35Z",
            "2021-11-20T05:29:35.000Z",
        ] {
            let t = parse_rfc3339(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(rfc3339_beijing(t), "2021-11-20T13:29:35+08:00");
        }
        assert!(parse_rfc3339("2021-11-20 13:29:35").is_none());
    }

    #[test]
    fn parses_v2_times_as_beijing() {
        let t = parse_v2_beijing("2021-09-21 16:51:00").unwrap_or_else(|| panic!("parse"));
        assert_eq!(t, datetime!(2021-09-21 08:51:00 UTC));
        assert_eq!(t.offset(), BEIJING);
        assert_eq!(v2_beijing(t), "2021-09-21 16:51:00");
        for bad in [
            "",
            "2021-09-21T16:51:00",
            "2021-09-21 16:51",
            " 2021-09-21 16:51:00",
            "2021-02-30 00:00:00",
        ] {
            assert!(parse_v2_beijing(bad).is_none(), "{bad:?}");
        }
    }
}
