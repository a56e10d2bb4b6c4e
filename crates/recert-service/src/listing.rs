//! What every sorted list shares, in the pages and their exports alike: a sort named by
//! one of the list's keys (`name`, or `-name` for descending), a window of rows, and the
//! total that matches the filters.

use crate::exports::{Cell, Download, Format, download};
use crate::{Result, Service, ServiceError};
use futures_util::TryStreamExt;
use recert_store::listing::{self as store, Listing};
pub use recert_store::sql::Window;
use recert_store::sql::{Order, SortKeys};

/// The sort asked for: one of a list's keys, ascending unless prefixed with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub key: &'static str,
    pub descending: bool,
}

impl Sort {
    /// Parses `raw` against the list's keys; empty means `default` (itself written like a
    /// sort, e.g. `-at` for newest first).
    pub fn parse(raw: &str, keys: &[&'static str], default: &str) -> Result<Self> {
        let raw = match raw.trim() {
            "" => default,
            s => s,
        };
        let (descending, name) = match raw.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, raw),
        };
        let key = keys.iter().copied().find(|k| *k == name).ok_or_else(|| {
            ServiceError::field("sort", format!("Sort by one of: {}", keys.join(", ")))
        })?;
        Ok(Self { key, descending })
    }

    /// As the store reads it.
    pub fn order(&self) -> Order {
        Order {
            key: self.key.to_owned(),
            descending: self.descending,
        }
    }

    /// As written in a URL.
    pub fn as_param(&self) -> String {
        if self.descending {
            format!("-{}", self.key)
        } else {
            self.key.to_owned()
        }
    }

    /// The `sort` value a column heading links to: this key ascending, or descending when
    /// it is already the ascending sort.
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

/// The names of a store listing's sort keys.
pub fn names(keys: SortKeys) -> Vec<&'static str> {
    keys.iter().map(|(k, _)| *k).collect()
}

/// What each list sorts by (names as written in URLs; the first is a fine default).
pub mod keys {
    use super::names;
    use recert_store::listing::Listing;

    pub fn learners() -> Vec<&'static str> {
        names(recert_store::learners::Filter::SORTS)
    }

    pub fn awards() -> Vec<&'static str> {
        names(recert_store::awards::On::SORTS)
    }

    pub fn audit() -> Vec<&'static str> {
        names(recert_store::audit::Search::SORTS)
    }

    pub fn external() -> Vec<&'static str> {
        names(recert_store::external::Filter::SORTS)
    }

    pub fn signoffs() -> Vec<&'static str> {
        names(recert_store::signoffs::Filter::SORTS)
    }

    pub fn outbox() -> Vec<&'static str> {
        names(recert_store::notices::OutboxFilter::SORTS)
    }

    pub fn credits() -> Vec<&'static str> {
        names(recert_store::credits::Filter::SORTS)
    }

    pub fn completions() -> Vec<&'static str> {
        names(recert_store::completions::Filter::SORTS)
    }
}

/// What an export is called and holds: the file's name (no extension), the sheet's title
/// and the column headings.
pub(crate) struct Sheet {
    pub stem: String,
    pub title: String,
    pub headers: &'static [&'static str],
}

impl Service {
    /// One window of what `l` matches, in the order asked, each row turned into what the
    /// caller shows, with the total that matches.
    pub(crate) async fn listed<L: Listing, T>(
        &self,
        l: &L,
        sort: &Sort,
        window: Window,
        view: impl FnMut(L::Row) -> Result<T>,
    ) -> Result<Listed<T>> {
        let mut conn = self.store.read().await?;
        let total = store::count(&mut conn, l).await?;
        let items = store::sorted(&mut conn, l, &sort.order(), window)
            .await?
            .into_iter()
            .map(view)
            .collect::<Result<Vec<_>>>()?;
        Ok(Listed { items, total })
    }

    /// Every row `l` matches (none when `None`: the caller may see none), in the order
    /// asked, as a CSV or XLSX file written while the rows are read.
    pub(crate) fn export<L, F>(
        &self,
        l: Option<L>,
        sort: &Sort,
        format: Format,
        sheet: Sheet,
        mut cells: F,
    ) -> Result<Download>
    where
        L: Listing + Send + 'static,
        F: FnMut(L::Row) -> Result<Vec<Cell>> + Send + 'static,
    {
        let db = self.store.clone();
        let order = sort.order();
        download(
            format,
            sheet.stem,
            &sheet.title,
            sheet.headers,
            move |mut sink| async move {
                let Some(l) = l else {
                    return Ok(sink);
                };
                let mut conn = db.read().await?;
                let mut rows = store::stream(&mut conn, &l, &order);
                while let Some(row) = rows.try_next().await? {
                    sink.push(&cells(row)?).await?;
                }
                Ok(sink)
            },
        )
    }
}

/// One window of a list and how many rows match in all.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Listed<T> {
    /// Nothing (the caller may see nothing here).
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            total: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts() {
        let s = Sort::parse("-name", &["urgency", "name"], "urgency").unwrap();
        assert!(s.descending);
        assert_eq!(s.key, "name");
        assert_eq!(s.toggle("name"), "name");
        assert_eq!(s.as_param(), "-name");
        let d = Sort::parse("", &["at", "actor"], "-at").unwrap();
        assert_eq!((d.key, d.descending), ("at", true));
        assert_eq!(d.toggle("at"), "at");
        let e = Sort::parse("bogus", &["urgency"], "urgency").unwrap_err();
        assert!(e.to_string().contains("urgency"), "{e}");
    }
}
