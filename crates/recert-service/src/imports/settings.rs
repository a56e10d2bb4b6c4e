//! What an import is asked to do: the file's shape (separator, charset, which column is
//! which) and the choices about its rows (dry run, duplicates, unknown learners). The API
//! form, the web form and the CLI flags all arrive here as text and are checked here.

use crate::Result;
use recert_domain::error::Errors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Certification records (the Docebo column set).
    Awards,
    /// People: learners with manager, groups, attributes and external ids.
    Learners,
}

impl Kind {
    pub const ALL: &[&str] = &["awards", "learners"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Awards => "awards",
            Self::Learners => "learners",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "awards" => Some(Self::Awards),
            "learners" => Some(Self::Learners),
            _ => None,
        }
    }
}

/// The file's character set. `Auto` reads a byte-order mark, else takes UTF-8 when the
/// start of the file is valid UTF-8 and Windows-1252 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Charset {
    Auto,
    Utf8,
    Utf16le,
    Utf16be,
    /// Windows-1252, which is also what ISO-8859-1 files are read as (as browsers do).
    Windows1252,
}

impl Charset {
    pub const ALL: &[&str] = &[
        "auto",
        "utf-8",
        "utf-16",
        "utf-16le",
        "utf-16be",
        "windows-1252",
        "iso-8859-1",
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(Self::Auto),
            "utf-8" | "utf8" => Some(Self::Utf8),
            // Without a byte-order mark, UTF-16 is read little-endian (as Windows writes it).
            "utf-16" | "utf16" | "utf-16le" | "utf16le" => Some(Self::Utf16le),
            "utf-16be" | "utf16be" => Some(Self::Utf16be),
            "windows-1252" | "cp1252" | "iso-8859-1" | "latin1" | "latin-1" | "iso8859-1" => {
                Some(Self::Windows1252)
            }
            _ => None,
        }
    }
}

/// Checked settings, as stored with the job and recorded in its audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub kind: Kind,
    pub dry_run: bool,
    /// `None`: detected from the header line.
    pub separator: Option<char>,
    pub charset: Charset,
    pub keep_last_duplicate: bool,
    pub create_learners: bool,
    /// recert's column name → the file's column heading, for files of another shape.
    pub mapping: BTreeMap<String, String>,
}

/// The settings as given (form fields, CLI flags): text, checked by [`ImportForm::check`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportForm {
    /// `awards` (default) or `learners`.
    pub kind: Option<String>,
    /// `true` reports what the import would do and changes nothing.
    pub dry_run: Option<String>,
    /// `,` `;` `|` `tab`, or empty to detect it from the header line.
    pub separator: Option<String>,
    /// `auto` (default), `utf-8`, `utf-16`, `utf-16le`, `utf-16be`, `windows-1252`, `iso-8859-1`.
    pub charset: Option<String>,
    pub keep_last_duplicate: Option<String>,
    /// Create learners the file names that do not exist yet (default true).
    pub create_learners: Option<String>,
    /// JSON object: recert's column name → the file's heading.
    pub mapping: Option<String>,
}

fn flag(e: &mut Errors, field: &str, raw: Option<&str>, default: bool) -> bool {
    match raw.map(str::trim) {
        None | Some("") => default,
        Some(s) => super::yes_no(s).unwrap_or_else(|| {
            e.add(field, "must be true or false");
            default
        }),
    }
}

impl ImportForm {
    pub fn check(&self) -> Result<Settings> {
        let mut e = Errors::new();
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => Kind::Awards,
            Some(k) => Kind::parse(k).unwrap_or_else(|| {
                e.add("kind", "must be awards or learners");
                Kind::Awards
            }),
        };
        let separator = match self.separator.as_deref() {
            None | Some("") => None,
            Some(s) => match s {
                "," | ";" | "|" | "\t" => s.chars().next(),
                _ if s.eq_ignore_ascii_case("tab") => Some('\t'),
                _ if s.trim().eq_ignore_ascii_case("auto") => None,
                _ => {
                    e.add(
                        "separator",
                        "must be one of , ; | or tab (or empty to detect it)",
                    );
                    None
                }
            },
        };
        let charset = Charset::parse(self.charset.as_deref().unwrap_or("")).unwrap_or_else(|| {
            e.add(
                "charset",
                "must be one of auto, utf-8, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1",
            );
            Charset::Auto
        });
        let dry_run = flag(&mut e, "dry_run", self.dry_run.as_deref(), false);
        let keep_last_duplicate = flag(
            &mut e,
            "keep_last_duplicate",
            self.keep_last_duplicate.as_deref(),
            false,
        );
        let create_learners = flag(
            &mut e,
            "create_learners",
            self.create_learners.as_deref(),
            true,
        );
        let mut mapping = BTreeMap::new();
        if let Some(raw) = self.mapping.as_deref().filter(|s| !s.trim().is_empty()) {
            match serde_json::from_str::<BTreeMap<String, String>>(raw) {
                Ok(m) => {
                    let known = super::columns::known(kind);
                    for (ours, theirs) in m {
                        let ours = ours.trim().to_ascii_lowercase();
                        if !known.contains(&ours.as_str()) {
                            e.add(
                                "mapping",
                                format!(
                                    "{ours:?} is not a column recert reads for {}: use one of {}",
                                    kind.as_str(),
                                    known.join(", ")
                                ),
                            );
                        } else if theirs.trim().is_empty() {
                            e.add("mapping", format!("{ours:?} maps to an empty heading"));
                        } else {
                            mapping.insert(ours, theirs.trim().to_owned());
                        }
                    }
                }
                Err(_) => e.add(
                    "mapping",
                    "must be a JSON object of text, e.g. {\"username\": \"Login\"}",
                ),
            }
        }
        e.finish()?;
        Ok(Settings {
            kind,
            dry_run,
            separator,
            charset,
            keep_last_duplicate,
            create_learners,
            mapping,
        })
    }
}
