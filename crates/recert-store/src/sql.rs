//! Building a query with a variable number of filters. sqlx's `QueryBuilder` emits `?` under
//! `Any`, which PostgreSQL rejects, so placeholders are numbered `$n` here by hand.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

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
    pub fn query(&self) -> Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
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
