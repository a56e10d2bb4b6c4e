//! Command-line arguments. Every flag can also come from a `RECERT_*` environment variable.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "recert",
    version,
    about = "Certification management: issue, track, renew and verify credentials"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and API.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage sign-in accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage LMS connections: the HTTP Basic credentials an LMS uses on /xapi/statements.
    Lms {
        #[command(subcommand)]
        command: LmsCommand,
    },
    /// Show the effective settings and where each came from (secrets masked).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Import a CSV file of certification records or people as a job: the same job the
    /// API and the pages run, with a progress bar on a terminal. Exits non-zero when rows
    /// were rejected, and writes their report (row, column, value, reason).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export awards, learners or the audit trail as CSV, XLSX or JSON lines, streamed.
    Export {
        /// awards, learners or audit.
        what: String,
        /// csv, xlsx or jsonl.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to this file instead of standard output (required for xlsx on a terminal).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Copy the SQLite database to FILE while recert keeps serving (a consistent snapshot).
    /// For PostgreSQL use pg_dump (see docs/operations.md).
    Backup {
        /// The backup file to create (it must not exist).
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Restore a backup made by `recert backup` into the data directory (which must not
    /// hold a database yet), then check it: migrations, audit chain, counts.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Reports: the same figures as the API and the pages.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check a credential document (a file, or - for standard input): its proof against
    /// the key its issuer publishes, its dates and its revocation status. Prints each check;
    /// exits 0 only when every one passes.
    Verify {
        /// The credential (JSON), or - to read standard input.
        file: std::path::PathBuf,
        /// The public base URL the server signs under (its DIDs and status lists start
        /// with it) [default: http://<bind address>].
        #[arg(long, env = "RECERT_BASE_URL")]
        base_url: Option<String>,
        /// The server's address, when no base URL is set [default: 127.0.0.1:8080].
        #[arg(long, env = "RECERT_BIND")]
        bind: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Programs: apply a program's present rules to its current holders.
    Program {
        #[command(subcommand)]
        command: ProgramCommand,
    },
    /// The test clock that instances started with `serve --test-clock` take as now.
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
    },
    /// Signing keys of the organizations.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run a benchmark; each prints a baseline measured in the same run beside its figure.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting's effective value and its source (default, file, env, flag);
    /// takes the same flags as `serve`.
    Show(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Compliance per requirement (program × group) as of a day: required, compliant,
    /// expiring in 30/60/90 days, grace, lapsed, revoked, never certified, % compliant.
    Compliance {
        /// The day to judge on (YYYY-MM-DD); default today in the organization's zone.
        #[arg(long)]
        as_of: Option<String>,
        /// A program code; repeat for several (default: all).
        #[arg(long)]
        program: Vec<String>,
        /// A group name; repeat for several (default: all).
        #[arg(long)]
        group: Vec<String>,
        /// json, csv or xlsx.
        #[arg(long, default_value = "json")]
        format: String,
        /// One row per required person instead of per requirement.
        #[arg(long)]
        detail: bool,
        /// Write to this file instead of standard output (required for xlsx on a terminal).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Certification records: the Docebo columns username, certification_code,
    /// certification_issue_date, always_valid, certification_expire_date (course_code,
    /// course_type, legal_name and email optional).
    Awards(ImportArgs),
    /// People: username, legal_name, email, manager, groups (separated by ; or |),
    /// time_zone, end_date, active, and attr:NAME / ext:SYSTEM columns.
    Learners(ImportArgs),
    /// The latest import jobs, newest first: job, kind, state, rows and any failure.
    List {
        /// How many [default: 20, at most 500].
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Stops a queued or running import job, on whichever instance runs it: the batch in
    /// progress is rolled back, batches already committed stay; the job ends as failed,
    /// "cancelled by NAME (command line)".
    Cancel {
        /// The job's number (`recert import list`).
        job: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: std::path::PathBuf,
    /// Report what the import would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// , ; | or tab (default: detected from the header line).
    #[arg(long)]
    pub separator: Option<String>,
    /// auto, utf-8, utf-16, utf-16le, utf-16be, windows-1252 or iso-8859-1.
    #[arg(long, default_value = "auto")]
    pub charset: String,
    /// Of rows with the same username and certification code, import only the last.
    #[arg(long)]
    pub keep_last_duplicate: bool,
    /// Refuse rows whose learner does not exist instead of creating the learner.
    #[arg(long)]
    pub no_create_learners: bool,
    /// recert's column name -> the file's heading, as JSON: '{"username": "Login"}'.
    #[arg(long)]
    pub mapping: Option<String>,
    /// Where the report of rejected rows goes [default: FILE's name + .errors.csv, in the
    /// current directory].
    #[arg(long)]
    pub errors: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// Lists each current certificate of the program that its present validity, renewal
    /// window and grace would change (expiry and status, before -> after); with --apply,
    /// applies exactly that as one audited job. Without --apply nothing changes.
    Reapply {
        /// The program's code.
        code: String,
        /// Apply the changes (default: preview only).
        #[arg(long)]
        apply: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Move the test clock: every instance on this database started with `--test-clock`
    /// takes it as now within a second. Audited.
    Set {
        /// An instant with its offset (2027-10-12T09:00:00Z), or a date (2027-10-12: 09:00
        /// in the organization's time zone).
        now: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key to an organization: new credentials are signed with it; the
    /// old keys stay in its DID document, so what they signed still verifies.
    Rotate {
        /// The organization's code [default: the first organization].
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit hash chain: exit 0 and a count when intact, non-zero naming
    /// the first broken event otherwise.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token; prints the token alone on standard output.
    Create {
        #[arg(long)]
        name: String,
        /// admin, program_manager, auditor, supervisor or learner.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The account a program_manager, supervisor or learner token acts for.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tokens (never the secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id (from `token list`).
    Revoke {
        #[arg(long)]
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum LmsCommand {
    /// Create xAPI credentials; prints `KEY:SECRET` alone on standard output (the secret
    /// is shown only once), e.g. for `curl -u "$(recert lms create --name moodle)"`.
    Create {
        #[arg(long)]
        name: String,
        /// recert's public base URL, to print the LRS endpoint the LMS should use.
        #[arg(long, env = "RECERT_BASE_URL")]
        base_url: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List connections (never the secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a connection: its credentials stop working at once.
    Revoke {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a random password is generated and
    /// printed alone on standard output.
    Create {
        #[arg(long)]
        username: String,
        /// admin, program_manager, auditor, supervisor or learner.
        #[arg(long)]
        role: String,
        /// The learner record this person is (required for supervisor and learner).
        #[arg(long)]
        learner: Option<String>,
        /// A program a program manager runs (repeat for several).
        #[arg(long = "program")]
        programs: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account: its sessions end and its tokens stop working.
    Disable {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lift the wait on sign-ins after failed attempts.
    Unlock {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password (a locked account is unlocked, its sessions end). Prints a
    /// generated password unless --password-stdin.
    Password {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// A certificate drawn from the default template: PDF, PNG 1× and 2× (medians; no
    /// baseline: absolute targets).
    #[command(name = "render")]
    Render {
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// An Open Badges 3.0 credential signed and verified in each suite (eddsa-rdfc-2022,
    /// eddsa-jcs-2022), beside Digital Bazaar's JavaScript libraries on the same
    /// credential (tools/vc-verify, when installed).
    #[command(name = "sign_verify", alias = "sign-verify")]
    SignVerify {
        #[arg(long, default_value_t = 2000)]
        count: usize,
    },
    /// Issue awards through the HTTP API (8 concurrent keep-alive clients) against bare
    /// single-row SQLite transactions.
    #[command(name = "issue_10k", alias = "issue-10k")]
    Issue10k {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// Listing queries over a million awards (rare statuses, a deep page, learner search,
    /// a program's holder counts) through the HTTP API, each beside the same result by one
    /// hand-written SQL query on the same database.
    #[command(name = "awards_1m", alias = "awards-1m")]
    Awards1m {
        #[command(flatten)]
        data: BenchData,
        /// Timed runs per query (the median is reported).
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// The compliance report (every program × every site, as of today and a year ago)
    /// over a million awards, beside one hand-written SQL query in the sqlite3 CLI (or,
    /// on PostgreSQL, through the driver) computing the same figures.
    #[command(name = "compliance_1m", alias = "compliance-1m")]
    Compliance1m {
        #[command(flatten)]
        data: BenchData,
        #[arg(long, default_value_t = 20)]
        sites: usize,
        /// Timed runs per figure (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// One scheduler pass over a million awards of which 1% have a notice due, beside the
    /// bare indexed `SELECT` of the due rows on the same database.
    #[command(name = "reminders_1m", alias = "reminders-1m")]
    Reminders1m {
        #[command(flatten)]
        data: BenchData,
        /// Timed runs (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Share of the awards with a notice due, in percent.
        #[arg(long, default_value_t = 1.0)]
        due_percent: f64,
    },
    /// A million-row certification-records CSV imported into a fresh SQLite database by
    /// the import job, beside `sqlite3 .import` of the same file; peak RSS; statuses
    /// checked on a sample.
    #[command(name = "import_1m", alias = "import-1m")]
    Import1m {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
    },
    /// The same into PostgreSQL, beside `psql \copy` of the same file.
    #[command(name = "import_1m_pg", alias = "import-1m-pg")]
    Import1mPg {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// The PostgreSQL server (a fresh database is created on it and dropped)
        /// [default: RECERT_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test].
        #[arg(long)]
        database_url: Option<String>,
    },
    /// `GET /api/v1/verify/{id}` over a million awards under `wrk -t2 -c64`, beside nginx
    /// serving the same JSON body as a static file with the same wrk settings.
    #[command(name = "verify_rps", alias = "verify-rps")]
    VerifyRps {
        #[command(flatten)]
        data: BenchData,
        /// Seconds of load per server (wrk's -d).
        #[arg(long, default_value_t = 10)]
        duration: u32,
    },
    /// Completions through `POST /api/v1/completions`, one per request (8 concurrent
    /// clients) and in batches, each earning an award, against bare SQLite inserts.
    Completions {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Completions per batch request.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

/// The generated data of the million-award benchmarks, and where it lives.
#[derive(Debug, Args)]
pub struct BenchData {
    #[arg(long, default_value_t = 1_000_000)]
    pub awards: usize,
    #[arg(long, default_value_t = 100_000)]
    pub learners: usize,
    #[arg(long, default_value_t = 20)]
    pub programs: usize,
    /// A PostgreSQL server (postgres://USER@HOST/DB): the benchmark creates a fresh
    /// database on it and drops it afterwards. Default: a temporary SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "RECERT_BIND")]
    pub bind: Option<String>,
    /// Public base URL for links [default: http://<bind address>].
    #[arg(long, env = "RECERT_BASE_URL")]
    pub base_url: Option<String>,
    /// Seed a realistic demo organization (once) and print demo accounts and a token.
    #[arg(long, env = "RECERT_DEMO")]
    pub demo: bool,
    /// Take "now" from the test clock kept in the database (moved with `recert clock set`,
    /// the API or the banner's page) instead of the system clock; every page says so.
    #[arg(long, env = "RECERT_TEST_CLOCK")]
    pub test_clock: bool,
    /// The mail server reminders and notices go through: smtp://[user:pass@]host:port
    /// (smtps:// = implicit TLS; ?starttls=required|opportunistic|never). Without it
    /// messages wait in the outbox.
    #[arg(long, env = "RECERT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every message: "Name <address>" [default: recert <recert@localhost>].
    #[arg(long, env = "RECERT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Seconds between scheduler passes (reminders, then delivery) [default: 60].
    #[arg(long, env = "RECERT_SCHEDULER_INTERVAL")]
    pub scheduler_interval: Option<String>,
    /// The reverse proxies in front of recert (IPs or networks such as 10.0.0.0/8,
    /// comma-separated): their Forwarded / X-Forwarded-For headers name the client for
    /// sign-in throttling, verification limits and the audit trail. Nobody else's are read.
    #[arg(long, env = "RECERT_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Rows an import writes per transaction (at least 100): fewer are committed sooner
    /// and hold the database's write lock for less time, more import faster [default: 50000].
    #[arg(long, env = "RECERT_IMPORT_BATCH_ROWS")]
    pub import_batch_rows: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The settings every command that opens the database shares. Each is also a key of the
/// settings file and a `RECERT_*` variable; flags win over variables, which win over the
/// file, which wins over the defaults (see `recert config show`).
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Directory for the embedded SQLite database and recert.toml [default: ./recert-data].
    #[arg(long, env = "RECERT_DATA_DIR")]
    pub data_dir: Option<String>,
    /// sqlite://PATH or postgres://USER@HOST/DB (overrides --data-dir).
    #[arg(long, env = "RECERT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Name of the organization a fresh installation creates [default: Northwind Industrial].
    #[arg(long, env = "RECERT_ORG_NAME")]
    pub org_name: Option<String>,
    /// IANA time zone of that organization: issue and expiry dates are reckoned in it [default: UTC].
    #[arg(long, env = "RECERT_TIME_ZONE")]
    pub time_zone: Option<String>,
    /// The key-encryption key (32 bytes, base64) that seals signing keys; set it in the
    /// environment or the settings file rather than on a command line others can read.
    #[arg(long, env = "RECERT_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub key_encryption_key: Option<String>,
    /// Log filter, tracing EnvFilter syntax [default: info,sqlx=warn].
    #[arg(long, env = "RECERT_LOG")]
    pub log: Option<String>,
    /// The settings file [default: recert.toml in the data directory, when present].
    #[arg(long, env = "RECERT_CONFIG")]
    pub config: Option<String>,
}
