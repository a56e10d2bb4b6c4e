//! recert's rules and types. No I/O, no clock, no database: time comes in as an argument.
//!
//! The modules mirror SPEC §2 and §3: [`dates`] (§3.1), [`status`] (§3.2), and one module
//! per concept.

pub mod award;
pub mod certificate_id;
pub mod credits;
pub mod dates;
pub mod earning;
pub mod error;
pub mod group;
pub mod learner;
pub mod messages;
pub mod names;
pub mod notices;
pub mod organization;
pub mod program;
pub mod renewal;
pub mod status;
pub mod xapi;

pub use award::{Association, Award, Cycle, Revocation};
pub use certificate_id::CertificateId;
pub use dates::{Validity, ValidityUnit};
pub use error::{DomainError, FieldError};
pub use group::{Group, GroupKind};
pub use learner::Learner;
pub use names::{Code, Username};
pub use organization::Organization;
pub use program::{CreditsRequired, Pathway, Program, ProgramItem, RenewalAnchor};
pub use status::{Status, status_on};

/// Calendar dates and instants, re-exported so upper layers name one type.
pub use jiff::{Timestamp, civil::Date};
