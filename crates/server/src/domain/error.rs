//! The contract domain's one error type; the HTTP layer maps it to the wire in one place.

use super::contract::Refusal;
use super::values::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// A field is missing, of the wrong type, or breaks its rule: `400 PARAM_ERROR`.
    #[error("{0}")]
    Field(FieldError),
    /// Well-formed but not allowed for this merchant (plan, sub-merchant): `403 NO_AUTH`.
    #[error("{0}")]
    NoAuth(String),
    /// `403 CONTRACT_EXISTED`.
    #[error("the contract is already signed")]
    ContractExisted,
    /// `403 CONTRACT_NOT_EXIST`: unknown, another merchant's, or not terminable.
    #[error("the contract does not exist")]
    ContractNotExist,
}

impl From<FieldError> for ContractError {
    fn from(e: FieldError) -> Self {
        ContractError::Field(e)
    }
}

impl From<Refusal> for ContractError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::ContractExisted => ContractError::ContractExisted,
            Refusal::NotTerminable | Refusal::SessionClosed | Refusal::SessionExpired | Refusal::UnknownSession => {
                ContractError::ContractNotExist
            }
        }
    }
}
