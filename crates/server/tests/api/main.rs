//! The integration suite: one test binary, every test against a real papay on 127.0.0.1:0
//! with its own temporary database, spoken to over HTTP through `papay-client`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth_failures;
mod browser;
mod certificates;
mod cli_simulate;
mod config_errors;
mod contract_errors;
mod contracts;
mod control_clock_faults;
mod control_merchants;
mod control_openapi;
mod control_sessions;
mod dashboard;
mod demo;
mod helpers;
mod log_capture;
mod multi_instance;
mod notifications;
mod notifications_crash;
mod observability;
mod openapi_docs;
mod openssl_keys;
mod receiver;
mod signing_pages;
mod transport;
mod v2_api;
mod v2_flow;
