//! recert's credentials: Open Badges 3.0 documents (W3C Verifiable Credentials 2.0), their
//! Ed25519 Data Integrity proofs, the issuers' did:web documents and Bitstring Status Lists.
//! Pure functions over JSON values and keys: no HTTP, no SQL, no clock (instants come in as
//! arguments).

pub mod did;
pub mod jcs;
pub mod keys;
pub mod logo;
mod multiples;
pub mod ob3;
pub mod proof;
pub mod render;
pub mod status_list;
pub mod template;

pub use keys::{Kek, PublicKey, SigningKey};

/// What can go wrong making or checking a credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("key: {0}")]
    Key(String),
    #[error("document: {0}")]
    Document(String),
}

pub type Result<T, E = CredentialError> = std::result::Result<T, E>;
