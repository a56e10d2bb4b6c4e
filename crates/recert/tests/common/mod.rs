//! Running the real `recert` binary from the integration tests: a command to completion,
//! or `recert serve` in the background until dropped.

#![allow(dead_code)] // each test binary uses its own part of this

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running `recert serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The demo admin token it printed (with `--demo`; empty otherwise).
    pub token: String,
    /// Every line it wrote to standard error so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Sends SIGTERM (what a service manager sends) and waits up to `within` for the
    /// process to end; answers whether it ended, and with success.
    pub fn terminate(&mut self, within: Duration) -> Option<bool> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM");
        let until = std::time::Instant::now() + within;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("the server's status") {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// Runs `recert serve ARGS --bind 127.0.0.1:0` and waits for the address it prints (and,
/// with `--demo`, the demo token).
pub fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recert");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().expect("the log").push(line.clone());
            let _ = tx.send(line);
        }
    });
    let wants_token = args.contains(&"--demo");
    let (mut base, mut token) = (None, None);
    while base.is_none() || (wants_token && token.is_none()) {
        let line = rx
            .recv_timeout(Duration::from_secs(240))
            .expect("recert printed its address (and demo token)");
        if let Some(rest) = line.split("demo admin API token (shown once): ").nth(1) {
            token = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.split("recert is listening on ").nth(1) {
            base = rest.split_whitespace().next().map(str::to_owned);
        }
    }
    Server {
        child,
        base: base.unwrap_or_default(),
        token: token.unwrap_or_default(),
        log,
    }
}

/// Runs the binary to completion, asserting success; returns its standard output.
pub fn recert_ok(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(args)
        .output()
        .expect("run recert");
    assert!(
        out.status.success(),
        "recert {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
