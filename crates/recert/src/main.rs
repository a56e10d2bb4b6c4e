//! The `recert` binary: server and command line.

mod bench;
mod cli;
mod config;
mod operations;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches};
use cli::{
    AuditCommand, Cli, ClockCommand, Command, ConfigCommand, KeysCommand, LmsCommand,
    ProgramCommand, ReportCommand, TokenCommand, UserCommand,
};
use config::Config;
use recert_service::tokens::TokenDraft;
use recert_service::users::{AccountChange, UserDraft, generate_password};
use recert_service::{Principal, Service, Store, SystemClock};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let cfg = config::resolve(&matches)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(cfg.text("log"))
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    for k in &cfg.unknown {
        tracing::warn!("ignoring unknown key {k:?} in the settings file");
    }
    match cli.command {
        Command::Serve(_) => serve(&cfg).await,
        Command::Migrate { .. } => {
            let store = open(&cfg).await?;
            store.migrate().await.context("migrating the database")?;
            eprintln!("database is up to date");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show(_),
        } => {
            print!("{}", cfg.show());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { .. },
        } => audit_verify(&cfg).await,
        Command::Report { command } => report(command, &cfg).await,
        Command::Import { command } => operations::import(command, &cfg).await,
        Command::Export {
            what,
            format,
            output,
            ..
        } => operations::export(&what, &format, output, &cfg).await,
        Command::Backup { file, .. } => operations::backup(&file, &cfg).await,
        Command::Restore { file, .. } => operations::restore(&file, &cfg).await,
        Command::Token { command } => token(command, &cfg).await,
        Command::User { command } => user(command, &cfg).await,
        Command::Lms { command } => lms(command, &cfg).await,
        Command::Verify { file, .. } => verify(&file, &cfg).await,
        Command::Keys {
            command: KeysCommand::Rotate { organization, .. },
        } => keys_rotate(organization, &cfg).await,
        Command::Clock {
            command: ClockCommand::Set { now, .. },
        } => clock_set(&now, &cfg).await,
        Command::Program {
            command: ProgramCommand::Reapply { code, apply, .. },
        } => program_reapply(&code, apply, &cfg).await,
        Command::Bench { which } => bench::run(which).await,
    }
}

/// The base URL links start with: the setting, else `http://<bind address>` as `serve`
/// says.
pub(crate) fn public_base(cfg: &Config) -> String {
    cfg.get("base_url")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http://{}", cfg.text("bind")))
}

/// `recert verify FILE`: the checks `POST /api/v1/verify` makes, against this database's
/// published keys and status lists.
async fn verify(file: &std::path::Path, cfg: &Config) -> Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).context("the credential is not JSON")?;
    let service = prepared(cfg, &public_base(cfg)).await?;
    let report = service.verify_document(&doc).await.map_err(explain)?;
    for c in &report.checks {
        println!(
            "{} {}: {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.check,
            c.detail
        );
    }
    if report.verified {
        println!("verified");
        Ok(())
    } else {
        anyhow::bail!("not verified")
    }
}

/// `recert keys rotate`: a new signing key for an organization.
async fn keys_rotate(organization: Option<String>, cfg: &Config) -> Result<()> {
    let service = prepared(cfg, &public_base(cfg)).await?;
    let who = Principal::system();
    let code = match organization {
        Some(c) => c,
        None => service
            .list_organizations(&who)
            .await
            .map_err(explain)?
            .into_iter()
            .next()
            .map(|o| o.code)
            .context("there is no organization")?,
    };
    let key = service.rotate_key(&who, &code).await.map_err(explain)?;
    println!("organization {code} now signs with {key}; earlier keys stay in its DID document");
    Ok(())
}

/// `recert clock set`: stores the test clock.
async fn clock_set(now: &str, cfg: &Config) -> Result<()> {
    let service = prepared(cfg, &public_base(cfg)).await?;
    let set = service
        .set_test_clock(&Principal::system(), now)
        .await
        .map_err(explain)?;
    println!(
        "the test clock now reads {}; instances started with --test-clock take it as now within a second",
        set.now
    );
    Ok(())
}

/// `recert program reapply CODE [--apply]`: the preview the program page shows, and with
/// `--apply` the same job.
async fn program_reapply(code: &str, apply: bool, cfg: &Config) -> Result<()> {
    let service = prepared(cfg, &public_base(cfg)).await?;
    let who = Principal::system();
    let preview = service.reapply_preview(&who, code).await.map_err(explain)?;
    let day = |d: Option<recert_domain::Date>| d.map_or("never".to_owned(), |d| d.to_string());
    for i in &preview.items {
        println!(
            "{}\t{}\texpires {} -> {}\t{} -> {}",
            i.award,
            i.learner,
            day(i.before.expires_on),
            day(i.after.expires_on),
            i.before.status,
            i.after.status
        );
    }
    if !apply {
        eprintln!(
            "{} current certificate(s) of {} would change (statuses as of {}); run again with --apply to apply",
            preview.items.len(),
            preview.program,
            preview.as_of
        );
        return Ok(());
    }
    let done = service.reapply(&who, code).await.map_err(explain)?;
    eprintln!(
        "applied: {} current certificate(s) of {} changed, in one audited job",
        done.count, done.program
    );
    Ok(())
}

