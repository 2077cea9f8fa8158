//! Reading the fields of a verified v2 answer or notification into typed values.
//!
//! Everything comes from the network, so every conversion can fail, and fails with an
//! [`Error::Decode`] that says which message and which field. An empty value counts as
//! absent, as in the §5.1 signing string.

use papay_protocol::time_format;
use papay_protocol::v2::papay::{ContractState, TerminationMode};
use papay_protocol::v2::Params;
use time::OffsetDateTime;

use crate::Error;

/// How much of a value an error message repeats, in characters.
const SHOWN_CHARS: usize = 40;

/// The fields of one message; `what` names the message in errors.
pub(crate) struct Fields<'a> {
    pub what: &'static str,
    pub params: &'a Params,
}

impl<'a> Fields<'a> {
    pub fn new(what: &'static str, params: &'a Params) -> Self {
        Self { what, params }
    }

    pub fn error(&self, field: &str, problem: impl std::fmt::Display) -> Error {
        Error::Decode(format!("{}: `{field}` {problem}", self.what))
    }

    fn bad_value(&self, field: &str, v: &str, expected: &str) -> Error {
        self.error(field, format_args!("is `{}`, expected {expected}", shown(v)))
    }

    /// The non-empty value of `field`, if sent.
    pub fn optional(&self, field: &str) -> Option<&'a str> {
        self.params.get(field).filter(|v| !v.is_empty())
    }

    pub fn required(&self, field: &str) -> Result<&'a str, Error> {
        self.optional(field).ok_or_else(|| self.error(field, "is missing"))
    }

    pub fn string(&self, field: &str) -> Result<String, Error> {
        self.required(field).map(str::to_owned)
    }

    pub fn opt_string(&self, field: &str) -> Option<String> {
        self.optional(field).map(str::to_owned)
    }

    pub fn i64(&self, field: &str) -> Result<i64, Error> {
        let v = self.required(field)?;
        v.parse().map_err(|_| self.bad_value(field, v, "a 64-bit integer"))
    }

    fn parse_time(&self, field: &str, v: &str) -> Result<OffsetDateTime, Error> {
        time_format::parse_v2_beijing(v).ok_or_else(|| self.bad_value(field, v, "yyyy-MM-dd HH:mm:ss"))
    }

    /// A `yyyy-MM-dd HH:mm:ss` Beijing time.
    pub fn time(&self, field: &str) -> Result<OffsetDateTime, Error> {
        self.parse_time(field, self.required(field)?)
    }

    pub fn opt_time(&self, field: &str) -> Result<Option<OffsetDateTime>, Error> {
        self.optional(field).map(|v| self.parse_time(field, v)).transpose()
    }

    fn parse_state(&self, field: &str, v: &str) -> Result<ContractState, Error> {
        v.parse::<u8>()
            .ok()
            .and_then(ContractState::from_code)
            .ok_or_else(|| self.bad_value(field, v, "0 or 1"))
    }

    pub fn state(&self, field: &str) -> Result<ContractState, Error> {
        self.parse_state(field, self.required(field)?)
    }

    pub fn opt_state(&self, field: &str) -> Result<Option<ContractState>, Error> {
        self.optional(field).map(|v| self.parse_state(field, v)).transpose()
    }

    /// `contract_termination_mode`; `0` (not terminated, in querycontract) is `None`.
    pub fn termination_mode(&self, field: &str) -> Result<Option<TerminationMode>, Error> {
        match self.optional(field) {
            None | Some("0") => Ok(None),
            Some(v) => v
                .parse::<u8>()
                .ok()
                .and_then(TerminationMode::from_code)
                .map(Some)
                .ok_or_else(|| self.bad_value(field, v, "one of 0, 1, 2, 3, 4, 5, 7")),
        }
    }
}

/// `s` as an error message may repeat it: at most [`SHOWN_CHARS`] characters, then `…`.
pub(crate) fn shown(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}
