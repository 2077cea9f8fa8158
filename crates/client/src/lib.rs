//! papay-client
