//! The papay domain: merchants and their credentials, plans, contracts and their state
//! machine, pre-sign rules. Pure types and rules: nothing here knows about HTTP, SQL or the
//! wall clock; time comes in as an argument (see [`clock::Clock`]).

/// A validated string newtype: the type can only be built through its own `parse`, so holding
/// one means the value passed the protocol's rule for it.
macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub mod clock;
pub mod contract;
pub mod error;
pub mod fault;
pub mod ids;
pub mod merchant;
pub mod notification;
pub mod presign;
pub mod values;
