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
