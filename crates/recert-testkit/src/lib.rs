//! Test harness: `TestApp::spawn(Backend::Sqlite | Backend::Postgres)` starts a real recert
//! server on `127.0.0.1:0` over a fresh database (a temp SQLite file, or
//! `CREATE DATABASE recert_t_<random>` on `RECERT_TEST_POSTGRES_URL`), migrated, with an
//! admin token and a clock the test controls. The PostgreSQL database is dropped at the end.

// Creating and dropping databases is administration, not the store's data: raw SQL here.
#![allow(clippy::disallowed_methods)]

use recert_service::tokens::TokenDraft;
use recert_service::users::UserDraft;
use recert_service::{ManualClock, Principal, Service, Store};

mod smtp;
use serde_json::Value;
pub use smtp::SmtpSink;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;

pub use reqwest::StatusCode;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The environment variable naming the PostgreSQL server tests create databases on.
pub const POSTGRES_ENV: &str = "RECERT_TEST_POSTGRES_URL";

/// The password of accounts made by [`TestApp::user_token`].
pub const PASSWORD: &str = "correct horse battery";

/// The instant every test starts at: 2027-06-15 12:00 UTC.
pub const START: &str = "2027-06-15T12:00:00Z";

/// A fresh, migrated database, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("randomness");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the tests run in CI (`CI=true`): there every independent check must run, and a
/// missing tool or server fails instead of skipping with a note.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The directory of one of the repository's node tools (`tools/<name>`) when node and the
/// tool's packages are installed; `None` (with a `skipped:` line) when not — which fails in
/// CI, where `.ci/run` installs them.
pub fn node_tool(name: &str) -> Option<std::path::PathBuf> {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tools")
        .join(name);
    let has_node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_node && tool.join("node_modules").exists() {
        return Some(tool);
    }
    assert!(
        !in_ci(),
        "node and tools/{name}/node_modules are needed in CI (.ci/run runs npm ci there)"
    );
    eprintln!("skipped: tools/{name} (install node, then npm ci in tools/{name})");
    None
}

/// The directory of one of the repository's Python tools (`tools/<name>`) when its virtual
/// environment (`tools/<name>/.venv`, made by `.ci/run` from the tool's pinned
/// `requirements.txt`) holds `program`; `None` (with a `skipped:` line) when not — which
/// fails in CI.
pub fn python_tool(name: &str, program: &str) -> Option<std::path::PathBuf> {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tools")
        .join(name);
    if tool.join(".venv/bin").join(program).exists() {
        return Some(tool);
    }
    assert!(
        !in_ci(),
        "tools/{name}/.venv with {program} is needed in CI (.ci/run installs it)"
    );
    eprintln!(
        "skipped: tools/{name} (python3 -m venv tools/{name}/.venv, then \
         tools/{name}/.venv/bin/pip install -r tools/{name}/requirements.txt)"
    );
    None
}

