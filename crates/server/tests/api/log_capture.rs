//! The suite's logs, captured and checked line by line: every event papay (and the test
//! process) logs in any test goes through papay's own JSON formatter (`papay::logging`) into
//! a writer that parses each line as JSON and searches it for every secret the tests
//! configure: the test keys, the v2 key, admin and control tokens, and any `*key*`/`*token*`
//! a control answer hands out. A problem fails the test whose app is dropped next.
//!
//! With `PAPAY_TEST_LOG_FILE` set (`.ci/run` sets it), every line is also appended to that
//! file and every secret to `<file>.secrets`, so `scripts/check-test-logs.py` can search the
//! whole run's logs again once the suite is done.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

struct Captured {
    secrets: Vec<String>,
    problems: Vec<String>,
    lines: usize,
    /// The latest lines, for tests that look at what a request logged.
    recent: std::collections::VecDeque<String>,
    file: Option<std::fs::File>,
    secrets_file: Option<std::fs::File>,
}

const RECENT: usize = 50_000;

fn captured() -> &'static Mutex<Captured> {
    static CAPTURED: OnceLock<Mutex<Captured>> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let path = std::env::var("PAPAY_TEST_LOG_FILE").ok().filter(|p| !p.is_empty());
        let open = |p: String| std::fs::OpenOptions::new().create(true).append(true).open(p).ok();
        Mutex::new(Captured {
            secrets: Vec::new(),
            problems: Vec::new(),
            lines: 0,
            recent: std::collections::VecDeque::new(),
            secrets_file: path.as_ref().and_then(|p| open(format!("{p}.secrets"))),
            file: path.and_then(open),
        })
    })
}

fn lock() -> std::sync::MutexGuard<'static, Captured> {
    captured().lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Installs the capturing subscriber once for the whole test binary.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let filter =
            tracing_subscriber::EnvFilter::new("debug,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info");
        let subscriber = papay::logging::subscriber(papay::cli::LogFormat::Json, filter, Capture);
        let _ = tracing_subscriber::util::SubscriberInitExt::try_init(subscriber);
    });
}

/// Adds `secret` to what no log line may contain. A PEM counts by each base64 line of its
/// body (a key logged with its newlines escaped still matches), anything else as it is.
pub fn secret(secret: &str) {
    let parts: Vec<String> = if secret.contains("-----BEGIN") {
        secret
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_string)
            .collect()
    } else if secret.len() >= 8 {
        vec![secret.to_string()]
    } else {
        Vec::new()
    };
    let mut c = lock();
    for p in parts {
        if !c.secrets.contains(&p) {
            if let Some(f) = c.secrets_file.as_mut() {
                let _ = writeln!(f, "{p}");
            }
            c.secrets.push(p);
        }
    }
}

/// Registers every string field named like a key or token in a control answer.
pub fn secrets_in(json: &serde_json::Value) {
    match json {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k.contains("key") || k.contains("token") => {
                        if !k.ends_with("_id") && !k.ends_with("serial") && !k.contains("file") {
                            secret(s);
                        }
                    }
                    other => secrets_in(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(secrets_in),
        _ => {}
    }
}

/// Fails with every problem seen since the last call (lines that are not JSON, secrets).
pub fn assert_clean() {
    let problems = std::mem::take(&mut lock().problems);
    assert!(
        problems.is_empty(),
        "the logs broke the rules:\n{}",
        problems.join("\n")
    );
}

/// How many lines were checked so far, and how many secrets are searched for.
pub fn counts() -> (usize, usize) {
    let c = lock();
    (c.lines, c.secrets.len())
}

/// The captured lines (most recent [`RECENT`]) that contain `needle`, parsed.
pub fn lines_with(needle: &str) -> Vec<serde_json::Value> {
    lock()
        .recent
        .iter()
        .filter(|l| l.contains(needle))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn check(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let mut c = lock();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        c.lines += 1;
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            let problem = format!("not a JSON line ({e}): {}", clip(line));
            c.problems.push(problem);
        }
        let leaked: Vec<usize> = (0..c.secrets.len()).filter(|&i| line.contains(&c.secrets[i])).collect();
        for i in leaked {
            // Say which line leaked without printing the secret again.
            let masked = line.replace(&c.secrets[i], "<SECRET>");
            let problem = format!(
                "secret #{i} ({} chars) in a log line: {}",
                c.secrets[i].len(),
                clip(&masked)
            );
            c.problems.push(problem);
        }
        if let Some(f) = c.file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if c.recent.len() == RECENT {
            c.recent.pop_front();
        }
        c.recent.push_back(line.to_string());
    }
}

fn clip(s: &str) -> String {
    s.chars().take(400).collect()
}

struct Capture;

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line(Vec::new())
    }
}

/// One event's bytes; checked when the formatter is done with it.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        check(&self.0);
    }
}

/// Held by each test app: when it goes, the logs so far must have been clean.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_clean();
        }
    }
}
