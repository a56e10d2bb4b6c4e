//! What every list page shares: a sort named in the URL (`sort=name`, `sort=-name` for
//! descending), pages of a fixed size with "1–50 of 1,284", and links that keep the
//! filters (so a view can be bookmarked, shared and exported exactly as it is).

use recert_service::ServiceError;
pub use recert_service::listing::Sort;
use recert_service::listing::Window;

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
                .filter(|p| (1..=10_000_000).contains(p))
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

    /// The rows this page shows, as the service reads them.
    pub fn window(&self) -> Window {
        Window {
            offset: self.offset() as i64,
            limit: Some(self.per as i64),
        }
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

/// A list page's state in its URL: the filters, the sort and the page. Every link it
/// makes keeps the filters; a new sort goes back to the first page.
#[derive(Debug, Clone)]
pub struct List {
    /// The page's path, e.g. `/learners`.
    pub path: String,
    /// The filters that are set, in the order they are written.
    pub filters: Vec<(String, String)>,
    pub sort: Sort,
    /// The sort used when the URL names none (links leave it out).
    pub default_sort: String,
    pub paging: Paging,
    /// A fragment to land on (a list lower down a page), with its `#`, or empty.
    pub anchor: &'static str,
    /// The keys the list sorts by.
    pub keys: Vec<&'static str>,
}

impl List {
    /// Reads `sort` and `page` from the URL; `filters` are the list's filters as given
    /// (empty ones are dropped).
    pub fn new(
        path: impl Into<String>,
        filters: &[(&str, &str)],
        sort: &str,
        page: &str,
        keys: &[&'static str],
        default_sort: &str,
    ) -> Result<Self, ServiceError> {
        Ok(Self {
            path: path.into(),
            filters: filters
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            sort: Sort::parse(sort, keys, default_sort)?,
            default_sort: default_sort.to_owned(),
            paging: Paging::of(page, 0)?,
            anchor: "",
            keys: keys.to_vec(),
        })
    }

    /// Sets the total once it is known.
    pub fn total(mut self, total: i64) -> Self {
        self.paging.total = usize::try_from(total).unwrap_or(0);
        self
    }

    pub fn window(&self) -> Window {
        self.paging.window()
    }

    fn href(&self, sort: Option<&str>, extra: &[(&str, &str)]) -> String {
        format!("{}{}", self.href_bare(sort, extra), self.anchor)
    }

    fn href_bare(&self, sort: Option<&str>, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .filters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(s) = sort.filter(|s| *s != self.default_sort) {
            pairs.push(("sort", s));
        }
        pairs.extend_from_slice(extra);
        let q = query_string(&pairs);
        if q.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{q}", self.path)
        }
    }

    /// The filters alone as a query string (for other views of the same selection).
    pub fn filter_query(&self) -> String {
        let pairs: Vec<(&str, &str)> = self
            .filters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        query_string(&pairs)
    }

    /// A column heading's link: sorts by `key`, or reverses it when it is the sort.
    pub fn sort_href(&self, key: &str) -> String {
        self.href(Some(&self.sort.toggle(key)), &[])
    }

    /// `aria-sort` for a column heading.
    pub fn aria(&self, key: &str) -> &'static str {
        self.sort.aria(key)
    }

    /// The choices of the "Sort by" menu shown where the column headings are not (phones):
    /// (value, words, selected), each key both ways.
    pub fn sort_choices(&self) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        for key in &self.keys {
            let words = {
                let w = key.replace('_', " ");
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                    None => String::new(),
                }
            };
            for descending in [false, true] {
                let value = if descending {
                    format!("-{key}")
                } else {
                    (*key).to_owned()
                };
                let selected = self.sort.key == *key && self.sort.descending == descending;
                let dir = if descending {
                    "descending"
                } else {
                    "ascending"
                };
                out.push((value, format!("{words}, {dir}"), selected));
            }
        }
        out
    }

    /// The link to page `n` in the same sort.
    pub fn page_href(&self, n: usize) -> String {
        let sort = self.sort.as_param();
        let n = n.to_string();
        if n == "1" {
            self.href(Some(&sort), &[])
        } else {
            self.href(Some(&sort), &[("page", &n)])
        }
    }

    /// The export of exactly this selection in this order (`csv` or `xlsx`).
    pub fn export_href(&self, format: &str) -> String {
        let sort = self.sort.as_param();
        self.href_bare(Some(&sort), &[("format", format)])
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
    fn links_keep_filters_and_sort() {
        let l = List::new(
            "/learners",
            &[("q", "ana b"), ("group", "")],
            "-name",
            "3",
            &["name", "username"],
            "name",
        )
        .unwrap()
        .total(500);
        assert_eq!(l.sort_href("name"), "/learners?q=ana%20b");
        assert_eq!(l.sort_href("username"), "/learners?q=ana%20b&sort=username");
        assert_eq!(l.page_href(4), "/learners?q=ana%20b&sort=-name&page=4");
        assert_eq!(l.page_href(1), "/learners?q=ana%20b&sort=-name");
        assert_eq!(
            l.export_href("csv"),
            "/learners?q=ana%20b&sort=-name&format=csv"
        );
        assert_eq!(l.aria("name"), "descending");
        assert_eq!(l.window().offset, 100);
        assert!(List::new("/x", &[], "bogus", "", &["name"], "name").is_err());
    }
}
