//! Running something that might crash in a child process, so that a segfault, an
//! abort, a panic or a hang is a test failure with a message instead of the end of
//! the test run (or of a notebook session).
//!
//! Two doors:
//! - [`run`] starts a command, kills it when it outlives a timeout, and tells how it
//!   ended ([`Finished`]), with its output.
//! - [`in_child`] runs a closure of a test in a fresh copy of the test binary and
//!   fails the test, with the child's output, unless the closure returned normally.
//!
//! ```no_run
//! use std::process::Command;
//! use std::time::Duration;
//! let done = xtask::child::run(&mut Command::new("true"), Duration::from_secs(5))?;
//! assert!(done.trouble().is_none());
//! # Ok::<(), String>(())
//! ```

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Result;

/// How much of each output stream is kept; the rest is read and dropped.
const KEPT_OUTPUT: usize = 1 << 20;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (11 is SIGSEGV, 6 SIGABRT, 9 SIGKILL, ...).
    Signal(i32),
    /// It was still running at the timeout and was killed.
    TimedOut,
}

/// A finished child: how it ended and what it printed.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output (the first MiB).
    pub stdout: String,
    /// Its standard error (the first MiB).
    pub stderr: String,
    /// Wall-clock seconds it ran.
    pub seconds: f64,
}

impl Finished {
    /// What went wrong, if anything: a signal, a timeout, a Rust panic (exit code 101
    /// or "panicked at" on stderr) or another non-zero exit code.
    pub fn trouble(&self) -> Option<String> {
        let panic = self.stderr.contains("panicked at");
        match self.exit {
            Exit::Signal(s) => Some(format!("killed by signal {s} ({})", signal_name(s))),
            Exit::TimedOut => Some(format!("still running after {:.0} s (hang)", self.seconds)),
            Exit::Code(101) => Some("panicked (exit code 101)".into()),
            Exit::Code(_) if panic => Some("panicked".into()),
            Exit::Code(0) => None,
            Exit::Code(c) => Some(format!("exited with code {c}")),
        }
    }

    /// The gist of standard error on one line: a Rust panic's location and message,
    /// or else the last line that is not part of a backtrace (`memory allocation of
    /// 8589934592 bytes failed`, `malloc(): invalid size`, ...).
    pub fn stderr_gist(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().map(str::trim).collect();
        if let Some(at) = lines.iter().position(|l| l.contains("panicked at")) {
            let message = lines.get(at + 1).copied().unwrap_or_default();
            return format!("{} {message}", lines[at]);
        }
        let backtrace = |l: &str| {
            l.is_empty()
                || l.starts_with("stack backtrace:")
                || l.starts_with("note:")
                || l.starts_with("at ")
                || l.split_once(':')
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        };
        let last = lines.iter().rev().find(|l| !backtrace(l));
        last.map(|l| l.chars().take(300).collect())
            .unwrap_or_default()
    }

    /// The end of standard error, for a failure message.
    pub fn stderr_tail(&self) -> &str {
        let text = self.stderr.trim_end();
        let mut start = text.len().saturating_sub(2000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        &text[start..]
    }
}

/// The usual name of a signal number on Linux.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// Runs `command` with no input, collecting its output, and kills it if it is still
/// running after `timeout`. `Err` only when it cannot be started.
pub fn run(command: &mut Command, timeout: Duration) -> Result<Finished> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    let stdout = child.stdout.take().map(collect);
    let stderr = child.stderr.take().map(collect);
    let mut pause = Duration::from_millis(1);
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                break match (status.code(), status.signal()) {
                    (Some(code), _) => Exit::Code(code),
                    (None, Some(signal)) => Exit::Signal(signal),
                    (None, None) => Exit::Code(-1),
                }
            }
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Ok(None) | Err(_) => {
                // Killing fails only if it has just exited; either way it is reaped.
                let _ = child.kill();
                let _ = child.wait();
                break Exit::TimedOut;
            }
        }
    };
    // A grandchild that inherited the pipes can keep them open after the child is
    // gone; its output is then given up on rather than waited for.
    let text = |reader: Option<mpsc::Receiver<String>>| {
        reader
            .and_then(|r| r.recv_timeout(Duration::from_secs(2)).ok())
            .unwrap_or_default()
    };
    Ok(Finished {
        exit,
        stdout: text(stdout),
        stderr: text(stderr),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Reads a stream to its end on a thread, keeping its first [`KEPT_OUTPUT`] bytes,
/// and sends the text when the stream closes.
fn collect(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let room = KEPT_OUTPUT.saturating_sub(kept.len()).min(n);
            kept.extend_from_slice(&buffer[..room]);
        }
        let _ = send.send(String::from_utf8_lossy(&kept).into_owned());
    });
    receive
}

