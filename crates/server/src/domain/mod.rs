//! The papay domain: merchants and their credentials, plans, contracts and their state
//! machine, pre-sign rules. Pure types and rules: nothing here knows about HTTP, SQL or the
//! wall clock; time comes in as an argument (see [`clock::Clock`]).

pub mod clock;
pub mod contract;
pub mod error;
pub mod ids;
pub mod merchant;
pub mod presign;
pub mod values;
