//! How the store writes SQL: [`q`] for a statement, [`Sql`] for one with a variable number
//! of filters (sqlx's `QueryBuilder` emits `?` under `Any`, which PostgreSQL rejects, so
//! placeholders are numbered `$n` here by hand).
//!
//! Every value is bound through [`Bind`], which only the types that bind the same way on
//! SQLite and PostgreSQL implement. A number with a fraction is bound as a [`Real`] (text,
//! cast in the SQL): sqlx's `Any` driver binds a NULL `f64` as PostgreSQL `float4`, and a
//! statement cached after that NULL then fails on the first real value. Binding an `f64`
//! or `Option<f64>` does not compile, and clippy refuses `sqlx::query` in this crate
//! outside this module, so the hazard cannot come back by forgetting.

#![allow(clippy::disallowed_methods)] // the one place that calls sqlx::query

use futures_util::stream::BoxStream;
use sqlx::any::AnyArguments;
use sqlx::any::AnyRow;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

/// A nullable number bound as text for a placeholder written `CAST($n AS DOUBLE
/// PRECISION)`: text has one type whether NULL or not, and Rust prints `f64` exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Real(pub Option<f64>);

/// A value the store may bind: the same SQL type on both databases, NULL or not.
///
/// A bare number with a fraction does not compile; it goes through [`Real`]:
///
/// ```compile_fail
/// let _ = recert_store::sql::q("UPDATE awards SET score = $1").bind(Some(0.9_f64));
/// ```
///
/// ```
/// use recert_store::sql::{Real, q};
/// let _ = q("UPDATE awards SET score = CAST($1 AS DOUBLE PRECISION)").bind(Real(Some(0.9)));
/// ```
pub trait Bind<'q> {
    fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments>;
}

macro_rules! binds_as_is {
    ($($t:ty),* $(,)?) => {$(
        impl<'q> Bind<'q> for $t {
            fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments> {
                q.bind(self)
            }
        }
    )*};
}

binds_as_is!(
    i64,
    Option<i64>,
    String,
    Option<String>,
    &'q str,
    Option<&'q str>,
    Vec<u8>,
    Option<Vec<u8>>,
);

impl<'q> Bind<'q> for &'q String {
    fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments> {
        q.bind(self.as_str())
    }
}

impl<'q> Bind<'q> for &'q Option<String> {
    fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments> {
        q.bind(self.as_deref())
    }
}

impl<'q> Bind<'q> for &'q [u8] {
    fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments> {
        q.bind(self.to_vec())
    }
}

impl<'q> Bind<'q> for Real {
    fn bind_to(self, q: Query<'q, Any, AnyArguments>) -> Query<'q, Any, AnyArguments> {
        q.bind(self.0.map(|x| x.to_string()))
    }
}

/// A statement with its bound values (see the module's note on what may be bound).
#[must_use = "a statement does nothing until it is executed"]
pub struct Q<'q>(Query<'q, Any, AnyArguments>);

/// A statement written in the code.
pub fn q(sql: &'static str) -> Q<'static> {
    Q(sqlx::query(sql))
}

/// A statement assembled from this crate's constants and numbered placeholders, never
/// from input, which is what makes asserting it safe.
pub fn q_assembled<'q>(sql: String) -> Q<'q> {
    Q(sqlx::query(sqlx::AssertSqlSafe(sql)))
}

impl<'q> Q<'q> {
    pub fn bind(self, v: impl Bind<'q>) -> Self {
        Q(v.bind_to(self.0))
    }

    pub async fn execute(
        self,
        conn: &mut AnyConnection,
    ) -> sqlx::Result<sqlx::any::AnyQueryResult> {
        self.0.execute(conn).await
    }

    pub async fn fetch_one(self, conn: &mut AnyConnection) -> sqlx::Result<AnyRow> {
        self.0.fetch_one(conn).await
    }

    pub async fn fetch_optional(self, conn: &mut AnyConnection) -> sqlx::Result<Option<AnyRow>> {
        self.0.fetch_optional(conn).await
    }

    pub async fn fetch_all(self, conn: &mut AnyConnection) -> sqlx::Result<Vec<AnyRow>> {
        self.0.fetch_all(conn).await
    }

    /// The rows one by one as the database yields them, holding the connection until the
    /// stream is dropped: what lets an export of any size run in constant memory.
    pub fn fetch(self, conn: &mut AnyConnection) -> BoxStream<'_, sqlx::Result<AnyRow>>
    where
        'q: 'static,
    {
        self.0.fetch(conn)
    }
}

/// The SQL expression behind each sort key a listing offers (keys are what URLs and the
/// service name; the first is the listing's default).
pub type SortKeys = &'static [(&'static str, &'static str)];

/// A listing's order: one of its sort keys, ascending or descending. Ties are broken by
/// the row id in the same direction, so pages never overlap or skip a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub key: String,
    pub descending: bool,
}

