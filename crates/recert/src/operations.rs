//! The operator's commands: import, export, backup and restore. Each is one service or
//! store call; this module only reads arguments, shows progress and writes files.

use crate::cli::{ImportArgs, ImportCommand};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use recert_service::Principal;
use recert_service::imports::{ImportForm, ImportJob};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Whoever runs recert's command line, as the audit trail names them: the operating
/// system's user.
fn operator() -> Principal {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty() && u.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "operator".into());
    Principal::unscoped(format!("cli:{user}"), recert_service::Role::Admin)
}

/// `recert import list`: the latest jobs, a line each.
async fn import_list(limit: i64, cfg: &Config) -> Result<()> {
    let service = crate::prepared(cfg, &crate::public_base(cfg)).await?;
    let jobs = service
        .import_jobs(&operator(), limit)
        .await
        .map_err(crate::explain)?;
    if jobs.is_empty() {
        eprintln!("no imports yet");
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<17} {:<9} {:<8} {:<20} {:>15} {:>9} {:>9}  file",
        "job", "kind", "state", "created", "rows", "imported", "rejected"
    )?;
    for j in jobs {
        let rows = format!(
            "{}/{}",
            j.rows_done,
            j.rows_total.map_or("?".to_owned(), |t| t.to_string())
        );
        let state = if j.dry_run {
            format!("{}*", j.state)
        } else {
            j.state.clone()
        };
        write!(
            out,
            "{:<17} {:<9} {:<8} {:<20} {:>15} {:>9} {:>9}  {}",
            j.job,
            j.kind,
            state,
            recert_service::history::minute_utc(j.created_at),
            rows,
            j.imported,
            j.rejected,
            j.file_name,
        )?;
        if let Some(f) = &j.failure {
            write!(out, "  ({f})")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "* a dry run: nothing was changed")?;
    Ok(())
}

/// `recert import cancel JOB`: [`recert_service::Service::cancel_import`].
async fn import_cancel(job: &str, cfg: &Config) -> Result<()> {
    let Ok(id) = job.trim().parse::<i64>() else {
        bail!("{job:?} is not an import job's number (see `recert import list`)");
    };
    let service = crate::prepared(cfg, &crate::public_base(cfg)).await?;
    let j = service
        .cancel_import(&operator(), id)
        .await
        .map_err(crate::explain)?;
    eprintln!(
        "import {} cancelled: {} of {} rows done, {} imported (committed batches stay)",
        j.job,
        j.rows_done,
        j.rows_total.map_or("?".to_owned(), |t| t.to_string()),
        j.imported
    );
    Ok(())
}

/// `recert import awards|learners FILE`: the job the API runs, run here, with a progress
/// bar on a terminal.
pub async fn import(command: ImportCommand, cfg: &Config) -> Result<()> {
    let (kind, args): (&str, ImportArgs) = match command {
        ImportCommand::Awards(a) => ("awards", a),
        ImportCommand::Learners(a) => ("learners", a),
        ImportCommand::List { limit, .. } => return import_list(limit, cfg).await,
        ImportCommand::Cancel { job, .. } => return import_cancel(&job, cfg).await,
    };
    let service = crate::prepared(cfg, &crate::public_base(cfg)).await?;
    let who = Principal::system();
    let form = ImportForm {
        kind: Some(kind.into()),
        dry_run: Some(args.dry_run.to_string()),
        separator: args.separator.clone(),
        charset: Some(args.charset.clone()),
        keep_last_duplicate: Some(args.keep_last_duplicate.to_string()),
        create_learners: Some((!args.no_create_learners).to_string()),
        mapping: args.mapping.clone(),
    };
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload.csv".into());
    let mut file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("opening {}", args.file.display()))?;
    let mut upload = service
        .begin_import(&who, &name)
        .await
        .map_err(crate::explain)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        use tokio::io::AsyncReadExt;
        let n = file
            .read(&mut buf)
            .await
            .with_context(|| format!("reading {}", args.file.display()))?;
        if n == 0 {
            break;
        }
        if let Err(e) = upload.push(&buf[..n]).await {
            upload.abandon().await;
            return Err(crate::explain(e));
        }
    }
    let job = upload.finish(&who, &form).await.map_err(crate::explain)?;
    let runner = format!("cli:{}", std::process::id());
    let bar = std::io::stderr().is_terminal();
    let mut last = std::time::Instant::now();
    let mut show = |j: &ImportJob| {
        if bar && (last.elapsed().as_millis() >= 200 || j.state == "done") {
            last = std::time::Instant::now();
            let width = 30;
            let filled = (j.percent as usize * width / 100).min(width);
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r[{}{}] {:>3}% {} of {} rows",
                "#".repeat(filled),
                ".".repeat(width - filled),
                j.percent,
                j.rows_done,
                j.rows_total.map_or("?".to_owned(), |t| t.to_string()),
            );
            let _ = err.flush();
        }
    };
    let done = service
        .run_import_job(job.job, &runner, &mut show)
        .await
        .map_err(crate::explain)?;
    if bar {
        eprintln!();
    }
    let verb = if done.dry_run {
        "would import"
    } else {
        "imported"
    };
    eprintln!(
        "import {} ({}): {} of {} rows: {verb} {}, rejected {}, left out {}, learners created {}, superseded {}, kept as history {}",
        done.job,
        done.state,
        done.rows_done,
        done.rows_total.unwrap_or(0),
        done.imported,
        done.rejected,
        done.skipped,
        done.learners_created,
        done.superseded,
        done.history,
    );
    if let Some(f) = &done.failure {
        bail!("the import failed: {f}");
    }
    if done.rejected > 0 {
        let path = args.errors.clone().unwrap_or_else(|| {
            let stem = args
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "import".into());
            Path::new(&format!("{stem}.errors.csv")).to_path_buf()
        });
        let report = service
            .import_report(&who, done.job, true)
            .await
            .map_err(crate::explain)?;
        write_download(report, Some(&path)).await?;
        bail!(
            "{} row(s) rejected; the report (row, column, value, reason) is in {}",
            done.rejected,
            path.display()
        );
    }
    Ok(())
}

