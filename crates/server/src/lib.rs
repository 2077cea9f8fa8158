//! papay: a self-hosted, WeChat Pay–compatible auto-debit (委托代扣) contract-signing service.
//!
//! Layers, outermost first: [`cli`] and [`app`] (process wiring), [`http`] (wire edge) and
//! [`pages`] and [`dashboard`] (its signing-page and dashboard HTML), [`provision`] and [`config`] (operator input), [`store`]
//! (persistence), [`domain`] (rules, no I/O). The wire protocol itself lives in the `papay-protocol` crate.

pub mod app;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod directory;
pub mod domain;
pub mod http;
pub mod logging;
pub mod notify;
pub mod observe;
pub mod pages;
pub mod provision;
pub mod store;

pub use app::App;