/// The first Python interpreter that can import `module`: `PYTHON`, then `python3` on
/// PATH, then Debian's own (where `apt-get install python3-…` puts modules, even when PATH
/// starts with another Python).
pub fn python_with(module: &str) -> Option<String> {
    std::env::var("PYTHON")
        .ok()
        .into_iter()
        .chain(["python3".to_owned(), "/usr/bin/python3".to_owned()])
        .find(|py| {
            std::process::Command::new(py)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// The PostgreSQL URL for tests, or `None` (with a note) when not configured outside CI.
/// In CI a missing URL fails the test: the PostgreSQL half must run there.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if in_ci() {
                panic!(
                    "{POSTGRES_ENV} must be set in CI: the PostgreSQL tests may not be skipped there"
                );
            }
            eprintln!("skipped: PostgreSQL case ({POSTGRES_ENV} is not set)");
            None
        }
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    match base[scheme_end..].rfind('/') {
        Some(slash) => format!("{}/{db}{query}", &base[..scheme_end + slash]),
        None => format!("{base}/{db}{query}"),
    }
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<Self> {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("recert.db").display());
                Some(Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_url()?;
                let name = format!("recert_t_{}", random_hex(6));
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_ENV}: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                Some(Self {
                    url: with_database(&admin, &name),
                    backend,
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async context; a private runtime on its own thread does it.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running recert over a fresh database.
pub struct TestApp {
    pub base: String,
    /// An admin API token.
    pub token: String,
    pub client: reqwest::Client,
    pub service: Service,
    pub clock: Arc<ManualClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    // Declared last: dropped after the server is told to stop.
    pub db: TestDb,
}

impl TestApp {
    /// Starts recert on `backend`; `None` when that backend is not configured (PostgreSQL
    /// outside CI).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, false).await
    }

    /// As [`TestApp::spawn`], the instance on the test clock (`serve --test-clock`): "now"
    /// is what the database says, moved with `PUT /api/v1/test-clock`.
    pub async fn spawn_on_test_clock(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, true).await
    }

    async fn spawn_with(backend: Backend, test_clock: bool) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let store = Store::connect(&db.url)
            .await
            .expect("connect test database");
        let clock = Arc::new(ManualClock::new(START.parse().expect("start instant")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let mut service = Service::new(store, clock.clone(), base.clone())
            .with_kek(recert_credentials::Kek::generate().expect("a key-encryption key"));
        if test_clock {
            service = service.with_test_clock();
        }
        service
            .prepare("Test Org", "UTC")
            .await
            .expect("migrate and prepare");
        let token = service
            .create_token(
                &Principal::system(),
                TokenDraft::unscoped("test-admin", "admin"),
            )
            .await
            .expect("admin token")
            .token;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // Served as if behind a reverse proxy on this machine (`trusted_proxies`): a test
        // speaks for a client elsewhere by `X-Forwarded-For`; without it the client is
        // the loopback address itself.
        let limits = recert_web::Limits {
            trusted_proxies: recert_web::client_addr::TrustedProxies::parse("127.0.0.1")
                .expect("a trusted proxy"),
            ..recert_web::Limits::default()
        };
        tokio::spawn(recert_web::serve_with(
            listener,
            service.clone(),
            limits,
            async {
                let _ = rx.await;
            },
        ));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let app = Self {
            base,
            token,
            client,
            service,
            clock,
            stop: Some(tx),
            db,
        };
        for _ in 0..100 {
            if app
                .client
                .get(format!("{}/healthz", app.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Some(app);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("recert did not become healthy");
    }

    /// Moves the clock to an instant (RFC 3339) or to noon UTC of a date (`YYYY-MM-DD`).
    pub fn set_time(&self, at: &str) {
        let ts = if at.len() == 10 {
            format!("{at}T12:00:00Z")
        } else {
            at.to_owned()
        };
        self.clock.set(ts.parse().expect("instant"));
    }

    /// A token with an unscoped role (admin, auditor).
    pub async fn token_for(&self, role: &str) -> String {
        self.service
            .create_token(
                &Principal::system(),
                TokenDraft::unscoped(&format!("test-{role}"), role),
            )
            .await
            .expect("token")
            .token
    }

    /// Creates an account with password [`PASSWORD`]. `learner` links it to a learner
    /// record; `programs` scopes a program manager.
    pub async fn account(
        &self,
        username: &str,
        role: &str,
        learner: Option<&str>,
        programs: &[&str],
    ) {
        self.service
            .create_user(
                &Principal::system(),
                UserDraft {
                    username: Some(username.into()),
                    password: Some(PASSWORD.into()),
                    role: Some(role.into()),
                    learner: learner.map(str::to_owned),
                    programs: programs.iter().map(|p| (*p).to_owned()).collect(),
                },
            )
            .await
            .expect("create user");
    }

    /// Creates an account (see [`TestApp::account`]) and a token acting for it.
    pub async fn user_token(
        &self,
        username: &str,
        role: &str,
        learner: Option<&str>,
        programs: &[&str],
    ) -> String {
        self.account(username, role, learner, programs).await;
        self.service
            .create_token(
                &Principal::system(),
                TokenDraft {
                    name: Some(format!("test-{username}")),
                    role: Some(role.into()),
                    user: Some(username.into()),
                },
            )
            .await
            .expect("user token")
            .token
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Response::from(req.send().await.expect("request")).await
    }

    /// Sends raw bytes with a content type (for malformed-input tests).
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        Response::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(reqwest::Method::GET, path, None, Some(&self.token))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(body), Some(&self.token))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(body), Some(&self.token))
            .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, None, Some(&self.token))
            .await
    }

    /// Adds an issuing organization (there is no API for it yet) with its time zone.
    pub async fn add_organization(&self, code: &str, time_zone: &str) {
        let org = recert_domain::Organization {
            code: code.to_owned(),
            name: format!("Organization {code}"),
            url: None,
            time_zone: time_zone.to_owned(),
        };
        let mut tx = self.service.store.begin_write().await.expect("write");
        recert_store::organizations::insert(tx.conn(), &org, 0)
            .await
            .expect("insert organization");
        tx.commit().await.expect("commit");
    }

    /// Creates a program, panicking with the problem if it fails.
    pub async fn program(&self, body: Value) -> Value {
        self.post("/api/v1/programs", body)
            .await
            .expect(StatusCode::CREATED)
    }

    /// Creates a learner with a username and a generated legal name.
    pub async fn learner(&self, username: &str) -> Value {
        self.post(
            "/api/v1/learners",
            serde_json::json!({"username": username, "legal_name": format!("Learner {username}")}),
        )
        .await
        .expect(StatusCode::CREATED)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    pub async fn from(r: reqwest::Response) -> Self {
        let status = r.status();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            content_type,
            headers,
            text,
            json,
        }
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self.json
    }

    /// Asserts a problem+json answer with this status and returns the problem.
    #[track_caller]
    pub fn problem(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "not problem+json: {}",
            self.text
        );
        assert_eq!(self.json["status"], status.as_u16(), "{}", self.text);
        assert!(
            self.json["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{}",
            self.text
        );
        assert!(
            self.json["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        self.json
    }

    /// Asserts a 422 problem naming `field` among its errors.
    #[track_caller]
    pub fn invalid_field(self, field: &str) -> Value {
        let p = self.problem(StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.contains(&field),
            "expected an error on {field}, got {fields:?}: {p}"
        );
        p
    }
}

/// Runs one test body against SQLite and against PostgreSQL. Generates `NAME::sqlite` and
/// `NAME::postgres`; the latter is listed as ignored, saying why, when
/// `RECERT_TEST_POSTGRES_URL` was not set at build time (the crate's `build.rs` sets the
/// `recert_pg` cfg; with `CI=true` it always runs, and fails without a server).
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $crate::both_backends!(@with spawn $(#[$meta])* async fn $name($app) $body);
    };
    // The instance on the test clock (`serve --test-clock`).
    ($(#[$meta:meta])* on_test_clock async fn $name:ident($app:ident) $body:block) => {
        $crate::both_backends!(@with spawn_on_test_clock $(#[$meta])* async fn $name($app) $body);
    };
    (@with $spawn:ident $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::TestApp::$spawn($crate::Backend::Sqlite).await.expect("sqlite always runs")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(recert_pg), ignore = "PostgreSQL case: set RECERT_TEST_POSTGRES_URL to run it")]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::$spawn($crate::Backend::Postgres).await {
                    run(app).await;
                }
            }
        }
    };
}

/// A signed-in browser session over plain HTTP: the session cookie and its CSRF token,
/// for posting forms the way the pages do.
pub struct WebSession<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub session: String,
    pub csrf: String,
}

impl TestApp {
    /// Signs `user` (password [`PASSWORD`]) in and returns the session.
    pub async fn web_session(&self, user: &str) -> WebSession<'_> {
        let session = self
            .service
            .login(user, PASSWORD, None)
            .await
            .expect("login")
            .expect("credentials accepted");
        let csrf = self.service.session(&session).await.expect("session").csrf;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        WebSession {
            app: self,
            client,
            session,
            csrf,
        }
    }
}