/// `recert audit verify`: recomputes the hash chain; exits non-zero naming the first
/// broken event.
async fn audit_verify(cfg: &Config) -> Result<()> {
    let store = open(cfg).await?;
    let mut conn = store.read().await?;
    match recert_store::audit::verify(&mut conn).await? {
        recert_store::audit::Verdict::Intact { events } => {
            println!("audit trail intact: {events} events, every hash checks");
            Ok(())
        }
        recert_store::audit::Verdict::Broken { seq, reason } => {
            anyhow::bail!("audit trail broken at event {seq}: {reason}")
        }
    }
}

/// `recert report compliance`: the report the API answers, as a file or on standard output.
async fn report(command: ReportCommand, cfg: &Config) -> Result<()> {
    let ReportCommand::Compliance {
        as_of,
        program,
        group,
        format,
        detail,
        output,
        ..
    } = command;
    let format = recert_service::exports::Format::parse(Some(&format))?;
    let service = prepared(cfg, "").await?;
    let query = recert_service::reports::ComplianceQuery {
        programs: program,
        groups: group,
        as_of,
        detail,
    };
    let report = service.compliance(&Principal::system(), &query).await?;
    let bytes = match format {
        recert_service::exports::Format::Json => {
            let mut v = serde_json::to_vec_pretty(&report)?;
            v.push(b'\n');
            v
        }
        other => report.table(detail).encode(other)?,
    };
    match output {
        Some(path) => {
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "compliance as of {}: {} rows, {} of {} required compliant; written to {}",
                report.as_of,
                report.rows.len(),
                report.totals.compliant,
                report.totals.required,
                path.display()
            );
        }
        None => {
            use std::io::{IsTerminal, Write};
            let mut out = std::io::stdout();
            if format == recert_service::exports::Format::Xlsx && out.is_terminal() {
                anyhow::bail!(
                    "an XLSX file is binary: add --output FILE or redirect standard output"
                );
            }
            out.write_all(&bytes)?;
        }
    }
    Ok(())
}

async fn token(command: TokenCommand, cfg: &Config) -> Result<()> {
    let system = Principal::system();
    match command {
        TokenCommand::Create {
            name, role, user, ..
        } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            let created = service
                .create_token(
                    &system,
                    TokenDraft {
                        name: Some(name.clone()),
                        role: Some(role.clone()),
                        user,
                    },
                )
                .await
                .map_err(explain)?;
            // The token alone on stdout so scripts can write TOKEN=$(recert token create …).
            println!("{}", created.token);
            eprintln!("created API token {name:?} with role {role}; it is shown only once");
        }
        TokenCommand::List { .. } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            println!(
                "{:>5}  {:<24} {:<16} {:<16} {:<8} created",
                "id", "name", "role", "user", "state"
            );
            for t in service.tokens(&system).await? {
                println!(
                    "{:>5}  {:<24} {:<16} {:<16} {:<8} {}",
                    t.id,
                    t.name,
                    t.role,
                    t.user.as_deref().unwrap_or("-"),
                    if t.revoked { "revoked" } else { "active" },
                    t.created_at
                );
            }
        }
        TokenCommand::Revoke { id, .. } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            service.revoke_token(&system, id).await.map_err(explain)?;
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}

async fn lms(command: LmsCommand, cfg: &Config) -> Result<()> {
    let system = Principal::system();
    match command {
        LmsCommand::Create { name, base_url, .. } => {
            let base_url = base_url
                .or_else(|| cfg.get("base_url").map(str::to_owned))
                .unwrap_or_else(|| "http://localhost:8080".to_owned());
            let service = prepared(cfg, &base_url).await?;
            let created = service
                .create_lms_connection(
                    &system,
                    recert_service::xapi::LmsConnectionDraft {
                        name: Some(name.clone()),
                    },
                )
                .await
                .map_err(explain)?;
            // The credentials alone on stdout, in the form curl -u and HTTP Basic take.
            println!("{}:{}", created.key, created.secret);
            eprintln!(
                "created LMS connection {name:?}; configure the LMS with the LRS endpoint {} and these credentials (shown only once)",
                created.endpoint
            );
        }
        LmsCommand::List { .. } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            println!(
                "{:<24} {:<30} {:<8} {:<26} created",
                "name", "key", "state", "last used"
            );
            for c in service.lms_connections(&system).await? {
                println!(
                    "{:<24} {:<30} {:<8} {:<26} {} by {}",
                    c.name,
                    c.key,
                    if c.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    c.last_used_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "never".into()),
                    c.created_at,
                    c.created_by
                );
            }
        }
        LmsCommand::Revoke { name, .. } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            service
                .revoke_lms_connection(&system, &name)
                .await
                .map_err(explain)?;
            eprintln!("revoked LMS connection {name:?}");
        }
    }
    Ok(())
}

