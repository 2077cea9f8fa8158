//! The v2 API key: a shared secret that signs every v2 message both ways, so it must never
//! reach a log. [`V2ApiKey`] has no `Display`, and its `Debug` prints no part of it.

use std::fmt;

use crate::Error;

/// The merchant's (for partner APIs: the service provider's) 32-character v2 API key.
#[derive(Clone, PartialEq, Eq)]
pub struct V2ApiKey(String);

impl V2ApiKey {
    /// Parses the key as set on the merchant platform: exactly 32 ASCII letters and digits
    /// (surrounding whitespace, e.g. a file's final newline, is ignored). The error does not
    /// repeat the input.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::Config(
                "a v2 API key is exactly 32 ASCII letters and digits".into(),
            ))
        }
    }

    /// The key itself, for signing.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for V2ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("V2ApiKey(…redacted…)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    #[test]
    fn parses_and_redacts() {
        let k = V2ApiKey::parse(&format!(" {KEY}\n")).unwrap();
        assert_eq!(k.expose(), KEY);
        assert_eq!(format!("{k:?}"), "V2ApiKey(…redacted…)");
        assert_eq!(format!("{:?}", Some(&k)), "Some(V2ApiKey(…redacted…))");
    }

    #[test]
    fn refuses_bad_keys_without_echoing_them() {
        for bad in [
            "",
            "short",
            "192006250b4c09247ec02edce69f6a2",
            "192006250b4c09247ec02edce69f6a2d0",
            "192006250b4c09247ec02edce69f6a2-",
        ] {
            let e = V2ApiKey::parse(bad).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{bad}");
            if !bad.is_empty() {
                assert!(!e.to_string().contains(bad), "{bad}");
            }
        }
    }
}