impl WebSession<'_> {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        self.fetch(path, false).await
    }

    /// A GET as htmx sends it (`HX-Request: true`), for the fragments pages load.
    pub async fn get_htmx(&self, path: &str) -> (StatusCode, String) {
        self.fetch(path, true).await
    }

    async fn fetch(&self, path: &str, htmx: bool) -> (StatusCode, String) {
        let mut req = self
            .client
            .get(format!("{}{path}", self.app.base))
            .header("cookie", format!("recert_session={}", self.session));
        if htmx {
            req = req.header("HX-Request", "true");
        }
        let res = req.send().await.expect("request");
        (res.status(), res.text().await.unwrap_or_default())
    }

    /// Posts a form with the session's CSRF token; follows one redirect.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self.post_form(path, fields).await;
        self.follow(res).await
    }

    /// Posts a form with the session's CSRF token without following a redirect: the
    /// status and where it points (`Location`), for checking redirect-after-POST.
    pub async fn post_no_follow(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Option<String>) {
        let res = self.post_form(path, fields).await;
        let to = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        (res.status(), to)
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", format!("recert_session={}", self.session))
            .form(&all)
            .send()
            .await
            .expect("request")
    }

    /// Posts a multipart form (file uploads) with the session's CSRF token.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", format!("recert_session={}", self.session))
            .multipart(form.text("_csrf", self.csrf.clone()))
            .send()
            .await
            .expect("request");
        self.follow(res).await
    }

    async fn follow(&self, res: reqwest::Response) -> (StatusCode, String) {
        if res.status().is_redirection() {
            let to = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("/")
                .to_owned();
            return self.get(&to).await;
        }
        (res.status(), res.text().await.unwrap_or_default())
    }
}

/// The message shown beside a form field (`<span class="error" id="FIELD-error">…`).
pub fn error_beside(html: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"{field}-error\">");
    let i = html.find(&marker)? + marker.len();
    Some(html[i..i + html[i..].find('<')?].to_owned())
}

/// The value of the cookie `name` a response sets, if it sets one.
pub fn cookie_of(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v[name.len() + 1..].split(';').next())
        .map(str::to_owned)
}
