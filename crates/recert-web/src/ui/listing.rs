//! What every list page shares: a sort named in the URL (`sort=name`, `sort=-name` for
//! descending), pages of a fixed size with "1–50 of 1,284", and query strings that keep
//! the filters (so a view can be bookmarked, shared and exported as it is).

use recert_service::ServiceError;

/// Rows per page.
pub const PER_PAGE: usize = 50;

/// A query string from pairs, each part percent-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::session::urlencode(k),
                super::session::urlencode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The sort asked for: one of the list's keys, ascending unless prefixed with `-`.
#[derive(Debug, Clone)]
pub struct Sort {
    pub key: &'static str,
    pub descending: bool,
    /// As written in the URL (empty = the list's default).
    pub raw: String,
}

impl Sort {
    /// `keys[0]` is the default.
    pub fn parse(raw: &str, keys: &[&'static str]) -> Result<Self, ServiceError> {
        let raw = raw.trim();
        let (descending, name) = match raw.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, raw),
        };
        let key = if name.is_empty() {
            keys[0]
        } else {
            keys.iter().copied().find(|k| *k == name).ok_or_else(|| {
                ServiceError::field("sort", format!("Sort by one of: {}", keys.join(", ")))
            })?
        };
        Ok(Self {
            key,
            descending,
            raw: raw.to_owned(),
        })
    }

    /// The `sort` value a column heading links to: this key, flipped when it is the
    /// current one.
    pub fn toggle(&self, key: &str) -> String {
        if self.key == key && !self.descending {
            format!("-{key}")
        } else {
            key.to_owned()
        }
    }

    /// `aria-sort` for a column heading.
    pub fn aria(&self, key: &str) -> &'static str {
        match (self.key == key, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }
}

/// One page of a list of `total` rows.
#[derive(Debug, Clone)]
pub struct Paging {
    /// 1-based.
    pub page: usize,
    pub per: usize,
    pub total: usize,
}

impl Paging {
    pub fn of(raw: &str, total: usize) -> Result<Self, ServiceError> {
        let page = match raw.trim() {
            "" => 1,
            s => s
                .parse::<usize>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| ServiceError::field("page", "Enter a page number from 1"))?,
        };
        Ok(Self {
            page,
            per: PER_PAGE,
            total,
        })
    }

    pub fn offset(&self) -> usize {
        (self.page - 1) * self.per
    }

    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per).max(1)
    }

    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    pub fn prev(&self) -> usize {
        self.page.saturating_sub(1).max(1)
    }

    pub fn next(&self) -> usize {
        self.page + 1
    }

    /// "1–50 of 1,284", or "None" when empty.
    pub fn summary(&self) -> String {
        if self.total == 0 {
            return "None".into();
        }
        let from = self.offset() + 1;
        let to = (self.offset() + self.per).min(self.total);
        let n = |x: usize| super::reports::thousands(x as i64);
        if from > self.total {
            format!("Page {} of {} — past the end", self.page, self.pages())
        } else {
            format!("{}–{} of {}", n(from), n(to), n(self.total))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let p = Paging::of("", 1284).unwrap();
        assert_eq!(p.summary(), "1–50 of 1,284");
        let p = Paging::of("26", 1284).unwrap();
        assert_eq!(p.summary(), "1,251–1,284 of 1,284");
        assert!(!p.has_next());
        assert!(Paging::of("0", 3).is_err());
        assert!(Paging::of("x", 3).is_err());
    }

    #[test]
    fn sorts() {
        let s = Sort::parse("-name", &["urgency", "name"]).unwrap();
        assert!(s.descending);
        assert_eq!(s.key, "name");
        assert_eq!(s.toggle("name"), "name");
        assert_eq!(
            Sort::parse("", &["urgency", "name"]).unwrap().key,
            "urgency"
        );
        assert!(Sort::parse("bogus", &["urgency"]).is_err());
    }
}
