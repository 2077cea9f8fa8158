//! The papay domain: merchants, their credentials and plans (and, in later issues,
//! contracts and their state machine). Pure types and rules: nothing here knows about HTTP,
//! SQL or the wall clock; time comes in through [`clock::Clock`].

pub mod clock;
pub mod ids;
pub mod merchant;
