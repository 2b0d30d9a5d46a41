//! Running one test in a child process, for tests whose subject could crash,
//! exhaust a resource or change process-wide limits.
//!
//! The parent calls [`run`] with the full name of a test (its path from the crate
//! root) and a role; the test binary runs again with only that test, the role in
//! [`ROLE`], and a time limit. The test checks [`role`] to know which side it is on.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that tells a test it runs as the child.
pub(crate) const ROLE: &str = "GEOXR_TEST_CHILD_ROLE";

/// The role this process was started with, if it is a child.
pub(crate) fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// How a child ended.
#[derive(Debug)]
pub(crate) struct Ended {
    pub output: Output,
    pub timed_out: bool,
}

impl Ended {
    /// Panics (this is a test helper) unless the child exited with status 0.
    pub(crate) fn assert_success(&self) {
        use std::os::unix::process::ExitStatusExt;
        let status = self.output.status;
        assert!(
            !self.timed_out && status.success(),
            "child failed (timed out: {}, exit {:?}, signal {:?})\nstdout:\n{}\nstderr:\n{}",
            self.timed_out,
            status.code(),
            status.signal(),
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        );
    }
}

/// Runs the test `name` again in a child process with `ROLE=role`, killing it after
/// `limit`.
pub(crate) fn run(name: &str, role: &str, limit: Duration) -> Ended {
    run_with_env(name, role, limit, &[])
}

/// [`run`], with more environment variables for the child.
pub(crate) fn run_with_env(name: &str, role: &str, limit: Duration, env: &[(&str, &str)]) -> Ended {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    // `geoxr::`, not `crate::`: the integration tests include this file by `#[path]`.
    geoxr::base::sys::inherit_std_streams_only(&mut command);
    let mut child = command
        .args([
            name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start child test");
    // Drain both pipes while waiting, so a talkative child cannot block on them.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            timed_out = true;
            break child.wait().expect("wait for killed child");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    Ended { output, timed_out }
}
