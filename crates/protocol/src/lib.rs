//! The WeChat Pay papay wire protocol, with no I/O.
//!
//! Everything both sides of the wire must agree on byte for byte lives here, so
//! the server and the client crate share one implementation: the APIv3
//! `Authorization` header and signing strings (PROTOCOL.md §1.3–1.4), RSA-SHA256
//! keys and X.509 certificates, AEAD_AES_256_GCM (§1.6), the JSON wire types of
//! contracts (§2) and notifications (§3), and the domestic v2 `sign` and XML codec (§5).

pub mod aead;
pub mod authorization;
pub mod certificates;
pub mod contracts;
pub mod error_body;
pub mod headers;
pub mod keys;
pub mod nonce;
pub mod notifications;
pub mod pki;
pub mod signing;
pub mod time_format;
pub mod v2;
