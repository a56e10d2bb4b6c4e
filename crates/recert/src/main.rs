//! The `recert` binary: server and command line.

mod bench;
mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, DbArgs, LmsCommand, TokenCommand, UserCommand};
use recert_service::tokens::TokenDraft;
use recert_service::users::{AccountChange, UserDraft, generate_password};
use recert_service::{Principal, Service, Store, SystemClock};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECERT_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate { db } => {
            let store = open(&db).await?;
            store.migrate().await.context("migrating the database")?;
            eprintln!("database is up to date");
            Ok(())
        }
        Command::Token { command } => token(command).await,
        Command::User { command } => user(command).await,
        Command::Lms { command } => lms(command).await,
        Command::Bench { which } => bench::run(which).await,
    }
}

async fn token(command: TokenCommand) -> Result<()> {
    let system = Principal::system();
    match command {
        TokenCommand::Create {
            name,
            role,
            user,
            db,
        } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
        TokenCommand::List { db } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
        TokenCommand::Revoke { id, db } => {
            let service = prepared(&db, "http://localhost:8080").await?;
            service.revoke_token(&system, id).await.map_err(explain)?;
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}

async fn lms(command: LmsCommand) -> Result<()> {
    let system = Principal::system();
    match command {
        LmsCommand::Create { name, base_url, db } => {
            let service = prepared(&db, &base_url).await?;
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
        LmsCommand::List { db } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
        LmsCommand::Revoke { name, db } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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

async fn user(command: UserCommand) -> Result<()> {
    let system = Principal::system();
    match command {
        UserCommand::Create {
            username,
            role,
            learner,
            programs,
            password_stdin,
            db,
        } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
        UserCommand::List { db } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
            db,
        } => {
            let service = prepared(&db, "http://localhost:8080").await?;
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
        UserCommand::Disable { username, db } => {
            account_state(&db, &username, AccountChange::Disable, "disabled").await?;
        }
        UserCommand::Enable { username, db } => {
            account_state(&db, &username, AccountChange::Enable, "enabled").await?;
        }
        UserCommand::Unlock { username, db } => {
            account_state(&db, &username, AccountChange::Unlock, "unlocked").await?;
        }
    }
    Ok(())
}

async fn account_state(
    db: &DbArgs,
    username: &str,
    change: AccountChange,
    done: &str,
) -> Result<()> {
    let service = prepared(db, "http://localhost:8080").await?;
    service
        .set_account_state(&Principal::system(), username, change)
        .await
        .map_err(explain)?;
    eprintln!("{done} account {username:?}");
    Ok(())
}

/// A service error as a message naming each field at fault.
fn explain(e: recert_service::ServiceError) -> anyhow::Error {
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

/// Opens the database named by the flags (SQLite under the data directory by default).
pub async fn open(db: &DbArgs) -> Result<Store> {
    let url = db.url()?;
    Store::connect(&url)
        .await
        .with_context(|| format!("opening database {}", redact(&url)))
}

async fn prepared(db: &DbArgs, base_url: &str) -> Result<Service> {
    let store = open(db).await?;
    let service = Service::new(store, Arc::new(SystemClock), base_url);
    service
        .prepare(&db.org_name, &db.time_zone)
        .await
        .context("preparing the database")?;
    Ok(service)
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(args: cli::ServeArgs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let local = listener.local_addr()?;
    let base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let service = prepared(&args.db, &base_url).await?;
    if args.demo {
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down");
    };
    recert_web::serve(listener, service, shutdown).await?;
    Ok(())
}
