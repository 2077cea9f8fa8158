//! Validated contract fields (PROTOCOL.md §2.0): each type can only hold a value the protocol
//! accepts, so the rest of the code never re-checks lengths or charsets.

use papay_protocol::nonce::random_bytes;
use time::OffsetDateTime;

/// Why a field was refused; becomes `400 PARAM_ERROR` naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {issue}")]
pub struct FieldError {
    pub field: &'static str,
    pub issue: String,
}

impl FieldError {
    pub fn new(field: &'static str, issue: impl Into<String>) -> Self {
        FieldError {
            field,
            issue: issue.into(),
        }
    }
}

/// Checks the doc's `string[min,max]` (in characters) and the BMP-only rule of §1.8.
pub fn bounded(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(FieldError::new(
            field,
            format!("must be {min} to {max} characters long (got {n})"),
        ));
    }
    if value.chars().any(|c| u32::from(c) > 0xFFFF) {
        return Err(FieldError::new(
            field,
            "must not contain 4-byte UTF-8 characters such as emoji",
        ));
    }
    Ok(())
}

string_newtype!(
    /// The merchant's contract number: 1–32 characters `[0-9A-Za-z]`.
    OutContractCode
);
string_newtype!(
    /// `user_display_name`: 1–32 characters, no 4-byte UTF-8.
    DisplayName
);
string_newtype!(
    /// A user's openid under an AppID: 1–128 characters `[0-9A-Za-z_-]`.
    OpenId
);
string_newtype!(
    /// `success_notify_url`: https, no query, at most 256 characters.
    NotifyUrl
);
string_newtype!(
    /// `return_url`: at most 256 characters.
    ReturnUrl
);
string_newtype!(
    /// WeChat's contract id: 20 digits, date-prefixed (`YYYYMMDD` + 12 random digits).
    ContractId
);
string_newtype!(
    /// A signing session token: `YYYYMMDD` + 39 digits of a 128-bit random number.
    SessionToken
);
string_newtype!(
    /// `termination_note`: 1–256 characters.
    TerminationNote
);
string_newtype!(
    /// `user_client_ip`: an IPv4 or IPv6 address.
    ClientIp
);

impl OutContractCode {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::parse_within(field, s, 32)
    }

    /// A v2 `contract_code`: the same charset, up to 128 characters (§5.2).
    pub fn parse_v2(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::parse_within(field, s, 128)
    }

    fn parse_within(field: &'static str, s: &str, max: usize) -> Result<Self, FieldError> {
        bounded(field, s, 1, max)?;
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FieldError::new(field, "must contain only digits and letters"));
        }
        Ok(OutContractCode(s.to_string()))
    }
}

impl DisplayName {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 32)?;
        Ok(DisplayName(s.to_string()))
    }

    /// A v2 `contract_display_account`: up to 128 characters, no 4-byte UTF-8 (§5.2).
    pub fn parse_v2(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 128)?;
        Ok(DisplayName(s.to_string()))
    }
}

impl OpenId {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 128)?;
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(FieldError::new(field, "must contain only letters, digits, '_' and '-'"));
        }
        Ok(OpenId(s.to_string()))
    }
}

impl NotifyUrl {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let Some(rest) = s.strip_prefix("https://") else {
            bounded(field, s, 1, 256)?;
            return Err(FieldError::new(field, "must start with https://"));
        };
        Self::checked(field, s, rest)
    }

    /// A v2 `notify_url`, where `http://` is allowed too (§5.2, §6).
    /// The scheme is matched case-insensitively, as the protocol's rule does (RFC 3986).
    pub fn parse_v2(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let scheme = ["http://", "https://"]
            .into_iter()
            .find(|p| s.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)));
        match scheme {
            Some(p) => Self::checked(field, s, &s[p.len()..]),
            None => {
                bounded(field, s, 1, 256)?;
                Err(FieldError::new(field, "must start with http:// or https://"))
            }
        }
    }

    fn checked(field: &'static str, s: &str, rest: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 256)?;
        if s.contains('?') {
            return Err(FieldError::new(field, "must not carry query parameters"));
        }
        let host = rest.split(['/', '#']).next().unwrap_or("");
        if host.is_empty()
            || host.chars().any(|c| c.is_whitespace() || c.is_control())
            || s.contains(char::is_whitespace)
        {
            return Err(FieldError::new(field, "is not a valid URL"));
        }
        Ok(NotifyUrl(s.to_string()))
    }
}

impl ReturnUrl {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 256)?;
        Ok(ReturnUrl(s.to_string()))
    }
}

impl TerminationNote {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 256)?;
        Ok(TerminationNote(s.to_string()))
    }

    /// A v2 `contract_termination_remark`: up to 512 characters (§5.4).
    pub fn parse_v2(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 512)?;
        Ok(TerminationNote(s.to_string()))
    }
}

