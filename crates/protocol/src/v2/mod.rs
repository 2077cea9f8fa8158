//! The domestic WeChat Pay APIv2 papay protocol (PROTOCOL.md §5).
//!
//! APIv2 predates APIv3 and shares none of its machinery: there are no
//! certificates, no JSON and no `Authorization` header. Instead every request,
//! response and notification is a flat list of string parameters — the query
//! string of `GET /papay/h5entrustweb`, or the children of a
//! `<xml><name>value</name>…</xml>` body for the `POST` APIs and the
//! notifications — and authenticity comes from a `sign` parameter computed over
//! the other parameters with the merchant's shared v2 API key.
//!
//! This module therefore has two halves, both free of I/O:
//!
//! * [`sign`] — building the §5.1 signing string and computing / verifying the
//!   MD5 or HMAC-SHA256 `sign`;
//! * [`xml`] — a deliberately small, strict codec for the flat XML documents.
//!   It is hand-rolled on top of `quick-xml`'s tokenizer rather than a
//!   general-purpose deserializer because the bodies come from the network: it
//!   refuses DTDs (so no XXE and no entity expansion), nesting, duplicates and
//!   oversize input instead of guessing what the sender meant.
//!
//! [`query`] is the third codec: the strict percent-decoding of the
//! h5entrustweb query string (and the matching encoder for clients).
//!
//! [`papay`] builds on them: the typed, validated papay requests, the response
//! and notification bodies, and the merchant's acknowledgement.
//!
//! All three speak [`Params`], an ordered list of `(name, value)` pairs that
//! keeps the parameters exactly as received, so the signature can be checked
//! over the values the merchant actually sent.

pub mod papay;
pub mod query;
pub mod sign;
pub mod xml;

/// Ordered list of v2 parameters as received: `(name, value)` pairs.
///
/// The order is kept (it is the order [`xml::write()`] emits), and nothing is
/// normalised. Names may repeat only if the code building the list allows it:
/// [`xml::parse`] refuses duplicate elements, so lists it returns have unique
/// names; [`Params::get`] returns the first value for a name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a parameter at the end (an existing one of the same name is kept).
    pub fn push(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.0.push((k.into(), v.into()));
    }

    /// The value of the first parameter called `k`, if any.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str())
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of parameters (repeated names counted each time).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for Params {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

impl IntoIterator for Params {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> (&'a str, &'a str)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn keeps_order_and_first_value_wins() {
        let mut p = Params::new();
        assert!(p.is_empty());
        p.push("b", "2");
        p.push("a", "1");
        p.push("b", "3");
        assert_eq!(p.len(), 3);
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), None);
        let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["b", "a", "b"]);
    }

    #[test]
    fn collects_and_iterates() {
        let p: Params = [("x", "1"), ("y", "2")].into_iter().collect();
        let q: Params = p.clone().into_iter().collect();
        assert_eq!(p, q);
        let mut seen = Vec::new();
        for (k, v) in &p {
            seen.push(format!("{k}={v}"));
        }
        assert_eq!(seen, ["x=1", "y=2"]);
    }
}
