//! The service's one error type; the web layer maps it to problem details in one place.

use recert_domain::{DomainError, FieldError};
use recert_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input breaks a rule; every field at fault is named.
    #[error("{0}")]
    Validation(#[from] DomainError),
    /// The thing addressed does not exist.
    #[error("{what} {key:?} does not exist")]
    NotFound { what: &'static str, key: String },
    /// The request is valid but clashes with the current state (duplicate, already revoked…).
    #[error("{0}")]
    Conflict(String),
    /// No or bad credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests from one caller in a short time (public verification).
    #[error("{0}")]
    TooManyRequests(String),
    /// The request, or what it would store, is over a size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// A fault on our side; the detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(DomainError(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }]))
    }

    pub fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            key: key.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound {
                what: "record",
                key: String::new(),
            },
            StoreError::Conflict { constraint } => Self::Conflict(format!(
                "this would duplicate an existing record ({constraint})"
            )),
            other => Self::Internal(other.to_string()),
        }
    }
}