impl ClientIp {
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 32)?;
        s.parse::<std::net::IpAddr>()
            .map_err(|_| FieldError::new(field, "must be an IPv4 or IPv6 address"))?;
        Ok(ClientIp(s.to_string()))
    }

    /// Compares as addresses, so `::ffff:1.2.3.4` is `1.2.3.4` and IPv6 spellings agree.
    pub fn same_address(&self, other: &ClientIp) -> bool {
        let canonical = |ip: &ClientIp| {
            ip.0.parse::<std::net::IpAddr>().ok().map(|a| match a {
                std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, std::net::IpAddr::V4),
                v4 => v4,
            })
        };
        canonical(self).is_some() && canonical(self) == canonical(other)
    }

    pub fn from_addr(addr: std::net::IpAddr) -> Self {
        let addr = match addr {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, std::net::IpAddr::V4),
            v4 => v4,
        };
        ClientIp(addr.to_string())
    }
}

impl ContractId {
    /// A fresh id for a contract created at `now`.
    pub fn generate(now: OffsetDateTime) -> Self {
        let n = u64::from_be_bytes(random_bytes::<8>()) % 1_000_000_000_000;
        ContractId(format!("{}{n:012}", crate::provision::beijing_date(now)))
    }

    /// Any string a merchant may send as a contract id (`string[1,64]`); unknown ones simply
    /// match no contract.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        bounded(field, s, 1, 64)?;
        Ok(ContractId(s.to_string()))
    }

    pub fn from_stored(s: String) -> Self {
        ContractId(s)
    }
}

impl SessionToken {
    pub fn generate(now: OffsetDateTime) -> Self {
        let n = u128::from_be_bytes(random_bytes::<16>());
        SessionToken(format!("{}{n:039}", crate::provision::beijing_date(now)))
    }

    pub fn from_stored(s: String) -> Self {
        SessionToken(s)
    }
}

/// A notification id: a random UUID (version 4) in its usual text form.
pub fn notification_id() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

macro_rules! from_stored {
    ($($name:ident),*) => {
        $(impl $name {
            /// Rebuilds a value read back from the store, where it was validated on the way in.
            pub fn from_stored(s: String) -> Self {
                $name(s)
            }
        })*
    };
}
from_stored!(
    OutContractCode,
    DisplayName,
    OpenId,
    NotifyUrl,
    ReturnUrl,
    TerminationNote,
    ClientIp
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rules() {
        assert!(OutContractCode::parse("c", "100001256").is_ok());
        assert!(OutContractCode::parse("c", "a-b").is_err());
        assert!(OutContractCode::parse("c", &"1".repeat(33)).is_err());
        assert!(DisplayName::parse("d", "张三").is_ok());
        assert_eq!(
            DisplayName::parse("d", "Zhang 😀").unwrap_err().issue,
            "must not contain 4-byte UTF-8 characters such as emoji"
        );
        assert!(DisplayName::parse("d", &"张".repeat(32)).is_ok());
        assert!(DisplayName::parse("d", &"张".repeat(33)).is_err());
        assert!(NotifyUrl::parse("u", "https://yoursite.com/notify").is_ok());
        assert_eq!(
            NotifyUrl::parse("u", "http://yoursite.com").unwrap_err().issue,
            "must start with https://"
        );
        assert_eq!(
            NotifyUrl::parse("u", "https://a.com/n?x=1").unwrap_err().issue,
            "must not carry query parameters"
        );
        assert!(NotifyUrl::parse("u", "https://").is_err());
        assert!(NotifyUrl::parse_v2("u", "http://m.example/n").is_ok());
        assert!(NotifyUrl::parse_v2("u", "https://m.example/n").is_ok());
        assert!(NotifyUrl::parse_v2("u", "http://m.example/n?a=1").is_err());
        assert!(NotifyUrl::parse_v2("u", "ftp://m.example/n").is_err());
        // The scheme is case-insensitive, as in papay_protocol's rule that runs first.
        assert!(NotifyUrl::parse_v2("u", "HTTPS://m.example/n").is_ok());
        assert!(NotifyUrl::parse_v2("u", "Http://m.example/n").is_ok());
        assert!(NotifyUrl::parse_v2("u", "htt").is_err());
        assert!(NotifyUrl::parse_v2("u", "微信://m.example/n").is_err());
        assert!(OutContractCode::parse_v2("c", &"1".repeat(128)).is_ok());
        assert!(OutContractCode::parse_v2("c", &"1".repeat(129)).is_err());
        assert!(DisplayName::parse_v2("d", &"张".repeat(128)).is_ok());
        assert!(TerminationNote::parse_v2("r", &"x".repeat(512)).is_ok());
        assert!(TerminationNote::parse_v2("r", &"x".repeat(513)).is_err());
        assert!(ClientIp::parse("ip", "119.145.83.6").is_ok());
        assert!(ClientIp::parse("ip", "::1").is_ok());
        assert!(ClientIp::parse("ip", "1.2.3").is_err());
        assert!(OpenId::parse("o", "ouFhd5X9s9WteC3eWRjXV3lea123").is_ok());
        assert!(OpenId::parse("o", "a b").is_err());
    }

    #[test]
    fn generated_ids() {
        let now = OffsetDateTime::now_utc();
        let id = ContractId::generate(now);
        assert_eq!(id.as_str().len(), 20);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_digit()));
        let t = SessionToken::generate(now);
        assert_eq!(t.as_str().len(), 47);
        assert_ne!(t, SessionToken::generate(now));
    }
}