/// Writes a download to a file (or standard output), chunk by chunk.
async fn write_download(
    mut d: recert_service::exports::Download,
    path: Option<&Path>,
) -> Result<()> {
    let mut out: Box<dyn Write> = match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    while let Some(chunk) = d.next_chunk().await {
        out.write_all(&chunk.map_err(crate::explain)?)?;
    }
    out.flush()?;
    Ok(())
}

/// `recert export awards|learners|audit`: the export the pages offer, streamed.
pub async fn export(
    what: &str,
    format: &str,
    output: Option<std::path::PathBuf>,
    cfg: &Config,
) -> Result<()> {
    let format = recert_service::exports::Format::parse(Some(format)).map_err(crate::explain)?;
    if format == recert_service::exports::Format::Xlsx
        && output.is_none()
        && std::io::stdout().is_terminal()
    {
        bail!("an XLSX file is binary: add --output FILE or redirect standard output");
    }
    let service = crate::prepared(cfg, &crate::public_base(cfg)).await?;
    let d = service
        .export_all(&Principal::system(), what, format)
        .await
        .map_err(crate::explain)?;
    write_download(d, output.as_deref()).await?;
    if let Some(p) = output {
        eprintln!("{what} written to {}", p.display());
    }
    Ok(())
}

/// `recert backup FILE`: a consistent copy of the SQLite database, taken while it serves.
pub async fn backup(file: &Path, cfg: &Config) -> Result<()> {
    if file.exists() {
        bail!("{} exists already: choose a new file", file.display());
    }
    let store = crate::open(cfg).await?;
    if store.backend() != recert_service::Backend::Sqlite {
        bail!(
            "recert backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see docs/operations.md)"
        );
    }
    let started = std::time::Instant::now();
    store
        .backup_into(&file.to_string_lossy())
        .await
        .with_context(|| format!("writing the backup to {}", file.display()))?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "backup written to {} ({:.1} MB in {:.1} s); keep the key-encryption key (key-encryption-key in the data directory, or the key_encryption_key setting) with it: signing keys cannot be opened without it",
        file.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `recert restore FILE`: checks the backup, copies it in as the data directory's
/// database (never over one), migrates it and checks the audit chain.
pub async fn restore(file: &Path, cfg: &Config) -> Result<()> {
    if cfg
        .get("database_url")
        .is_some_and(|u| !u.starts_with("sqlite:"))
    {
        bail!(
            "recert restore restores a SQLite backup; for PostgreSQL use pg_restore (see docs/operations.md)"
        );
    }
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let url = cfg.database_url()?;
    let target = url
        .strip_prefix("sqlite://")
        .unwrap_or(&url)
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let target = Path::new(&target);
    if target.exists() && std::fs::metadata(target).map(|m| m.len()).unwrap_or(0) > 0 {
        bail!(
            "{} holds a database already: restore into a new data directory (--data-dir), or move that file away first",
            target.display()
        );
    }
    std::fs::copy(file, target)
        .with_context(|| format!("copying {} to {}", file.display(), target.display()))?;
    // The copy is checked, never the backup itself (opening a database may write to it).
    let checked = async {
        let store = crate::open(cfg).await?;
        let summary = store
            .backup_summary()
            .await
            .with_context(|| format!("{} is not a recert backup", file.display()))?;
        Ok::<_, anyhow::Error>((store, summary))
    }
    .await;
    let (store, (awards, events)) = match checked {
        Ok(x) => x,
        Err(e) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            return Err(e);
        }
    };
    store
        .migrate()
        .await
        .context("migrating the restored database")?;
    let mut conn = store.read().await?;
    match recert_store::audit::verify(&mut conn).await? {
        recert_store::audit::Verdict::Intact { events: n } => {
            eprintln!(
                "restored {} into {}: {awards} awards, audit trail intact ({n} events; the backup held {events})",
                file.display(),
                target.display()
            );
            Ok(())
        }
        recert_store::audit::Verdict::Broken { seq, reason } => {
            bail!("restored, but the audit trail is broken at event {seq}: {reason}")
        }
    }
}
