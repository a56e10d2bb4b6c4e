//! Imports (SPEC §7, §9 "Reports and imports"): a file comes in (API, web form or CLI),
//! is stored in the database in chunks and runs as a background job that any instance may
//! take. A job reads its file twice: once to count the rows and find duplicates, then to
//! check and write the rows in batches; each batch commits with the job's progress, so a
//! job taken over after a crash starts at the first row not yet committed and finishes
//! exactly once. One audit event records the whole job (file SHA-256, settings, counts,
//! who); each award it creates carries `source_ref` = `import:<job>:<line>`.

mod awards;
pub mod columns;
mod people;
pub(crate) mod reader;
pub mod settings;

pub use recert_store::imports::{Counts, Issue};
pub use settings::{Charset, ImportForm, Kind, Settings};

use crate::awards::Context;
use crate::{Principal, Result, Role, Service, ServiceError};
use columns::Columns;
use reader::{Msg, Row};
use recert_store::WriteTx;
use recert_store::audit::NewEvent;
use recert_store::imports::{self as store, JobRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The stored file's chunk size.
const CHUNK: usize = 1 << 20;
/// The largest file an import takes.
pub const MAX_FILE_BYTES: i64 = 2 << 30;
/// Rows written per transaction by default: each commits with the job's progress. Each
/// batch touches pages all over the awards table's indexes, and a commit writes them out,
/// so fewer, larger batches are faster (a million rows on SQLite: 47 s in batches of
/// 25,000, 33 s in batches of 50,000); a batch holds the write lock for about 1.5 s.
pub const DEFAULT_BATCH_ROWS: usize = 50_000;
/// The fewest rows per transaction [`Service::with_import_batch_rows`] takes.
pub const MIN_BATCH_ROWS: usize = 100;
/// Rows checked and written at a time within a transaction (what is held in memory).
const ROWS_PER_STEP: usize = 5_000;
/// How long a runner holds a job without reporting progress before another may take it.
const LEASE_MS: i64 = 60_000;

/// A job as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub job: i64,
    /// `awards` or `learners`.
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub dry_run: bool,
    pub file_name: String,
    pub file_sha256: Option<String>,
    pub file_size: i64,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<jiff::Timestamp>,
    /// Data rows in the file (after the header), once counted.
    pub rows_total: Option<i64>,
    pub rows_done: i64,
    pub imported: i64,
    pub rejected: i64,
    pub skipped: i64,
    pub learners_created: i64,
    pub superseded: i64,
    pub history: i64,
    /// Progress, 0–100.
    pub percent: i64,
    /// Why the job failed as a whole (an unreadable file, a missing column).
    pub failure: Option<String>,
    /// The rejected rows: CSV `row,column,value,reason`.
    pub errors_url: String,
    /// Every finding, rejections and notes (superseded, history, replaced duplicates).
    pub report_url: String,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

fn ts(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn view(j: &JobRecord) -> ImportJob {
    let c = j.counts;
    let percent = match (j.state.as_str(), j.rows_total) {
        ("done", _) => 100,
        (_, Some(t)) if t > 0 => {
            let (done, of) = if j.kind == "learners" {
                (c.rows_done + c.links_done, 2 * t)
            } else {
                (c.rows_done, t)
            };
            (done * 100 / of).clamp(0, 99)
        }
        _ => 0,
    };
    ImportJob {
        job: j.id,
        kind: j.kind.clone(),
        state: j.state.clone(),
        dry_run: j.dry_run,
        file_name: j.file_name.clone(),
        file_sha256: j.file_sha256.clone(),
        file_size: j.file_size,
        created_by: j.created_by.clone(),
        created_at: ts(j.created_at_ms),
        started_at: j.started_at_ms.map(ts),
        finished_at: j.finished_at_ms.map(ts),
        rows_total: j.rows_total,
        rows_done: c.rows_done,
        imported: c.imported,
        rejected: c.rejected,
        skipped: c.skipped,
        learners_created: c.learners_created,
        superseded: c.superseded,
        history: c.history,
        percent,
        failure: j.failure.clone(),
        errors_url: format!("/api/v1/imports/{}/errors.csv", j.id),
        report_url: format!("/api/v1/imports/{}/report.csv", j.id),
        settings: serde_json::from_str(&j.settings).unwrap_or_default(),
    }
}

/// Whether `who` sees this job: admins and auditors every job, program managers their own.
fn sees_job(who: &Principal, j: &JobRecord) -> bool {
    match who.role {
        Role::Admin | Role::Auditor => true,
        Role::ProgramManager => j.created_by == who.name,
        _ => false,
    }
}

/// What a job is allowed to touch, fixed when it is submitted.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct Scope {
    /// The programs a program manager may award; `None`: every program.
    programs: Option<Vec<i64>>,
}

#[derive(Serialize, serde::Deserialize)]
struct Stored {
    #[serde(flatten)]
    settings: Settings,
    #[serde(default)]
    scope: Scope,
}

/// A file being received for a new job.
pub struct Upload {
    svc: Service,
    job: i64,
    seq: i64,
    buf: Vec<u8>,
    sha: Sha256,
    size: i64,
}

impl Service {
    /// Admins, auditors and program managers see imports (see [`sees_job`] for which).
    fn may_read_imports(who: &Principal) -> Result<()> {
        if matches!(who.role, Role::Admin | Role::Auditor | Role::ProgramManager) {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "a {} may not see imports",
            who.role.as_str()
        )))
    }

    fn may_import(who: &Principal, kind: Kind) -> Result<()> {
        match (kind, who.role) {
            (_, Role::Admin) => Ok(()),
            (Kind::Awards, Role::ProgramManager) => Ok(()),
            _ => Err(ServiceError::Forbidden(format!(
                "a {} may not import {}",
                who.role.as_str(),
                kind.as_str()
            ))),
        }
    }

    /// This service, writing imports in transactions of `rows` rows (at least
    /// [`MIN_BATCH_ROWS`]): fewer are committed sooner and hold SQLite's write lock for
    /// less time, more import faster.
    pub fn with_import_batch_rows(mut self, rows: usize) -> Self {
        self.import_batch_rows = rows.max(MIN_BATCH_ROWS);
        self
    }

    /// Starts an import: takes the file in pieces ([`Upload::push`]); the settings come
    /// with [`Upload::finish`] (a form may send them before or after the file).
    pub async fn begin_import(&self, who: &Principal, file_name: &str) -> Result<Upload> {
        if !matches!(who.role, Role::Admin | Role::ProgramManager) {
            return Err(ServiceError::Forbidden(format!(
                "a {} may not import",
                who.role.as_str()
            )));
        }
        let id = crate::sessions::unguessable_id()?;
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let mut tx = self.store.begin_write().await?;
        store::create(
            tx.conn(),
            &store::NewJob {
                id,
                kind: "awards",
                dry_run: false,
                settings: "{}",
                file_name: if name.trim().is_empty() {
                    "upload.csv"
                } else {
                    name.trim()
                },
                created_by: &who.name,
                created_at_ms: self.real_now_ms(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Upload {
            svc: self.clone(),
            job: id,
            seq: 0,
            buf: Vec::with_capacity(CHUNK),
            sha: Sha256::new(),
            size: 0,
        })
    }

    /// Runs an earlier dry run's file for real, with the same settings.
    pub async fn run_dry_run_for_real(&self, who: &Principal, job: i64) -> Result<ImportJob> {
        let mut conn = self.store.read().await?;
        let j = self.visible_job(who, &mut conn, job).await?;
        if !j.dry_run || j.state != "done" {
            return Err(ServiceError::Conflict(
                "only a finished dry run can be run for real".into(),
            ));
        }
        if !store::has_file(&mut conn, job).await? {
            return Err(ServiceError::Conflict(
                "this dry run's file is no longer kept; upload it again".into(),
            ));
        }
        drop(conn);
        let mut stored: Stored =
            serde_json::from_str(&j.settings).map_err(ServiceError::internal)?;
        Self::may_import(who, stored.settings.kind)?;
        stored.settings.dry_run = false;
        let id = crate::sessions::unguessable_id()?;
        let settings = serde_json::to_string(&stored).map_err(ServiceError::internal)?;
        let mut tx = self.store.begin_write().await?;
        store::create(
            tx.conn(),
            &store::NewJob {
                id,
                kind: &j.kind,
                dry_run: false,
                settings: &settings,
                file_name: &j.file_name,
                created_by: &who.name,
                created_at_ms: self.real_now_ms(),
            },
        )
        .await?;
        store::copy_chunks(tx.conn(), job, id).await?;
        store::queue(
            tx.conn(),
            id,
            j.file_sha256.as_deref().unwrap_or(""),
            j.file_size,
            &settings,
        )
        .await?;
        tx.commit().await?;
        self.imports_wake.notify_one();
        self.import_job(who, id).await
    }

    /// Stops a queued or running import. A batch in progress is rolled back (its
    /// checkpoint finds the job no longer running, on this instance or another); batches
    /// already committed stay, and a real import's cancellation is audited with what it
    /// had written by then. The job ends as failed, saying who cancelled it.
    pub async fn cancel_import(&self, who: &Principal, job: i64) -> Result<ImportJob> {
        let mut conn = self.store.read().await?;
        let j = self.visible_job(who, &mut conn, job).await?;
        drop(conn);
        let stored: Stored = serde_json::from_str(&j.settings).map_err(ServiceError::internal)?;
        Self::may_import(who, stored.settings.kind)?;
        let mut tx = self.store.begin_write().await?;
        // Read again under the write lock: the runner may have finished meanwhile.
        let now_job = store::job(tx.conn(), job)
            .await?
            .ok_or_else(|| ServiceError::not_found("import", job.to_string()))?;
        if !matches!(now_job.state.as_str(), "queued" | "running") {
            return Err(ServiceError::Conflict(format!(
                "this import has already ended ({})",
                now_job.state
            )));
        }
        if !now_job.dry_run {
            tx.audit(NewEvent {
                at: self.now(),
                actor: &who.name,
                action: "import.cancelled",
                subject_type: "import",
                subject_id: &job.to_string(),
                before: None,
                after: Some(job_facts(&now_job, &now_job.counts, &who.name, None)),
            })
            .await?;
        }
        let why = format!("cancelled by {}", crate::history::actor_label(&who.name));
        store::finish(
            tx.conn(),
            job,
            "failed",
            Some(&why),
            self.real_now_ms(),
            false,
        )
        .await?;
        tx.commit().await?;
        self.import_job(who, job).await
    }

    /// Clears the staged rows of a job that has ended (cancelled, failed or done).
    async fn clear_ended_staging(&self, job: i64) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let ended = store::job(tx.conn(), job)
            .await?
            .is_some_and(|j| !matches!(j.state.as_str(), "queued" | "running"));
        if ended {
            store::clear_staging(tx.conn(), job).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn visible_job(
        &self,
        who: &Principal,
        conn: &mut recert_store::Conn,
        job: i64,
    ) -> Result<JobRecord> {
        let j = store::job(conn, job)
            .await?
            .filter(|j| j.state != "uploading")
            .ok_or_else(|| ServiceError::not_found("import", job.to_string()))?;
        if !sees_job(who, &j) {
            // Whether someone else's job exists is not told.
            return Err(ServiceError::not_found("import", job.to_string()));
        }
        Ok(j)
    }

    /// One job, as it stands.
    pub async fn import_job(&self, who: &Principal, job: i64) -> Result<ImportJob> {
        Self::may_read_imports(who)?;
        let mut conn = self.store.read().await?;
        Ok(view(&self.visible_job(who, &mut conn, job).await?))
    }

    /// The latest jobs the caller may see.
    pub async fn import_jobs(&self, who: &Principal, limit: i64) -> Result<Vec<ImportJob>> {
        Self::may_read_imports(who)?;
        let mut conn = self.store.read().await?;
        Ok(store::recent(&mut conn, limit.clamp(1, 500))
            .await?
            .iter()
            .filter(|j| sees_job(who, j))
            .map(view)
            .collect())
    }

    /// A job's findings, `limit` at a time after `after` (an opaque position, 0 first).
    pub async fn import_issues(
        &self,
        who: &Principal,
        job: i64,
        rejected_only: bool,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Issue)>> {
        self.import_job(who, job).await?;
        let mut conn = self.store.read().await?;
        Ok(store::issues(&mut conn, job, rejected_only, after, limit.clamp(1, 10_000)).await?)
    }

    /// A job's findings as CSV `row,column,value,reason` (the errors report), or every
    /// finding with its `outcome` (the full report), written as it is read.
    pub async fn import_report(
        &self,
        who: &Principal,
        job: i64,
        rejected_only: bool,
    ) -> Result<crate::exports::Download> {
        use crate::exports::{Cell, Format, download};
        self.import_job(who, job).await?;
        let (stem, headers): (String, &[&'static str]) = if rejected_only {
            (
                format!("import-{job}-errors"),
                &["row", "column", "value", "reason"],
            )
        } else {
            (
                format!("import-{job}-report"),
                &["row", "column", "value", "reason", "outcome"],
            )
        };
        let store = self.store.clone();
        download(
            Format::Csv,
            stem,
            "Import",
            headers,
            move |mut sink| async move {
                let mut after = 0;
                loop {
                    let mut conn = store.read().await?;
                    let page = store::issues(&mut conn, job, rejected_only, after, 5_000).await?;
                    drop(conn);
                    if page.is_empty() {
                        return Ok(sink);
                    }
                    for (id, is) in page {
                        after = id;
                        let mut row = vec![
                            Cell::Int(is.line),
                            Cell::Text(is.column),
                            Cell::Text(is.value),
                            Cell::Text(is.reason),
                        ];
                        if !rejected_only {
                            row.push(Cell::from(if is.rejected { "rejected" } else { "note" }));
                        }
                        sink.push(&row).await?;
                    }
                }
            },
        )
    }

    /// Takes and runs queued jobs (and jobs whose runner stopped) until none is left;
    /// answers how many ran.
    pub async fn run_import_jobs(&self, runner: &str) -> Result<usize> {
        let mut ran = 0;
        while let Some(job) = self.claim_import(runner, None).await? {
            self.run_claimed(job, runner, &mut |_| {}).await;
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs one job in this process (the CLI), calling `progress` as it goes. When another
    /// process already runs it, follows its progress instead.
    pub async fn run_import_job(
        &self,
        job: i64,
        runner: &str,
        progress: &mut (dyn FnMut(&ImportJob) + Send),
    ) -> Result<ImportJob> {
        if let Some(j) = self.claim_import(runner, Some(job)).await? {
            self.run_claimed(j, runner, progress).await;
        }
        loop {
            let mut conn = self.store.read().await?;
            let j = store::job(&mut conn, job)
                .await?
                .ok_or_else(|| ServiceError::not_found("import", job.to_string()))?;
            drop(conn);
            let v = view(&j);
            progress(&v);
            if matches!(j.state.as_str(), "done" | "failed") {
                return Ok(v);
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// On SQLite one process owns the database: a job still marked running lost its runner
    /// (the process was killed) and goes back to the queue at start-up.
    pub async fn recover_imports(&self) -> Result<u64> {
        let mut tx = self.store.begin_write().await?;
        let mut n = 0;
        if self.store.backend() == recert_store::Backend::Sqlite {
            n = store::requeue_running(tx.conn()).await?;
        }
        let stale = store::stale_uploads(tx.conn(), self.real_now_ms() - 86_400_000).await?;
        for id in stale {
            store::discard(tx.conn(), id).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Wakes the import runner (a job was queued).
    pub fn imports_woken(&self) -> Arc<tokio::sync::Notify> {
        self.imports_wake.clone()
    }

    async fn claim_import(&self, runner: &str, only: Option<i64>) -> Result<Option<JobRecord>> {
        let now = self.real_now_ms();
        let mut tx = self.store.begin_write().await?;
        let job = match only {
            Some(id) => store::claim_one(tx.conn(), id, runner, now, now + LEASE_MS).await?,
            None => store::claim(tx.conn(), runner, now, now + LEASE_MS).await?,
        };
        tx.commit().await?;
        Ok(job)
    }

    async fn run_claimed(
        &self,
        job: JobRecord,
        runner: &str,
        progress: &mut (dyn FnMut(&ImportJob) + Send),
    ) {
        let id = job.id;
        match self.run_job(job, runner, progress).await {
            Ok(()) => {}
            Err(ServiceError::Conflict(m)) if m == TAKEN_OVER => {
                tracing::warn!(
                    job = id,
                    "this import was cancelled or taken over by another runner; leaving it"
                );
                // Cancelled while this runner was writing a batch: what it staged for that
                // batch after the cancellation cleared the job's staging is cleared now.
                if let Err(e) = self.clear_ended_staging(id).await {
                    tracing::error!(job = id, error = %e, "could not clear an ended import's staged rows");
                }
            }
            Err(e) => {
                let message = match &e {
                    ServiceError::Validation(d) => {
                        d.0.iter()
                            .map(|f| f.message.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                    ServiceError::Internal(detail) => {
                        tracing::error!(job = id, error = %detail, "import job failed");
                        "an internal error stopped the import; the server log has the detail"
                            .to_owned()
                    }
                    other => other.to_string(),
                };
                if let Err(e2) = self.fail_job(id, &message).await {
                    tracing::error!(job = id, error = %e2, "could not record the import's failure");
                }
            }
        }
    }

    async fn fail_job(&self, id: i64, message: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let j = store::job(tx.conn(), id).await?;
        if j.is_some_and(|j| j.state == "running") {
            store::finish(
                tx.conn(),
                id,
                "failed",
                Some(message),
                self.real_now_ms(),
                true,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Feeds a job's stored file to a reader and answers its header and rows.
    async fn open_file(
        &self,
        job: i64,
        settings: &Settings,
    ) -> Result<(Columns, mpsc::Receiver<Msg>)> {
        let (chunk_tx, chunk_rx) = mpsc::channel::<Vec<u8>>(2);
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut seq = 0;
            loop {
                let chunk = match store.read().await {
                    Ok(mut conn) => store::chunk(&mut conn, job, seq).await,
                    Err(e) => Err(e),
                };
                match chunk {
                    Ok(Some(c)) => {
                        if chunk_tx.send(c).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tracing::error!(job, error = %e, "reading an import's file failed");
                        return;
                    }
                }
                seq += 1;
            }
        });
        let mut rows = reader::spawn(chunk_rx, settings.charset, settings.separator);
        match rows.recv().await {
            Some(Msg::Header(headings)) => {
                let cols = Columns::resolve(settings.kind, &headings, &settings.mapping)?;
                Ok((cols, rows))
            }
            Some(Msg::Failed(e)) => Err(ServiceError::field("file", e)),
            _ => Err(ServiceError::field(
                "file",
                "the file is empty: it needs a header line and records",
            )),
        }
    }

    async fn run_job(
        &self,
        job: JobRecord,
        runner: &str,
        progress: &mut (dyn FnMut(&ImportJob) + Send),
    ) -> Result<()> {
        let stored: Stored = serde_json::from_str(&job.settings).map_err(ServiceError::internal)?;
        let settings = stored.settings;
        // First pass: count the rows and find duplicates.
        let dups = {
            let (cols, mut rows) = self.open_file(job.id, &settings).await?;
            let mut scan = Duplicates::default();
            let mut total = 0i64;
            while let Some(msg) = rows.recv().await {
                match msg {
                    Msg::Rows(batch) => {
                        // A long first pass keeps the job's lease.
                        if total % 200_000 + batch.len() as i64 > 200_000 {
                            let mut tx = self.store.begin_write().await?;
                            let now = self.real_now_ms();
                            if !store::renew(tx.conn(), job.id, runner, now + LEASE_MS).await? {
                                return Err(taken_over());
                            }
                            tx.commit().await?;
                        }
                        total += batch.len() as i64;
                        for row in &batch {
                            if let Some(k) = dup_key(settings.kind, &cols, row) {
                                scan.see(k, row.line);
                            }
                        }
                    }
                    Msg::Failed(e) => return Err(ServiceError::field("file", e)),
                    Msg::Header(_) => {}
                }
            }
            let mut tx = self.store.begin_write().await?;
            store::set_total(tx.conn(), job.id, total).await?;
            tx.commit().await?;
            scan.verdicts(settings.keep_last_duplicate)
        };
        let mut conn = self.store.read().await?;
        let ctx = self.catalogue(&mut conn).await?;
        drop(conn);
        let (cols, rows) = self.open_file(job.id, &settings).await?;
        let run = Run {
            job: job.id,
            runner: runner.to_owned(),
            settings,
            scope: stored.scope,
            cols,
            ctx,
            dups,
            programs: HashMap::new(),
            would_create: HashMap::new(),
        }
        .with_programs();
        let mut counts = job.counts;
        let mut run = run;
        match run.settings.kind {
            Kind::Awards => {
                self.import_passes(&mut run, rows, &mut counts, Pass::Awards, progress)
                    .await?
            }
            Kind::Learners => {
                self.import_passes(&mut run, rows, &mut counts, Pass::People, progress)
                    .await?;
                let (_, rows) = self.open_file(job.id, &run.settings).await?;
                self.import_passes(&mut run, rows, &mut counts, Pass::Links, progress)
                    .await?
            }
        };
        // The end: one audit event for the whole job (none for a dry run, which changed
        // nothing), in the transaction that marks it done.
        let mut tx = self.store.begin_write().await?;
        let Some(now_job) = store::job(tx.conn(), job.id).await? else {
            return Ok(());
        };
        if now_job.state != "running" {
            return Ok(());
        }
        if !run.settings.dry_run {
            tx.audit(NewEvent {
                at: self.now(),
                actor: &job.created_by,
                action: "import.completed",
                subject_type: "import",
                subject_id: &job.id.to_string(),
                before: None,
                after: Some(job_facts(
                    &now_job,
                    &counts,
                    &job.created_by,
                    Some(&run.settings),
                )),
            })
            .await?;
        }
        store::finish(
            tx.conn(),
            job.id,
            "done",
            None,
            self.real_now_ms(),
            run.settings.dry_run,
        )
        .await?;
        tx.commit().await?;
        let mut conn = self.store.read().await?;
        if let Some(j) = store::job(&mut conn, job.id).await? {
            progress(&view(&j));
        }
        Ok(())
    }

    /// One pass over the rows, a transaction per `import_batch_rows` rows, starting after
    /// the rows this pass already committed.
    async fn import_passes(
        &self,
        run: &mut Run,
        mut rows: mpsc::Receiver<Msg>,
        counts: &mut Counts,
        pass: Pass,
        progress: &mut (dyn FnMut(&ImportJob) + Send),
    ) -> Result<()> {
        let already = match pass {
            Pass::Links => counts.links_done,
            _ => counts.rows_done,
        };
        let mut seen = 0i64;
        let mut pending: Vec<Row> = Vec::with_capacity(ROWS_PER_STEP);
        // A dry run resumed after a stop learns again, from the rows it had done, which
        // learners it would have created by then (they are kept in memory only): else
        // their later rows would count them a second time.
        let replay = run.settings.dry_run && matches!(pass, Pass::Awards) && already > 0;
        let mut done_before: Vec<Row> = Vec::new();
        // The batch's transaction, and what it has done so far.
        let mut open: Option<WriteTx> = None;
        let mut delta = Counts::default();
        let mut in_tx = 0usize;
        loop {
            let msg = rows.recv().await;
            let last = msg.is_none();
            match msg {
                Some(Msg::Rows(batch)) => {
                    for row in batch {
                        seen += 1;
                        if seen > already {
                            pending.push(row);
                        } else if replay {
                            done_before.push(row);
                        }
                    }
                }
                Some(Msg::Failed(e)) => return Err(ServiceError::field("file", e)),
                Some(Msg::Header(_)) => {}
                None => {}
            }
            if done_before.len() >= ROWS_PER_STEP
                || (!done_before.is_empty() && (last || !pending.is_empty()))
            {
                self.replay_dry_run(run, &done_before).await?;
                done_before.clear();
            }
            if pending.len() >= ROWS_PER_STEP.min(self.import_batch_rows)
                || (last && !pending.is_empty())
            {
                let tx = match &mut open {
                    Some(tx) => tx,
                    None => open.insert(self.store.begin_bulk_write().await?),
                };
                let mut step = match pass {
                    Pass::Awards => self.import_award_rows(tx, run, &pending).await?,
                    Pass::People => self.import_people_rows(tx, run, &pending).await?,
                    Pass::Links => self.import_people_links(tx, run, &pending).await?,
                };
                match pass {
                    Pass::Links => step.links_done = pending.len() as i64,
                    _ => step.rows_done = pending.len() as i64,
                }
                delta += step;
                in_tx += pending.len();
                pending.clear();
            }
            if in_tx >= self.import_batch_rows || (last && in_tx > 0) {
                let Some(mut tx) = open.take() else {
                    return Err(ServiceError::internal(
                        "an import batch without its transaction",
                    ));
                };
                let mut next = *counts;
                next += std::mem::take(&mut delta);
                in_tx = 0;
                let now = self.real_now_ms();
                if !store::checkpoint(tx.conn(), run.job, &run.runner, &next, now + LEASE_MS)
                    .await?
                {
                    // Another runner took the job over: what this one did is rolled back.
                    return Err(taken_over());
                }
                tx.commit().await?;
                *counts = next;
                let mut conn = self.store.read().await?;
                if let Some(j) = store::job(&mut conn, run.job).await? {
                    progress(&view(&j));
                }
            }
            if last {
                return Ok(());
            }
        }
    }

    /// Rows a dry run had checked before it stopped, checked again in a transaction that
    /// is rolled back (their findings and counts are already recorded): only what the run
    /// keeps in memory, the learners it would create, is rebuilt.
    async fn replay_dry_run(&self, run: &mut Run, rows: &[Row]) -> Result<()> {
        let mut tx = self.store.begin_bulk_write().await?;
        self.import_award_rows(&mut tx, run, rows).await?;
        drop(tx);
        Ok(())
    }
}

/// What an import's audit event says of it: the file, how far it got and what it did,
/// and who (the settings too, once it has run through).
fn job_facts(
    job: &JobRecord,
    counts: &Counts,
    by: &str,
    settings: Option<&Settings>,
) -> serde_json::Value {
    let mut facts = serde_json::json!({
        "kind": job.kind,
        "file_name": job.file_name,
        "file_sha256": job.file_sha256,
        "file_size": job.file_size,
        "rows_total": job.rows_total,
        "counts": counts,
        "by": by,
    });
    if let Some(s) = settings {
        facts["settings"] = serde_json::json!(s);
    }
    facts
}

/// A yes-or-no cell or form field as people write them: `1`/`0`, `true`/`false`,
/// `yes`/`no`, `y`/`n`, `on`/`off`, in any case, spaces around ignored. `None`: neither
/// (an empty value too: what it means is the caller's).
pub(crate) fn yes_no(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

const TAKEN_OVER: &str = "the import was taken over by another runner";

fn taken_over() -> ServiceError {
    ServiceError::Conflict(TAKEN_OVER.into())
}

#[derive(Clone, Copy)]
enum Pass {
    Awards,
    People,
    Links,
}

impl Upload {
    pub fn job(&self) -> i64 {
        self.job
    }

    /// Takes the next piece of the file.
    pub async fn push(&mut self, mut bytes: &[u8]) -> Result<()> {
        self.size += bytes.len() as i64;
        if self.size > MAX_FILE_BYTES {
            return Err(ServiceError::TooLarge(format!(
                "an import file may be at most {} MB",
                MAX_FILE_BYTES >> 20
            )));
        }
        self.sha.update(bytes);
        while !bytes.is_empty() {
            let take = (CHUNK - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut tx = self.svc.store.begin_write().await?;
        store::add_chunk(tx.conn(), self.job, self.seq, &self.buf).await?;
        tx.commit().await?;
        self.seq += 1;
        self.buf.clear();
        Ok(())
    }

    /// The whole file is in: checks the settings, who asks and the file's header, and
    /// queues the job.
    pub async fn finish(mut self, who: &Principal, form: &ImportForm) -> Result<ImportJob> {
        let outcome = self.finish_inner(who, form).await;
        if outcome.is_err() {
            self.abandon_ref().await;
        }
        outcome
    }

    async fn finish_inner(&mut self, who: &Principal, form: &ImportForm) -> Result<ImportJob> {
        let settings = form.check()?;
        Service::may_import(who, settings.kind)?;
        self.flush().await?;
        if self.size == 0 {
            return Err(ServiceError::field("file", "is empty"));
        }
        // A file whose columns cannot be found is refused now, not as a failed job.
        let (_, mut rows) = self.svc.open_file(self.job, &settings).await?;
        rows.close();
        let scope = Scope {
            programs: (who.role == Role::ProgramManager).then(|| who.programs.clone()),
        };
        let stored =
            serde_json::to_string(&Stored { settings, scope }).map_err(ServiceError::internal)?;
        let sha = hex(&std::mem::take(&mut self.sha).finalize());
        let mut tx = self.svc.store.begin_write().await?;
        store::queue(tx.conn(), self.job, &sha, self.size, &stored).await?;
        tx.commit().await?;
        self.svc.imports_wake.notify_one();
        let mut conn = self.svc.store.read().await?;
        let j = store::job(&mut conn, self.job)
            .await?
            .ok_or_else(|| ServiceError::internal("import job vanished"))?;
        Ok(view(&j))
    }

    async fn abandon_ref(&self) {
        if let Ok(mut tx) = self.svc.store.begin_write().await {
            let _ = store::discard(tx.conn(), self.job).await;
            let _ = tx.commit().await;
        }
    }

    /// The upload broke off: nothing of it is kept.
    pub async fn abandon(self) {
        self.abandon_ref().await;
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What a job knows while it runs.
pub(crate) struct Run {
    pub job: i64,
    pub runner: String,
    pub settings: Settings,
    scope: Scope,
    pub cols: Columns,
    pub ctx: Arc<Context>,
    pub dups: HashMap<i64, Dup>,
    /// Programs by folded code: row id and the program.
    pub programs: HashMap<String, i64>,
    /// In a dry run, learners a real run would have created by now (with stand-in ids).
    pub would_create: HashMap<String, i64>,
}

impl Run {
    fn with_programs(mut self) -> Self {
        self.programs = self
            .ctx
            .programs
            .iter()
            .map(|(id, p)| (p.code.as_str().to_lowercase(), *id))
            .collect();
        self
    }

    /// Whether the job's submitter may award this program.
    pub fn may_award(&self, program_id: i64) -> bool {
        self.scope
            .programs
            .as_ref()
            .is_none_or(|ids| ids.contains(&program_id))
    }

    /// The file's heading for recert's column `ours`.
    pub fn heading(&self, ours: &str) -> String {
        self.cols.heading(ours)
    }
}

/// What the first pass found about a row that shares its key with others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dup {
    /// Rejected: these other rows have the same key.
    Rejected(Vec<i64>),
    /// Left out: a later row with the same key replaces it ("keep last duplicate").
    Replaced(i64),
}

/// Keys seen in the first pass, hashed to 128 bits, with their lines: 24 bytes a row in
/// one vector, sorted at the end so rows with the same key sit together. (A hash map of
/// the same took 69 MB for a million rows, and twice that while it grew.)
#[derive(Default)]
struct Duplicates {
    seen: Vec<([u64; 2], u32)>,
}

impl Duplicates {
    fn see(&mut self, key: u128, line: i64) {
        // A file is at most 2 GiB, so its line numbers fit in 32 bits.
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        self.seen.push(([(key >> 64) as u64, key as u64], line));
    }

    fn verdicts(mut self, keep_last: bool) -> HashMap<i64, Dup> {
        self.seen.sort_unstable();
        let mut out = HashMap::new();
        for group in self.seen.chunk_by(|a, b| a.0 == b.0) {
            if group.len() < 2 {
                continue;
            }
            let lines: Vec<i64> = group.iter().map(|(_, l)| i64::from(*l)).collect();
            let last = lines.last().copied().unwrap_or_default();
            for &l in &lines {
                if keep_last {
                    if l != last {
                        out.insert(l, Dup::Replaced(last));
                    }
                } else {
                    out.insert(
                        l,
                        Dup::Rejected(lines.iter().copied().filter(|o| *o != l).collect()),
                    );
                }
            }
        }
        out
    }
}

fn hash128(parts: &[&str]) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// The key two rows are duplicates by: username and program (awards), username (people).
fn dup_key(kind: Kind, cols: &Columns, row: &Row) -> Option<u128> {
    let cell = |name: &str| {
        cols.cell(row, name)
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
    };
    let user = cell("username")?;
    match kind {
        Kind::Awards => {
            let code = cell("certification_code")?.to_lowercase();
            Some(hash128(&[user, &code]))
        }
        Kind::Learners => Some(hash128(&[user])),
    }
}

/// One finding, as the row handlers write them.
pub(crate) fn issue(line: i64, column: String, value: &str, reason: impl Into<String>) -> Issue {
    Issue {
        line,
        column,
        value: value.chars().take(200).collect(),
        reason: reason.into(),
        rejected: true,
    }
}

pub(crate) fn note(line: i64, column: String, value: &str, reason: impl Into<String>) -> Issue {
    Issue {
        rejected: false,
        ..issue(line, column, value, reason)
    }
}

/// The duplicate finding for a row, if any: a rejection naming the other rows, or a note
/// that a later row replaces it.
pub(crate) fn dup_issue(run: &Run, row: &Row, key_column: &str, value: &str) -> Option<Issue> {
    match run.dups.get(&row.line)? {
        Dup::Rejected(others) => Some(issue(
            row.line,
            run.heading(key_column),
            value,
            format!(
                "duplicate: row{} {} {} the same record (turn on \"keep last duplicate\" to import only the last)",
                if others.len() > 1 { "s" } else { "" },
                others
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                if others.len() > 1 { "have" } else { "has" },
            ),
        )),
        Dup::Replaced(by) => Some(note(
            row.line,
            run.heading(key_column),
            value,
            format!("left out: row {by} has the same record and comes later"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn yes_and_no_are_read_alike_everywhere() {
        for yes in ["1", "true", "Yes", " y ", "ON"] {
            assert_eq!(super::yes_no(yes), Some(true), "{yes}");
            assert_eq!(super::awards::flag_cell(yes), Some(true), "{yes}");
            assert_eq!(super::people::flag(yes), Some(true), "{yes}");
        }
        for no in ["0", "false", "No", " n ", "OFF"] {
            assert_eq!(super::yes_no(no), Some(false), "{no}");
            assert_eq!(super::awards::flag_cell(no), Some(false), "{no}");
            assert_eq!(super::people::flag(no), Some(false), "{no}");
        }
        for neither in ["", "maybe", "2", "yes please"] {
            assert_eq!(super::yes_no(neither), None, "{neither}");
        }
        // Each column's own words.
        assert_eq!(super::awards::flag_cell("  "), Some(false));
        assert_eq!(super::people::flag("Inactive"), Some(false));
        assert_eq!(super::people::flag("active"), Some(true));
        assert_eq!(super::awards::flag_cell("active"), None);
    }
}
