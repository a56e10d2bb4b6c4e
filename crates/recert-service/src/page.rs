//! Cursor pagination: the cursor is opaque to clients (it encodes the last row seen).

use crate::ServiceError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// One page of a collection: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page with nothing on it (the caller may see nothing here).
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
        }
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: i64,
    pub limit: i64,
}

impl PageRequest {
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> Result<Self, ServiceError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(ServiceError::field(
                    "limit",
                    format!("must be from 1 to {MAX_LIMIT}"),
                ));
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => decode(c).ok_or_else(|| {
                ServiceError::field(
                    "cursor",
                    "is not a cursor this server issued; pass next_cursor unchanged",
                )
            })?,
        };
        Ok(Self { after, limit })
    }

    /// Builds the page from up to `limit + 1` rows fetched (the extra row says "more").
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> i64,
        view: impl FnMut(R) -> Result<T, ServiceError>,
    ) -> Result<Page<T>, ServiceError> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(key(r)))
        } else {
            None
        };
        let items = rows.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// How many rows to fetch.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

fn encode(id: i64) -> String {
    format!("c{id:x}")
}

fn decode(s: &str) -> Option<i64> {
    let hex = s.strip_prefix('c')?;
    i64::from_str_radix(hex, 16).ok().filter(|n| *n >= 0)
}