impl Order {
    pub fn asc(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            descending: false,
        }
    }

    pub fn desc(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            descending: true,
        }
    }
}

/// Which rows of an ordered listing: `offset` skipped, then at most `limit`; every row
/// (offset ignored) when `limit` is `None`, as exports read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub offset: i64,
    pub limit: Option<i64>,
}

/// A bound value.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text plus its arguments, numbered in order.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends `(…)` holding one placeholder per id, for `… IN (…)`.
    pub fn push_in_list(&mut self, ids: &[i64]) -> &mut Self {
        let placeholders: Vec<String> = ids.iter().map(|id| self.arg(Arg::Int(*id))).collect();
        self.text.push('(');
        self.text.push_str(&placeholders.join(","));
        self.text.push(')');
        self
    }

    /// Adds an argument and returns its placeholder (`$n`) for use in the text.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// `ORDER BY` the order's expression (a key not in `keys` means the default), empty
    /// values last in either direction (SQLite and PostgreSQL place NULLs differently
    /// otherwise), then `id_col`; then the window.
    pub fn push_order(&mut self, keys: SortKeys, order: &Order, id_col: &str, window: Window) {
        let expr = keys
            .iter()
            .find(|(k, _)| *k == order.key)
            .or(keys.first())
            .map(|(_, e)| *e)
            .unwrap_or(id_col);
        let dir = if order.descending { "DESC" } else { "ASC" };
        self.push(&format!(
            " ORDER BY ({expr}) IS NULL, {expr} {dir}, {id_col} {dir}"
        ));
        // SQLite takes OFFSET only after a LIMIT, and the two engines spell "no limit"
        // differently, so a window without a limit reads from the start (exports do).
        if let Some(l) = window.limit {
            let p = self.arg(Arg::Int(l));
            let o = self.arg(Arg::Int(window.offset.max(0)));
            self.push(&format!(" LIMIT {p} OFFSET {o}"));
        }
    }

    /// The query, ready to run. The text is assembled only from this crate's constants and
    /// numbered placeholders, never from input, which is what makes asserting it safe.
    pub fn query(&self) -> Q<'static> {
        let mut q = q_assembled(self.text.clone());
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// A `LIKE … ESCAPE '\'` pattern matching lower-cased text that contains `text`
/// literally (`%`, `_` and `\` escaped).
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(&text.to_lowercase()))
}

/// Escapes `%`, `_` and `\` so text matches literally inside a LIKE pattern.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Limits a listing to the records a caller may see (the service's policy decides which).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Within {
    #[default]
    All,
    /// Records about these programs only (learner listings are not limited by it).
    Programs(Vec<i64>),
    /// This learner and the learners they manage.
    Team(i64),
    /// This learner only.
    Learner(i64),
}

impl Within {
    /// Appends the condition for a row whose learner id is `learner_col` (and whose program
    /// id is `program_col`, when the row has one).
    pub fn push(&self, q: &mut Sql, learner_col: &str, program_col: Option<&str>) {
        match self {
            Self::All => {}
            Self::Programs(ids) if ids.is_empty() && program_col.is_some() => {
                q.push(" AND 1 = 0");
            }
            Self::Programs(ids) => {
                if let Some(col) = program_col {
                    q.push(&format!(" AND {col} IN "));
                    q.push_in_list(ids);
                }
            }
            Self::Team(me) => {
                let p = q.arg(Arg::Int(*me));
                q.push(&format!(
                    " AND ({learner_col} = {p} OR {learner_col} IN (SELECT id FROM learners WHERE manager_id = {p}))"
                ));
            }
            Self::Learner(me) => {
                let p = q.arg(Arg::Int(*me));
                q.push(&format!(" AND {learner_col} = {p}"));
            }
        }
    }
}
