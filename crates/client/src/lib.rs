//! `papay-client`: a typed async client for the WeChat Pay papay (auto-debit) APIv3, usable
//! against WeChat Pay itself or against a papay sandbox (only the base URL differs).
//!
//! It signs every request (`Authorization: WECHATPAY2-SHA256-RSA2048 …`), refuses any answer
//! it cannot verify against a platform certificate or public key it holds, downloads and
//! decrypts platform certificates, and verifies and decrypts notifications for a merchant's
//! receiver.
//!
//! [`v2`] is the separate client for the domestic APIv2 papay APIs (h5entrustweb,
//! querycontract, deletecontract and their XML notifications).

mod client;
mod contracts;
mod error;
mod notifications;
pub mod v2;
mod verifier;

pub use client::{Client, ClientBuilder, PreparedRequest, VerifiedResponse};
pub use error::{ApiErrorBody, Error};
pub use notifications::VerifiedNotification;
pub use papay_protocol as protocol;
pub use verifier::Verifier;
