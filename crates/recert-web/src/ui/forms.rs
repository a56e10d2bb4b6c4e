//! Submitted forms: read as name/value pairs (so no input can make extraction fail with a
//! 500), checked against the session's CSRF token, with per-field error messages for
//! re-rendering.

use super::error_page;
use super::session::Viewer;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use recert_service::ServiceError;
use std::collections::BTreeMap;

/// A form's fields in submission order (repeated names are kept: multi-selects).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The trimmed value, `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The trimmed value or "".
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// Every non-blank value given for `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The value exactly as typed (passwords: spaces are significant), or "".
    pub fn secret(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Refuses a form with a character no text may hold (the rule every edge applies),
    /// naming the field; nobody types one, so a plain page says what to correct.
    pub fn refused_chars(&self) -> Option<Response> {
        self.0.iter().find_map(|(k, v)| {
            recert_domain::names::check_text(k, v)
                .and_then(|()| recert_domain::names::check_text("field name", k))
                .err()
                .map(|e| {
                    error_page(
                        StatusCode::BAD_REQUEST,
                        "Invalid characters",
                        &format!("{e}. Go back, correct it and send the form again."),
                    )
                })
        })
    }
}

/// Parses `application/x-www-form-urlencoded` bytes leniently: bad escapes stay literal.
pub fn parse_urlencoded(body: &[u8]) -> Fields {
    Fields(
        form_urlencoded_pairs(body)
            .into_iter()
            .filter(|(k, _)| !k.is_empty())
            .collect(),
    )
}

fn decode(part: &[u8]) -> String {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < part.len() => {
                match std::str::from_utf8(&part[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(eq) => (decode(&p[..eq]), decode(&p[eq + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form posted by a signed-in viewer, its CSRF token checked.
pub struct Form {
    pub viewer: Viewer,
    pub fields: Fields,
}

/// The page for a form whose CSRF token is missing or stale.
pub fn csrf_refused() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not sent from this session (or the session changed since the page was loaded). Go back, reload the page and try again.",
    )
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
            .await
            .map_err(|_| {
                error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form too large",
                    "The form sent more data than recert accepts.",
                )
            })?;
        let fields = parse_urlencoded(&bytes);
        if let Some(refused) = fields.refused_chars() {
            return Err(refused);
        }
        match fields.get("_csrf") {
            Some(t) if same_secret(t, &viewer.session.csrf) => Ok(Self { viewer, fields }),
            _ => Err(csrf_refused()),
        }
    }
}

/// Messages to show beside form fields, keyed by the form field's name.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    pub by_field: BTreeMap<String, String>,
    /// Errors about no particular field of the form.
    pub general: Vec<String>,
}

impl FieldErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        let msg = msg.into();
        self.by_field
            .entry(field.to_owned())
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&msg);
            })
            .or_insert(msg);
    }

    /// Turns a service error into messages: validation errors go beside fields (their API
    /// names mapped to form names by `map`, unknown ones shown at the top); conflicts and
    /// refusals at the top. `None` when the error is not about the input (not found,
    /// internal): the caller shows an error page.
    pub fn from_service(e: &ServiceError, map: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let mut out = Self::default();
        match e {
            ServiceError::Validation(d) => {
                for f in &d.0 {
                    match map(&f.field) {
                        Some(name) => out.add(&name, f.message.clone()),
                        None => out.general.push(format!(
                            "{}: {}",
                            recert_service::history::field_label(&f.field),
                            f.message
                        )),
                    }
                }
            }
            ServiceError::Conflict(m) => out.general.push(m.clone()),
            _ => return None,
        }
        Some(out)
    }
}

/// The usual mapping: API field `a.b` is form field `a_b`; list entries (`items[2].code`)
/// belong to the list's field (`items`).
pub fn same_name(api: &str) -> Option<String> {
    let base = api.split('[').next().unwrap_or(api);
    Some(base.replace('.', "_"))
}

impl IntoResponse for FieldErrors {
    fn into_response(self) -> Response {
        let mut text = self.general.join("\n");
        for (k, v) in &self.by_field {
            text.push_str(&format!("\n{k}: {v}"));
        }
        error_page(StatusCode::UNPROCESSABLE_ENTITY, "Invalid input", &text)
    }
}

/// Reads a multipart form posted by a signed-in viewer, its CSRF token checked; its file
/// is the field `file_field`.
pub async fn multipart_form(
    viewer: &Viewer,
    mp: axum::extract::Multipart,
    file_field: &str,
) -> Result<(Fields, Option<recert_service::external::Upload>), Response> {
    let (fields, upload) = match crate::extract::read_multipart(mp, file_field).await {
        Ok(x) => x,
        Err(e) => return Err(super::PageError(e).into_response()),
    };
    let fields = Fields(fields);
    match fields.get("_csrf") {
        Some(t) if same_secret(t, &viewer.session.csrf) => Ok((fields, upload)),
        _ => Err(csrf_refused()),
    }
}

/// "1 unsafe part was" / "3 unsafe parts were": what a sanitizer took out of an upload, as
/// the notices after saving a template or a logo say it.
pub fn unsafe_parts_were(n: usize) -> String {
    if n == 1 {
        "1 unsafe part was".to_owned()
    } else {
        format!("{n} unsafe parts were")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_forms_decode_leniently() {
        let f = parse_urlencoded(b"a=1+2&b=%41%zz&c&d=%E2%9C%93&a=3&=x&e=%4");
        assert_eq!(f.get("a"), Some("1 2"));
        assert_eq!(f.all("a"), vec!["1 2", "3"]);
        assert_eq!(f.get("b"), Some("A%zz"));
        assert_eq!(f.get("c"), None);
        assert_eq!(f.get("d"), Some("✓"));
        assert_eq!(f.get("e"), Some("%4"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