/// The password for a user command: read from stdin, or generated (and then printed).
fn password_from(stdin: bool) -> Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((generate_password()?, true))
    }
}

async fn user(command: UserCommand, cfg: &Config) -> Result<()> {
    let system = Principal::system();
    match command {
        UserCommand::Create {
            username,
            role,
            learner,
            programs,
            password_stdin,
            ..
        } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            let (password, generated) = password_from(password_stdin)?;
            let u = service
                .create_user(
                    &system,
                    UserDraft {
                        username: Some(username),
                        password: Some(password.clone()),
                        role: Some(role),
                        learner,
                        programs,
                    },
                )
                .await
                .map_err(explain)?;
            if generated {
                println!("{password}");
            }
            eprintln!(
                "created account {:?} with role {}{}",
                u.username,
                u.role.as_str(),
                if generated {
                    "; its generated password is on standard output"
                } else {
                    ""
                }
            );
        }
        UserCommand::List { .. } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            for u in service.users(&system).await? {
                println!(
                    "{:<20} {:<16} learner={} programs={}{}{}",
                    u.username,
                    u.role.as_str(),
                    u.learner.as_deref().unwrap_or("-"),
                    if u.programs.is_empty() {
                        "-".into()
                    } else {
                        u.programs.join(",")
                    },
                    if u.locked { " locked" } else { "" },
                    if u.disabled { " disabled" } else { "" },
                );
            }
        }
        UserCommand::Password {
            username,
            password_stdin,
            ..
        } => {
            let service = prepared(cfg, "http://localhost:8080").await?;
            let (password, generated) = password_from(password_stdin)?;
            service
                .reset_password(&system, &username, &password)
                .await
                .map_err(explain)?;
            if generated {
                println!("{password}");
            }
            eprintln!("set a new password for {username:?}; its sessions were ended");
        }
        UserCommand::Disable { username, .. } => {
            account_state(cfg, &username, AccountChange::Disable, "disabled").await?;
        }
        UserCommand::Enable { username, .. } => {
            account_state(cfg, &username, AccountChange::Enable, "enabled").await?;
        }
        UserCommand::Unlock { username, .. } => {
            account_state(cfg, &username, AccountChange::Unlock, "unlocked").await?;
        }
    }
    Ok(())
}

async fn account_state(
    cfg: &Config,
    username: &str,
    change: AccountChange,
    done: &str,
) -> Result<()> {
    let service = prepared(cfg, "http://localhost:8080").await?;
    service
        .set_account_state(&Principal::system(), username, change)
        .await
        .map_err(explain)?;
    eprintln!("{done} account {username:?}");
    Ok(())
}

/// A service error as a message naming each field at fault.
pub(crate) fn explain(e: recert_service::ServiceError) -> anyhow::Error {
    match e {
        recert_service::ServiceError::Validation(d) => anyhow::anyhow!(
            "{}",
            d.0.iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Opens the database the settings name (SQLite under the data directory by default).
pub async fn open(cfg: &Config) -> Result<Store> {
    let url = cfg.database_url()?;
    Store::connect(&url)
        .await
        .with_context(|| format!("opening database {}", config::mask(&url)))
}

/// The key-encryption key: from the settings, else from `<data_dir>/key-encryption-key`,
/// generated there (readable by this user only) the first time.
fn key_encryption_key(cfg: &Config) -> Result<recert_credentials::Kek> {
    use recert_credentials::Kek;
    if let Some(text) = cfg.get("key_encryption_key") {
        return Kek::parse(text).context("the setting key_encryption_key");
    }
    let dir = std::path::PathBuf::from(cfg.text("data_dir"));
    let path = dir.join("key-encryption-key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return Kek::parse(&text).with_context(|| format!("the key in {}", path.display()));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let kek = Kek::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{}\n", kek.to_text()).as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "generated the key-encryption key that seals signing keys: back it up with the database, or set key_encryption_key"
    );
    Ok(kek)
}

pub(crate) async fn prepared(cfg: &Config, base_url: &str) -> Result<Service> {
    let store = open(cfg).await?;
    let mut service =
        Service::new(store, Arc::new(SystemClock), base_url).with_kek(key_encryption_key(cfg)?);
    if cfg.flag("test_clock") {
        service = service.with_test_clock();
    }
    service
        .prepare(&cfg.text("org_name"), &cfg.text("time_zone"))
        .await
        .context("preparing the database")?;
    if service.on_test_clock() {
        service
            .refresh_test_clock()
            .await
            .context("reading the test clock")?;
        tracing::warn!(now = %service.now(), "running on the test clock, not the system clock");
        // Another instance, or `recert clock set`, may move it: read it again every second.
        let watched = service.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Err(e) = watched.refresh_test_clock().await {
                    tracing::warn!(error = %e, "could not read the test clock");
                }
            }
        });
    }
    Ok(service)
}

