//! Layered settings (lowest to highest): built-in defaults, a TOML file (`recert.toml` in
//! the data directory, or `--config PATH`), `RECERT_*` environment variables, command-line
//! flags. One declarative table names every setting once — its key, variable, flag,
//! default and whether it is a secret — and `recert config show` prints the effective
//! values with where each came from.

use anyhow::{Context, Result, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use std::path::{Path, PathBuf};

/// One setting: the TOML key, which is also the clap argument id and (upper-cased,
/// prefixed) the environment variable.
pub struct Spec {
    pub key: &'static str,
    pub default: Option<&'static str>,
    /// Shown masked (a database URL's password).
    pub secret: bool,
    pub doc: &'static str,
}

/// Every setting, in the order `config show` prints them.
pub const SETTINGS: &[Spec] = &[
    Spec {
        key: "data_dir",
        default: Some("./recert-data"),
        secret: false,
        doc: "directory of the embedded SQLite database (recert.db) and recert.toml",
    },
    Spec {
        key: "database_url",
        default: None,
        secret: true,
        doc: "sqlite://PATH or postgres://USER:PASSWORD@HOST/DB (overrides data_dir)",
    },
    Spec {
        key: "org_name",
        default: Some("Northwind Industrial"),
        secret: false,
        doc: "name of the organization a fresh installation creates",
    },
    Spec {
        key: "time_zone",
        default: Some("UTC"),
        secret: false,
        doc: "IANA time zone of that organization",
    },
    Spec {
        key: "bind",
        default: Some("127.0.0.1:8080"),
        secret: false,
        doc: "address serve listens on",
    },
    Spec {
        key: "key_encryption_key",
        default: None,
        secret: true,
        doc: "32 bytes in base64 that seal the organizations' signing keys; when unset, one is generated once into <data_dir>/key-encryption-key (mode 0600)",
    },
    Spec {
        key: "base_url",
        default: None,
        secret: false,
        doc: "public URL that links start with (default http://<bind address>)",
    },
    Spec {
        key: "demo",
        default: Some("false"),
        secret: false,
        doc: "seed the demo organization and print demo accounts (serve)",
    },
    Spec {
        key: "test_clock",
        default: Some("false"),
        secret: false,
        doc: "take now from the test clock in the database, not the system clock (serve)",
    },
    Spec {
        key: "smtp_url",
        default: None,
        secret: true,
        doc: "mail server for notices: smtp://[user:pass@]host:port, smtps://… (serve)",
    },
    Spec {
        key: "mail_from",
        default: Some("recert <recert@localhost>"),
        secret: false,
        doc: "sender of every message, \"Name <address>\" (serve)",
    },
    Spec {
        key: "trusted_proxies",
        default: None,
        secret: false,
        doc: "reverse proxies (IPs or networks, comma-separated) whose Forwarded / X-Forwarded-For name the client, for rate limits and the audit trail (serve)",
    },
    Spec {
        key: "scheduler_interval",
        default: Some("60"),
        secret: false,
        doc: "seconds between scheduler passes: reminders, then delivery (serve)",
    },
    Spec {
        key: "import_batch_rows",
        default: Some("50000"),
        secret: false,
        doc: "rows an import writes per transaction: fewer commit sooner and hold the write lock less, more import faster (serve)",
    },
    Spec {
        key: "log",
        default: Some("info,sqlx=warn"),
        secret: false,
        doc: "log filter (tracing EnvFilter syntax)",
    },
];

/// The environment variable of a key.
pub fn env_of(key: &str) -> String {
    format!("RECERT_{}", key.to_ascii_uppercase())
}

/// The flag of a key.
pub fn flag_of(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env,
    Flag,
}

/// One effective setting.
#[derive(Debug, Clone)]
pub struct Value {
    pub key: &'static str,
    pub value: Option<String>,
    pub source: Source,
    pub secret: bool,
}

/// The effective settings of one command.
#[derive(Debug, Clone)]
pub struct Config {
    pub values: Vec<Value>,
    /// The TOML file read, if one was.
    pub file: Option<PathBuf>,
    /// Keys of the file that are not settings (warned about).
    pub unknown: Vec<String>,
}

impl Config {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|v| v.key == key)
            .and_then(|v| v.value.as_deref())
    }

    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or_default().to_owned()
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "yes" | "on"))
    }

    /// The database URL: the explicit one, or SQLite in the data directory (created).
    pub fn database_url(&self) -> Result<String> {
        if let Some(u) = self.get("database_url") {
            return Ok(u.to_owned());
        }
        let dir = PathBuf::from(self.text("data_dir"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        Ok(format!("sqlite://{}", dir.join("recert.db").display()))
    }

    /// The settings as `config show` prints them: key, value (secrets masked), source.
    pub fn show(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.file {
            out.push_str(&format!("# settings file: {}\n", f.display()));
        } else {
            out.push_str(
                "# settings file: none (recert.toml in the data directory, or --config PATH)\n",
            );
        }
        for k in &self.unknown {
            out.push_str(&format!(
                "# ignored unknown key in the settings file: {k}\n"
            ));
        }
        for (v, spec) in self.values.iter().zip(SETTINGS) {
            let shown = match (&v.value, v.secret) {
                (None, _) => "(not set)".to_owned(),
                (Some(s), true) => mask(s),
                (Some(s), false) => s.clone(),
            };
            let from = match &v.source {
                Source::Default => "default".to_owned(),
                Source::File(p) => format!("file {}", p.display()),
                Source::Env => format!("env {}", env_of(v.key)),
                Source::Flag => format!("flag {}", flag_of(v.key)),
            };
            out.push_str(&format!(
                "{:<13} = {:<40} # {from}: {}\n",
                v.key, shown, spec.doc
            ));
        }
        out
    }
}

/// A database URL with its password hidden; other secrets entirely.
pub fn mask(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let creds = &s[start + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &s[..start + 3], &s[at..]),
                None => s.to_owned(),
            }
        }
        (Some(_), _) => s.to_owned(),
        _ => "***".to_owned(),
    }
}

