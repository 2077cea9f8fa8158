//! The domestic v2 papay APIs on the wire (PROTOCOL.md §5.2–5.6), without I/O.
//!
//! [`sign`](crate::v2::sign) and [`xml`](crate::v2::xml) turn bytes into
//! authenticated [`Params`](crate::v2::Params); this module gives those
//! parameters meaning, so that the server's handlers only deal with typed,
//! already-validated values:
//!
//! * [`requests`] — `H5EntrustWeb`, `QueryContract`, `DeleteContract`, each
//!   parsed from `Params` or refused with a precise [`V2ParamError`];
//! * [`responses`] — the response bodies in documented field order, and the
//!   [`V2Contract`] view they (and notifications) are built from;
//! * [`notify`] — the §5.5 notification body and the merchant's acknowledgement.
//!
//! Keeping the wire rules here (rather than in the server) lets them be tested
//! against the documentation table by table, and lets the client crate reuse
//! them to build and check the same messages.

pub mod notify;
pub mod requests;
pub mod responses;
mod rules;

#[cfg(test)]
mod tests;

pub use notify::{notification, parse_ack, Ack, ChangeType};
pub use requests::{
    ContractSelector, DeleteContract, H5EntrustWeb, QueryContract, RiskInfo, SubMerchant, Variant,
    TIMESTAMP_WINDOW_SECS,
};
pub use responses::{
    business_fail, deletecontract_success, h5entrustweb_fail, h5entrustweb_success, querycontract_success, return_fail,
    with_sign, ContractState, TerminationMode, V2Contract,
};
pub use rules::{Issue, V2ParamError};
