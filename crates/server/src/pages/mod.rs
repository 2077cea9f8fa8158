//! HTML for the simulated-WeChat signing pages: the signing page itself, its QR code, the
//! outcome, the "dead link" notices and the APP / mini-program session entry form.
//!
//! Rendering only. Handlers (elsewhere) load the session, decide which page applies and which
//! status to send; these functions turn already-formatted values into markup, so they stay pure
//! and testable without a server, a clock or a database. Everything user- or merchant-supplied
//! goes through maud's escaping; the only pre-escaped content is the SVG that `qrcode` draws.
//!
//! The pages must work offline and on a phone: one inline stylesheet, no scripts, no external
//! assets (see `layout.rs`).

mod entry;
mod layout;
mod notice;
mod outcome;
mod qr;
mod signing;

pub use entry::session_entry_page;
pub use notice::{notice_page, Notice};
pub use outcome::{outcome_page, Outcome, OutcomeView};
pub use qr::{qr_page, QrView};
pub use signing::{signing_page, SigningView};

#[cfg(test)]
mod tests;
