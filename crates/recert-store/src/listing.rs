//! What every sorted list shares: a filter that knows its query, a window of it in any of
//! its sort orders, its count, and every row one at a time for exports of any size.

use crate::Result;
use crate::sql::{Order, SortKeys, Sql, Window};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// A list's filter, and the query it filters.
pub trait Listing {
    type Row: Send + 'static;
    /// `SELECT … FROM …` with its joins and no `WHERE`.
    const SELECT: &'static str;
    /// `SELECT COUNT(*) AS n FROM …` with the same joins and no `WHERE`.
    const COUNT: &'static str;
    /// The row id column: the last sort key, so no two rows tie.
    const ID: &'static str;
    /// What the list sorts by; the first key is the default.
    const SORTS: SortKeys;

    /// Appends ` AND …` conditions to a query ending in `WHERE 1 = 1`.
    fn push_filter(&self, q: &mut Sql);

    fn row(r: &AnyRow) -> Result<Self::Row>;
}

fn query<L: Listing>(l: &L, order: &Order, window: Window) -> Sql {
    let mut q = Sql::new(L::SELECT);
    q.push(" WHERE 1 = 1");
    l.push_filter(&mut q);
    q.push_order(L::SORTS, order, L::ID, window);
    q
}

/// One window of the rows `l` matches, in `order`.
pub async fn sorted<L: Listing>(
    conn: &mut AnyConnection,
    l: &L,
    order: &Order,
    window: Window,
) -> Result<Vec<L::Row>> {
    query(l, order, window)
        .query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(L::row)
        .collect()
}

/// How many rows `l` matches.
pub async fn count<L: Listing>(conn: &mut AnyConnection, l: &L) -> Result<i64> {
    let mut q = Sql::new(L::COUNT);
    q.push(" WHERE 1 = 1");
    l.push_filter(&mut q);
    let row = q.query().fetch_one(conn).await?;
    crate::rows::int(&row, "n")
}

/// Every row `l` matches, in `order`, as the database yields them (the connection is held
/// until the stream is dropped).
pub fn stream<'c, L: Listing>(
    conn: &'c mut AnyConnection,
    l: &L,
    order: &Order,
) -> BoxStream<'c, Result<L::Row>> {
    query(l, order, Window::default())
        .query()
        .fetch(conn)
        .map(|row| L::row(&row?))
        .boxed()
}
