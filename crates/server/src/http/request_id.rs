//! The `Request-ID` papay gives each request (set by the middleware in `http/observe.rs`),
//! readable by handlers as a request extension.

#[derive(Debug, Clone)]
pub struct RequestId(pub String);
