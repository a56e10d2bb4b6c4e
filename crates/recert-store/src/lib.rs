//! recert's one persistence API. One `AnyPool` and portable SQL (`$1…$n` placeholders,
//! dates as TEXT, instants as BIGINT epoch ms) serve SQLite and PostgreSQL; where the two
//! differ, both versions sit side by side in the one function that needs them.
//!
//! Every write runs in a [`WriteTx`]: it serializes with other writers on the audit chain's
//! head, and the change, its audit event and (later) its outbox rows commit together.

pub mod audit;
pub mod awards;
pub mod completions;
pub mod compliance;
pub mod credits;
pub mod external;
pub mod group_awards;
pub mod groups;
pub mod idempotency;
pub mod imports;
pub mod learners;
pub mod listing;
pub mod lms;
pub mod notices;
pub mod organizations;
pub mod programs;
mod rows;
pub mod sessions;
pub mod signing_keys;
pub mod signoffs;
pub mod sql;
pub mod templates;
pub mod test_clock;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod webhooks;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, pool::PoolConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use sqlx::AnyConnection as Conn;

/// A pooled connection for reads (see [`Store::read`]).
pub type ReadConn = PoolConnection<Any>;

/// What can go wrong below the service layer; few and meaningful.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule refused the write; `constraint` names which.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A stored value that cannot be read back (a bug or a hand-edited database).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                StoreError::Conflict {
                    constraint: db
                        .constraint()
                        .map(str::to_owned)
                        .unwrap_or_else(|| db.message().to_owned()),
                }
            }
            _ => StoreError::Other(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(format!("migration failed: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The database handle shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; queueing writers here instead of in SQLite's busy
    /// handler (which sleeps and retries) keeps write latency flat under concurrency.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: one connection with a large page cache for batches of imported rows (see
    /// [`Store::begin_bulk_write`]); opened when first used, closed when idle.
    bulk: Option<AnyPool>,
    /// PostgreSQL: a typed pool for `COPY`, which the `Any` driver does not offer (see
    /// [`WriteTx::copier`]); connects when first used.
    copier: Option<sqlx::PgPool>,
    /// The audit head of the last write this process committed: what it has changed is
    /// known here at once, without asking the database (see [`Store::committed_head`]).
    committed: Arc<std::sync::atomic::AtomicI64>,
}

/// Every SQLite connection's settings: WAL (readers never wait for the writer), a busy
/// timeout for other processes' writes, foreign keys enforced.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;";

/// The connection [`Store::begin_bulk_write`] writes with: an 80 MiB page cache (64 MiB
/// made a million-row import 10% slower, 96 MiB took peak memory near 200 MB); the WAL
/// copied back into the database every 10,000 pages instead of 1,000 (a page of an index
/// that each batch touches is then copied back once for several batches) and cut back to
/// 64 MiB afterwards; and foreign keys not checked by SQLite. SQLite checks an immediate foreign key of a statement of
/// many rows at the statement's end, so it keeps a copy of every page the statement
/// changes to undo it: with the memory that copying allocated and freed, 20% of an
/// import's time. The import's rows name only learners and programs it has just looked
/// up or created in the same transaction.
const BULK_PRAGMAS: &str = "PRAGMA cache_size = -81920; PRAGMA wal_autocheckpoint = 10000; \
     PRAGMA journal_size_limit = 67108864; PRAGMA foreign_keys = OFF;";

impl Store {
    /// Connects to `sqlite://path` or `postgres://…`. SQLite files are created if missing,
    /// run in WAL mode with a busy timeout, and enforce foreign keys.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Other(format!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://…"
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let bulk = (backend == Backend::Sqlite).then(|| {
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .idle_timeout(Duration::from_secs(30))
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(SQLITE_PRAGMAS).await?;
                        conn.execute(BULK_PRAGMAS).await?;
                        Ok(())
                    })
                })
                .connect_lazy_with(options.clone())
        });
        let copier = match backend {
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .min_connections(0)
                    .idle_timeout(Duration::from_secs(60))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy(&url)?,
            ),
            Backend::Sqlite => None,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            // A SQLite connection is a file handle on a worker thread: pinging it before
            // every use only adds a round trip to each request (measured with
            // `recert bench awards_1m`). PostgreSQL connections can break; check those.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend,
            write_gate: (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
            bulk,
            copier,
            committed: Arc::default(),
        })
    }

    /// The audit head (sequence number) of the last write this process committed, 0 before
    /// any. Every change is audited, so a cache of what was read can key on the head: one
    /// kept by this process is stale the moment this number moves; for changes made by
    /// other instances, compare [`audit::head_seq`] now and then.
    pub fn committed_head(&self) -> i64 {
        self.committed.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<ReadConn> {
        Ok(self.pool.acquire().await?)
    }

    /// Answers whether the database is reachable (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    /// Starts a write transaction, taking the audit chain's head first so appends to the
    /// chain are serialized across threads and (on PostgreSQL) across instances.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let gate = self.gate().await;
        let tx = self.pool.begin().await?;
        Self::locked(tx, gate, self.committed.clone(), None).await
    }

    /// [`Store::begin_write`] for a batch of many rows (imports); on PostgreSQL it carries
    /// the typed pool rows are loaded through with `COPY`. On SQLite it always runs
    /// on the same connection, whose page cache is large: the awards table's indexes on
    /// certificate ID and expiry take imported rows in random order, so a batch touches
    /// pages all over them; with the default 2 MB cache SQLite spilled dirty pages to the
    /// WAL and read them back within a batch, and a pool connection (a different one each
    /// time, each with its own worker thread) started every batch with a cold cache
    /// (measured with `recert bench import_1m`).
    pub async fn begin_bulk_write(&self) -> Result<WriteTx> {
        let gate = self.gate().await;
        let tx = self.bulk.as_ref().unwrap_or(&self.pool).begin().await?;
        Self::locked(tx, gate, self.committed.clone(), self.copier.clone()).await
    }

    /// [`Store::begin_write`] on the connection a request already read with: the reads
    /// that need no lock were done on it first, and the write continues on it rather than
    /// taking a second connection from the pool (each is a round trip to its own SQLite
    /// worker thread; measured with `recert bench issue_10k`).
    pub async fn write_on(&self, conn: ReadConn) -> Result<WriteTx> {
        let gate = self.gate().await;
        // `Transaction::begin` on an owned pool connection is what `Pool::begin` does.
        let tx = sqlx::Transaction::begin(conn, None).await?;
        Self::locked(tx, gate, self.committed.clone(), None).await
    }

    async fn gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_gate {
            Some(g) => Some(g.clone().lock_owned().await),
            None => None,
        }
    }

    async fn locked(
        mut tx: sqlx::Transaction<'static, Any>,
        gate: Option<tokio::sync::OwnedMutexGuard<()>>,
        committed: Arc<std::sync::atomic::AtomicI64>,
        copier: Option<sqlx::PgPool>,
    ) -> Result<WriteTx> {
        let head =
            crate::sql::q("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, last_hash")
                .fetch_one(&mut tx)
                .await?;
        let head = (rows::int(&head, "seq")?, rows::text(&head, "last_hash")?);
        Ok(WriteTx {
            tx: Writer(tx),
            head,
            head_moved: false,
            _gate: gate,
            committed,
            copier,
        })
    }

    /// Writes a consistent copy of a SQLite database to `path` (`VACUUM INTO`: one read
    /// transaction, so writers carry on meanwhile and the copy is one moment's state).
    pub async fn backup_into(&self, path: &str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Other(
                "only a SQLite database is copied this way; use pg_dump".into(),
            ));
        }
        let mut conn = self.pool.acquire().await?;
        crate::sql::q("VACUUM INTO $1")
            .bind(path)
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    /// What a backup holds, to check it is one: the number of awards and of audit events.
    pub async fn backup_summary(&self) -> Result<(i64, i64)> {
        let mut conn = self.pool.acquire().await?;
        let awards = crate::sql::q("SELECT COUNT(*) AS n FROM awards")
            .fetch_one(&mut conn)
            .await?;
        let head = crate::sql::q("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&mut conn)
            .await?;
        Ok((rows::int(&awards, "n")?, rows::int(&head, "seq")?))
    }

    pub async fn close(&self) {
        if let Some(bulk) = &self.bulk {
            bulk.close().await;
        }
        if let Some(copier) = &self.copier {
            copier.close().await;
        }
        self.pool.close().await;
    }
}