async fn serve(cfg: &Config) -> Result<()> {
    let bind = cfg.text("bind");
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let local = listener.local_addr()?;
    let base_url = cfg
        .get("base_url")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http://{local}"));
    let mut service = prepared(cfg, &base_url).await?;
    if let Some(url) = cfg.get("smtp_url") {
        let mailer = recert_service::mail::Mailer::new(url, &cfg.text("mail_from"))
            .map_err(|e| anyhow::anyhow!("the mail settings: {e}"))?;
        tracing::info!(server = %mailer.server, "email goes through this server");
        service = service.with_mailer(mailer);
    } else {
        tracing::info!("no smtp_url: messages wait in the outbox until one is set");
    }
    let batch: usize = cfg
        .text("import_batch_rows")
        .parse()
        .ok()
        .filter(|n| *n >= recert_service::imports::MIN_BATCH_ROWS)
        .context("import_batch_rows must be a whole number, at least 100")?;
    service = service.with_import_batch_rows(batch);
    let interval: u64 = cfg
        .text("scheduler_interval")
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .context("scheduler_interval must be a whole number of seconds, at least 1")?;
    let scheduled = service.clone();
    let scheduler = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(interval));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = scheduled.scheduler_woken() => {}
            }
            if let Err(e) = scheduled.scheduler_tick().await {
                tracing::warn!(error = %e, "scheduler pass failed; the next one retries");
            }
        }
    });
    // Import jobs: any left running by a process that stopped resume here, and new ones
    // start as soon as they are queued (or, for another instance's stalled job, when its
    // lease runs out).
    let requeued = service
        .recover_imports()
        .await
        .context("recovering import jobs")?;
    if requeued > 0 {
        tracing::info!(
            jobs = requeued,
            "resuming import jobs that were running when the server stopped"
        );
    }
    let importing = service.clone();
    let importer = tokio::spawn(async move {
        let runner = format!("serve:{}", std::process::id());
        let woken = importing.imports_woken();
        loop {
            if let Err(e) = importing.run_import_jobs(&runner).await {
                tracing::warn!(error = %e, "running import jobs failed; retrying shortly");
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(15)) => {}
                _ = woken.notified() => {}
            }
        }
    });
    if cfg.flag("demo") {
        if service.seed_demo().await.context("seeding demo data")? {
            eprintln!("seeded the demo organization: 3 sites, 400 employees, 2 programs");
        }
        let token = service
            .create_token(&Principal::system(), TokenDraft::unscoped("demo", "admin"))
            .await?
            .token;
        eprintln!("demo accounts (new passwords at every start) — sign in at {base_url}/login:");
        for a in service
            .demo_accounts()
            .await
            .context("creating demo accounts")?
        {
            eprintln!(
                "  {:<11} {:<16} password {}   ({})",
                a.username,
                a.role.as_str(),
                a.password,
                a.note
            );
        }
        eprintln!("demo admin API token (shown once): {token}");
        eprintln!(
            "  try: curl -H 'Authorization: Bearer {token}' {base_url}/api/v1/awards?status=grace"
        );
    }
    eprintln!(
        "recert is listening on {base_url} (API under {base_url}/api/v1, OpenAPI at {base_url}/api/v1/openapi.json)"
    );
    let store = service.store.clone();
    let limits = recert_web::Limits {
        trusted_proxies: recert_web::client_addr::TrustedProxies::parse(
            cfg.get("trusted_proxies").unwrap_or(""),
        )
        .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?,
        ..recert_web::Limits::default()
    };
    recert_web::serve_with(listener, service, limits, stop_signal()).await?;
    // In-flight requests have been answered; stop the scheduler between passes' statements
    // (each pass is transactions that either commit or roll back) and close the pool, which
    // on SQLite also folds the write-ahead log back into the database file.
    scheduler.abort();
    let _ = scheduler.await;
    // A batch cut off here rolls back; the job resumes from its last commit next time.
    importer.abort();
    let _ = importer.await;
    store.close().await;
    eprintln!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what `systemctl stop`, `docker stop` and
/// Kubernetes send): the server then stops taking connections and finishes the requests
/// it has.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("shutting down: finishing the requests in flight");
}
