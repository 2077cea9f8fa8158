//! Validated identifiers. Each is parsed once at the edge (config, request) and is then
//! known to be well-formed everywhere else.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is invalid: {rule}")]
pub struct IdError {
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

fn err(what: &'static str, value: &str, rule: &'static str) -> IdError {
    IdError {
        what,
        value: value.chars().take(64).collect(),
        rule,
    }
}

string_newtype!(
    /// A merchant id (`mchid`, `sub_mchid`): 1–32 ASCII digits.
    Mchid
);
string_newtype!(
    /// An AppID bound to a merchant: 1–32 characters `[0-9A-Za-z_-]`.
    AppId
);
string_newtype!(
    /// A certificate serial, normalised to upper-case hex (1–64 characters).
    Serial
);
string_newtype!(
    /// A WeChat Pay public key id: `PUB_KEY_ID_` followed by digits.
    PublicKeyId
);

impl Mchid {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Mchid(s.to_string()))
        } else {
            Err(err("mchid", s, "1 to 32 digits"))
        }
    }
}

impl AppId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            Ok(AppId(s.to_string()))
        } else {
            Err(err("appid", s, "1 to 32 letters, digits, '_' or '-'"))
        }
    }
}

impl Serial {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if papay_protocol::pki::is_serial(s) {
            Ok(Serial(s.to_ascii_uppercase()))
        } else {
            Err(err("serial", s, "1 to 64 hexadecimal characters"))
        }
    }
}

impl PublicKeyId {
    pub const PREFIX: &'static str = "PUB_KEY_ID_";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        match s.strip_prefix(Self::PREFIX) {
            Some(digits) if (1..=64).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(PublicKeyId(s.to_string()))
            }
            _ => Err(err("public key id", s, "PUB_KEY_ID_ followed by 1 to 64 digits")),
        }
    }
}

/// A plan (template) id: a positive integer issued with the deduction permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlanId(i64);

impl PlanId {
    pub fn new(id: i64) -> Result<Self, IdError> {
        if id > 0 {
            Ok(PlanId(id))
        } else {
            Err(err("plan_id", &id.to_string(), "a positive integer"))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_rules() {
        assert!(Mchid::parse("1900000100").is_ok());
        assert!(Mchid::parse("19000a").is_err());
        assert!(Mchid::parse("").is_err());
        assert!(Mchid::parse(&"1".repeat(33)).is_err());
        assert!(AppId::parse("wx8a3e6b0c5d2f4e71").is_ok());
        assert!(AppId::parse("wx 1").is_err());
        assert_eq!(Serial::parse("1dde55ad").unwrap().as_str(), "1DDE55AD");
        assert!(Serial::parse("xyz").is_err());
        assert!(PublicKeyId::parse("PUB_KEY_ID_0117000800002025045698789500001779").is_ok());
        assert!(PublicKeyId::parse("PUB_KEY_ID_").is_err());
        assert!(PublicKeyId::parse("pub_key_id_1").is_err());
        assert!(PlanId::new(0).is_err());
        assert_eq!(PlanId::new(12535).unwrap().get(), 12535);
    }
}
