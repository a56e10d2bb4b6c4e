//! The `recert` binary: server and command line.

mod bench;
mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, DbArgs, TokenCommand};
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
        Command::Token {
            command: TokenCommand::Create { name, role, db },
        } => {
            let service = prepared(&db, "http://localhost:8080").await?;
            let token = service
                .create_token(&Principal::system(), &name, &role)
                .await?;
            // The token alone on stdout so scripts can write TOKEN=$(recert token create …).
            println!("{token}");
            eprintln!("created API token {name:?} with role {role}; it is shown only once");
            Ok(())
        }
        Command::Bench { which } => bench::run(which).await,
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
            .create_token(&Principal::system(), "demo", "admin")
            .await?;
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