/// `program` run through `sh` with no core dumps and at most `memory_mib` MiB of
/// address space, so a crashing or runaway child cannot fill the disk or the memory
/// of a shared machine. An allocation beyond the limit fails (in Rust: aborts), which
/// a caller sees as a crash.
pub fn limited(program: impl AsRef<std::ffi::OsStr>, memory_mib: u64) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "ulimit -c 0; ulimit -v {}; exec \"$0\" \"$@\"",
            memory_mib * 1024
        ))
        .arg(program);
    command
}

/// The environment variable that tells a copy of a test binary which test's closure
/// to run.
const CHILD_TEST: &str = "XTASK_CHILD_TEST";

/// Runs `body` in a child copy of the current test binary and panics (fails the
/// calling test) if the child is killed by a signal, panics, exits with an error or
/// outlives `timeout`. In the child, it runs `body` and returns.
///
/// `test` must be the test's full name as the harness lists it (`cargo test -- --list`):
/// `module::name` in a unit test, `name` in an integration test. Outside the
/// child the closure never runs, so state it sets is not seen by the caller.
///
/// ```no_run
/// #[test]
/// fn huge_load_is_refused_not_aborted() {
///     xtask::child::in_child("huge_load_is_refused_not_aborted", std::time::Duration::from_secs(60), || {
///         // code that could abort the process
///     });
/// }
/// ```
pub fn in_child(test: &str, timeout: Duration, body: impl FnOnce()) {
    if std::env::var(CHILD_TEST).is_ok_and(|t| t == test) {
        body();
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => panic!("cannot find the test binary to re-run `{test}` in a child: {e}"),
    };
    let mut command = Command::new(exe);
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, test);
    let done = match run(&mut command, timeout) {
        Ok(done) => done,
        Err(e) => panic!("{e}"),
    };
    if let Some(trouble) = done.trouble() {
        panic!(
            "the child running `{test}` {trouble}\n--- stdout\n{}\n--- stderr\n{}",
            done.stdout.trim_end(),
            done.stderr_tail()
        );
    }
    if !done.stdout.contains("1 passed") {
        panic!(
            "the child did not run `{test}` (is the name exact?):\n{}",
            done.stdout
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Finished {
        run(Command::new("sh").args(["-c", script]), timeout).expect("sh starts")
    }

    #[test]
    fn a_clean_exit_is_no_trouble_and_keeps_output() {
        let done = sh("echo out; echo err >&2", Duration::from_secs(10));
        assert_eq!(done.exit, Exit::Code(0));
        assert_eq!(
            (done.stdout.as_str(), done.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert_eq!(done.trouble(), None);
    }

    #[test]
    fn signals_panics_and_exit_codes_are_trouble() {
        let segv = sh("kill -SEGV $$", Duration::from_secs(10));
        assert_eq!(segv.exit, Exit::Signal(11));
        assert!(segv.trouble().is_some_and(|t| t.contains("SIGSEGV")));
        let panic = sh(
            "printf \"thread 'main' panicked at src/x.rs:1:2:\\nboom\\nstack backtrace:\\n\" >&2",
            Duration::from_secs(10),
        );
        assert_eq!(panic.trouble().as_deref(), Some("panicked"));
        assert_eq!(
            panic.stderr_gist(),
            "thread 'main' panicked at src/x.rs:1:2: boom"
        );
        let abort = sh(
            "printf 'memory allocation of 8 bytes failed\\nstack backtrace:\\n   0: f\\n             at src/a.rs:1\\nnote: omitted\\n' >&2; kill -ABRT $$",
            Duration::from_secs(10),
        );
        assert_eq!(abort.stderr_gist(), "memory allocation of 8 bytes failed");
        assert!(sh("exit 101", Duration::from_secs(10)).trouble().is_some());
        assert!(sh("exit 3", Duration::from_secs(10)).trouble().is_some());
    }

    #[test]
    fn a_hang_is_killed_at_the_timeout() {
        let done = sh("sleep 30", Duration::from_millis(300));
        assert_eq!(done.exit, Exit::TimedOut);
        assert!(done.seconds < 10.0, "took {} s", done.seconds);
        assert!(done.trouble().is_some_and(|t| t.contains("hang")));
    }

    #[test]
    fn limited_children_cannot_allocate_past_their_limit() {
        let mut small = limited("sh", 64);
        small.args(["-c", "ulimit -v; ulimit -c"]);
        let done = run(&mut small, Duration::from_secs(10)).expect("sh starts");
        assert_eq!(done.stdout, "65536\n0\n");
    }

    #[test]
    fn in_child_runs_the_body_in_another_process() {
        in_child(
            "child::tests::in_child_runs_the_body_in_another_process",
            Duration::from_secs(30),
            || assert!(std::env::var(CHILD_TEST).is_ok()),
        );
    }

    #[test]
    fn in_child_fails_when_the_body_dies() {
        let name = "child::tests::in_child_fails_when_the_body_dies";
        let outcome = std::panic::catch_unwind(|| {
            in_child(name, Duration::from_secs(30), || std::process::abort())
        });
        let message = outcome.expect_err("an abort in the child fails the test");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("SIGABRT"), "{text}");
    }
}
