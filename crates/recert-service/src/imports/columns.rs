//! Which column of a file is which: recert's column names per kind of import, matched to
//! the file's header (case, spaces and hyphens ignored) or to an explicit mapping.

use super::settings::Kind;
use crate::{Result, ServiceError};
use std::collections::BTreeMap;

/// Certification records: the Docebo column set, plus a name and e-mail for learners
/// an import creates.
pub const AWARD_COLUMNS: &[&str] = &[
    "username",
    "certification_code",
    "certification_issue_date",
    "always_valid",
    "certification_expire_date",
    "course_code",
    "course_type",
    "legal_name",
    "email",
];
const AWARD_REQUIRED: &[&str] = &[
    "username",
    "certification_code",
    "certification_issue_date",
    "certification_expire_date",
];

/// People. Columns headed `attr:NAME` are attributes, `ext:SYSTEM` external ids.
pub const LEARNER_COLUMNS: &[&str] = &[
    "username",
    "legal_name",
    "email",
    "manager",
    "groups",
    "time_zone",
    "end_date",
    "active",
];
const LEARNER_REQUIRED: &[&str] = &["username"];

pub fn known(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Awards => AWARD_COLUMNS,
        Kind::Learners => LEARNER_COLUMNS,
    }
}

fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Awards => AWARD_REQUIRED,
        Kind::Learners => LEARNER_REQUIRED,
    }
}

/// A heading as compared: trimmed, lower case, spaces and hyphens as underscores.
pub fn normal(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// Where each column recert reads sits in the file's records.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// recert's column name → position.
    pub named: BTreeMap<&'static str, usize>,
    /// The file's headings, in order (for reports).
    pub headings: Vec<String>,
    /// `attr:NAME` columns (learners): attribute name → position.
    pub attributes: Vec<(String, usize)>,
    /// `ext:SYSTEM` columns (learners): system → position.
    pub external_ids: Vec<(String, usize)>,
}

impl Columns {
    /// Matches the header against recert's columns; a required column that cannot be
    /// found is a problem naming it and what the file has instead.
    pub fn resolve(
        kind: Kind,
        header: &[String],
        mapping: &BTreeMap<String, String>,
    ) -> Result<Self> {
        let normals: Vec<String> = header.iter().map(|h| normal(h)).collect();
        let mut c = Columns {
            headings: header.to_vec(),
            ..Default::default()
        };
        let mut missing = Vec::new();
        for &ours in known(kind) {
            let wanted = mapping
                .get(ours)
                .map(|t| normal(t))
                .unwrap_or_else(|| ours.to_owned());
            let alias =
                (kind == Kind::Awards && ours == "course_type" && !mapping.contains_key(ours))
                    .then_some("type");
            match normals
                .iter()
                .position(|h| *h == wanted || Some(h.as_str()) == alias)
            {
                Some(i) => {
                    c.named.insert(ours, i);
                }
                None if required(kind).contains(&ours) => missing.push(match mapping.get(ours) {
                    Some(t) => format!("{ours} (mapped to {t:?})"),
                    None => ours.to_owned(),
                }),
                None => {}
            }
        }
        if kind == Kind::Learners {
            for (i, h) in header.iter().enumerate() {
                let t = h.trim();
                if let Some(name) = t
                    .strip_prefix("attr:")
                    .or_else(|| t.strip_prefix("attribute:"))
                {
                    c.attributes.push((name.trim().to_owned(), i));
                } else if let Some(sys) = t
                    .strip_prefix("ext:")
                    .or_else(|| t.strip_prefix("external_id:"))
                {
                    c.external_ids.push((sys.trim().to_owned(), i));
                }
            }
        }
        if !missing.is_empty() {
            let found = header
                .iter()
                .map(|h| format!("{:?}", h.trim()))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ServiceError::field(
                "file",
                format!(
                    "the header has no column {} (columns found: {}); map the file's headings with the column mapping",
                    missing.join(", "),
                    if found.is_empty() {
                        "none".to_owned()
                    } else {
                        found
                    }
                ),
            ));
        }
        Ok(c)
    }

    /// The cell of recert's column `name` in a row, trimmed; `Ok(None)` when the file
    /// has no such column, `Err` when its bytes are not text in the file's charset.
    pub(crate) fn cell<'r>(
        &self,
        row: &'r super::reader::Row,
        name: &str,
    ) -> std::result::Result<Option<&'r str>, &'static str> {
        match self.named.get(name) {
            None => Ok(None),
            Some(&i) => row.get(i).map(|s| Some(s.trim())),
        }
    }

    /// The file's heading of recert's column `ours` (for reports).
    pub fn heading(&self, ours: &str) -> String {
        self.named
            .get(ours)
            .and_then(|&i| self.headings.get(i))
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|| ours.to_owned())
    }
}