/// The connection of a write transaction. Every store function that changes data takes
/// this instead of a plain connection, so a write cannot run outside the write path (its
/// queue, its lock on the audit chain, its transaction): the compiler refuses it. Reads
/// take `&mut AnyConnection`, which this dereferences to.
pub struct Writer(sqlx::Transaction<'static, Any>);

impl std::ops::Deref for Writer {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.0
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.0
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
pub struct WriteTx {
    tx: Writer,
    /// The chain's last link (sequence number and hash), held locked by this transaction.
    head: (i64, String),
    /// Whether events were appended: the head row is then rewritten at commit, once per
    /// transaction instead of once per event.
    head_moved: bool,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    committed: Arc<std::sync::atomic::AtomicI64>,
    /// PostgreSQL, in a bulk write: the typed pool to `COPY` rows through.
    copier: Option<sqlx::PgPool>,
}

impl WriteTx {
    /// The typed PostgreSQL pool of a bulk write ([`Store::begin_bulk_write`]), to load
    /// rows with `COPY` on a connection of its own; `None` on SQLite and in other writes.
    /// What it loads is outside this transaction: see `imports::insert_awards`.
    pub fn copier(&self) -> Option<&sqlx::PgPool> {
        self.copier.as_ref()
    }

    /// The transaction's connection, for reads and writes alike.
    pub fn conn(&mut self) -> &mut Writer {
        &mut self.tx
    }

    pub async fn commit(mut self) -> Result<()> {
        if self.head_moved {
            crate::sql::q("UPDATE audit_head SET seq = $1, last_hash = $2 WHERE id = 1")
                .bind(self.head.0)
                .bind(&self.head.1)
                .execute(&mut self.tx)
                .await?;
        }
        self.tx.0.commit().await?;
        if self.head_moved {
            self.committed
                .fetch_max(self.head.0, std::sync::atomic::Ordering::AcqRel);
        }
        Ok(())
    }
}

/// The migration versions embedded for each backend (a test checks they match).
pub fn migration_versions(backend: Backend) -> Vec<(i64, String)> {
    let m = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    m.iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect()
}