/// The matches of the subcommand that runs (the leaf of the command tree).
fn leaf(m: &ArgMatches) -> &ArgMatches {
    match m.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => m,
    }
}

/// A value from the command line or the environment, as clap parsed it.
fn from_cli(m: &ArgMatches, key: &str) -> Option<(String, Source)> {
    // Commands take only the settings they use (`token` has no `--bind`).
    m.try_contains_id(key).ok()?;
    let source = match m.value_source(key)? {
        ValueSource::CommandLine => Source::Flag,
        ValueSource::EnvVariable => Source::Env,
        _ => return None,
    };
    if let Ok(Some(v)) = m.try_get_one::<String>(key) {
        return Some((v.clone(), source));
    }
    if let Ok(Some(v)) = m.try_get_one::<PathBuf>(key) {
        return Some((v.display().to_string(), source));
    }
    if let Ok(Some(v)) = m.try_get_one::<bool>(key) {
        return Some((v.to_string(), source));
    }
    None
}

/// Reads the settings file, if there is one: `--config PATH` (which must exist), else
/// `recert.toml` in the data directory when present.
fn read_file(path: &Path, required: bool) -> Result<Option<toml::Table>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.parse::<toml::Table>().with_context(|| {
            format!("reading the settings file {}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the settings file {}", path.display())),
    }
}

fn file_value(table: &toml::Table, key: &str, path: &Path) -> Result<Option<String>> {
    Ok(match table.get(key) {
        None => None,
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Boolean(b)) => Some(b.to_string()),
        Some(toml::Value::Integer(i)) => Some(i.to_string()),
        Some(other) => bail!(
            "{}: {key} must be a string, not {}",
            path.display(),
            other.type_str()
        ),
    })
}

/// The effective settings for the command `matches` ran.
pub fn resolve(matches: &ArgMatches) -> Result<Config> {
    let m = leaf(matches);
    let cli: Vec<(&'static str, Option<(String, Source)>)> = SETTINGS
        .iter()
        .map(|s| (s.key, from_cli(m, s.key)))
        .collect();
    let cli_value = |key: &str| {
        cli.iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.clone())
    };
    let explicit = from_cli(m, "config").map(|(p, _)| PathBuf::from(p));
    let (path, required) = match explicit {
        Some(p) => (p, true),
        None => {
            let dir = cli_value("data_dir")
                .map(|(v, _)| v)
                .unwrap_or_else(|| "./recert-data".to_owned());
            (Path::new(&dir).join("recert.toml"), false)
        }
    };
    let table = read_file(&path, required)?;
    let mut values = Vec::with_capacity(SETTINGS.len());
    for spec in SETTINGS {
        let (value, source) = match cli_value(spec.key) {
            Some((v, s)) => (Some(v), s),
            None => match table
                .as_ref()
                .map(|t| file_value(t, spec.key, &path))
                .transpose()?
                .flatten()
            {
                Some(v) => (Some(v), Source::File(path.clone())),
                None => (spec.default.map(str::to_owned), Source::Default),
            },
        };
        values.push(Value {
            key: spec.key,
            value,
            source,
            secret: spec.secret,
        });
    }
    let unknown = table
        .as_ref()
        .map(|t| {
            t.keys()
                .filter(|k| !SETTINGS.iter().any(|s| s.key == k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Ok(Config {
        values,
        file: table.map(|_| path),
        unknown,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn database_passwords_are_masked() {
        assert_eq!(
            mask("postgres://app:s3cret@db.example/recert"),
            "postgres://app:***@db.example/recert"
        );
        assert_eq!(
            mask("postgres://app@db.example/recert"),
            "postgres://app@db.example/recert"
        );
        assert_eq!(mask("plain-secret"), "***");
    }

    #[test]
    fn every_key_has_a_variable_and_a_flag() {
        for s in SETTINGS {
            assert!(env_of(s.key).starts_with("RECERT_"));
            assert!(flag_of(s.key).starts_with("--"));
            assert!(!s.doc.is_empty());
        }
        assert_eq!(env_of("smtp_url"), "RECERT_SMTP_URL");
        assert_eq!(flag_of("smtp_url"), "--smtp-url");
    }
}
