//! A real SMTP server for tests: Python's aiosmtpd (Debian `python3-aiosmtpd`), which
//! parses each message it receives with Python's `email` package and appends it as one
//! JSON line — envelope, headers, decoded subject, text and HTML parts — for the test to
//! read.

use crate::in_ci;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SERVER: &str = r#"
import sys, json, time, email
from email import policy
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.content, policy=policy.default)
        text, html = m.get_body(('plain',)), m.get_body(('html',))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k: str(v) for k, v in m.items()},
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "parts": [p.get_content_type() for p in m.walk()],
        }
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"
Controller(Handler(), hostname="127.0.0.1", port=port).start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

/// A running SMTP server; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// Starts one on a free port. `None` when no Python with aiosmtpd is installed —
    /// outside CI only: in CI that fails the test.
    pub fn start() -> Option<Self> {
        let Some(python) = crate::python_with("aiosmtpd") else {
            assert!(
                !in_ci(),
                "python3 with aiosmtpd must be installed in CI (.ci/run installs python3-aiosmtpd)"
            );
            eprintln!("skipped: the SMTP test (install python3-aiosmtpd)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("received.jsonl");
        let child = Command::new(&python)
            .args(["-c", SERVER, &port.to_string()])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let sink = Self {
            child,
            port,
            file,
            _dir: dir,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(sink);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The URL recert's `smtp_url` setting takes for it (plain SMTP).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?starttls=never", self.port)
    }

    /// The reminders and the expiry, grace-ending and lapse notices received so far, in
    /// order (not the issue, renewal, revocation, sign-off, credit or digest emails).
    pub fn notices(&self) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                matches!(
                    m["headers"]["X-Recert-Event"].as_str(),
                    Some(
                        "award.reminder" | "award.expired" | "award.grace_ending" | "award.lapsed"
                    )
                )
            })
            .collect()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}
