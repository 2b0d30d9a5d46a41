//! A pool of MPI ranks that lives as long as its client, as dask-mpi's workers do:
//! the job is started once (`geoxr-mpi-worker --serve DIR` under `mpirun` or
//! `srun`), the ranks wait for plans, and each `client.load` ships one plan to the
//! running ranks and reads the outcome back. Dropping the client (or
//! `client.close()`) ends the job.
//!
//! ## The channel
//! Requests go to the launcher's standard input, one line each
//! (`run SEQ THREADS MEMORY`); both `mpirun` and `srun --input=0` forward it to rank
//! 0, wherever rank 0 runs, and rank 0 hands each request (with its plan, read from
//! `plan-SEQ.json` in the pool's folder) to the other ranks by MPI. Answers come back
//! on the launcher's standard output as lines (`geoxr-pool done SEQ`), the outcome
//! itself (every rank's figures and the merged partials, megabytes) as the file
//! `outcomes-SEQ.bin`, written aside and renamed into place before the line is
//! printed, so the driver never sees half of it. Why this and not a FIFO or a socket
//! in the folder:
//! - stdin reaches rank 0 on any node (a FIFO only works on one machine; a socket
//!   needs an address rank 0 can reach and a port to open on a cluster);
//! - the end of stdin is the end of the pool: when the driver goes away for any
//!   reason (the client dropped, the kernel killed by an interrupt or a crash), rank
//!   0 reads end-of-file, tells the others, and every rank leaves MPI cleanly, so no
//!   rank outlives its notebook;
//! - a rank that dies makes the launcher end the job (Open MPI's own abort, or
//!   `--kill-on-bad-exit`), which the driver sees at once as the end of the
//!   launcher's output; its standard error (kept in `launcher.log`) names the rank.
//!
//! Waiting ranks do not spin: MPI's blocking calls poll at full speed, so a rank
//! waits by probing for its message with short sleeps (a few milliseconds at most),
//! which keeps an idle pool at no load.
//!
//! Each request has a number. A load abandoned half-way (its thread unwound) leaves
//! its request running; the next load skips that request's answer and removes its
//! files, since the ranks answer in order. A load that gives up on its ranks (the
//! client's timeout) or finds them gone ends the pool: the error says why, and every
//! later use says the pool has ended until `client.restart()` starts a new one.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::launch::{command, describe, find_worker, gist, kill_group, JobDir};
use super::{progress_file, JobOutcome, JobReport, Launcher, MpiSettings, WorkerOptions};
use crate::compute::plan::Plan;
use crate::compute::progress::Progress;
use crate::error::{Error, Result};
use crate::model::DataArray;

/// What every protocol line on the launcher's output starts with.
pub const LINE_MARK: &str = "geoxr-pool";
/// Longest protocol line kept; longer lines are cut.
const MAX_LINE: usize = 1 << 16;
/// How long ranks may take to leave MPI after their standard input ends.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// One request to a pool: its number, and the threads and memory limit of each
/// rank for it (so a client's `threads_per_worker` and `memory_limit` apply to the
/// next load without restarting the ranks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The request's number, from 0.
    pub seq: u64,
    /// Threads of each rank.
    pub threads: usize,
    /// Memory each rank may use, in bytes.
    pub memory_limit: Option<u64>,
}

/// What rank 0 read from the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Order {
    /// Run a plan: the request and the plan's text (or why it could not be read).
    Run(Request, std::result::Result<String, String>),
    /// End the pool.
    Quit,
}

const RUN: u8 = 1;
const QUIT: u8 = 0;
const NO_PLAN: u8 = 2;
const NO_LIMIT: u64 = u64::MAX;

impl Request {
    /// The request as the line the driver writes.
    ///
    /// ```
    /// use geoxr::compute::mpi::pool::Request;
    /// let r = Request { seq: 3, threads: 2, memory_limit: Some(1000) };
    /// assert_eq!(r.line(), "run 3 2 1000\n");
    /// assert_eq!(Request::read_line("run 3 2 1000\n")?, Some(r));
    /// assert_eq!(Request::read_line("quit")?, None);
    /// assert!(Request::read_line("run 3 lots -").is_err());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn line(&self) -> String {
        let memory = self
            .memory_limit
            .map_or_else(|| "-".to_owned(), |m| m.to_string());
        format!("run {} {} {memory}\n", self.seq, self.threads)
    }

    /// Reads a line the driver wrote: a request, or `None` for `quit`.
    pub fn read_line(line: &str) -> Result<Option<Request>> {
        let bad = || Error::invalid("MPI pool request", format!("`{}`", line.trim()));
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["quit"] => Ok(None),
            ["run", seq, threads, memory] => Ok(Some(Request {
                seq: seq.parse().map_err(|_| bad())?,
                threads: threads
                    .parse()
                    .ok()
                    .filter(|t| (1..=1024).contains(t))
                    .ok_or_else(bad)?,
                memory_limit: match *memory {
                    "-" => None,
                    m => Some(m.parse().map_err(|_| bad())?),
                },
            })),
            _ => Err(bad()),
        }
    }

    /// The worker options of this request in the pool folder `dir`.
    pub fn options(&self, dir: &Path) -> WorkerOptions {
        WorkerOptions {
            plan: plan_file(dir, self.seq),
            out: None,
            outcomes: Some(outcomes_file(dir, self.seq)),
            threads: self.threads,
            memory_limit: self.memory_limit,
            serve: None,
        }
    }
}

impl Order {
    /// Rank 0's order for a request line, with the plan read from the pool folder
    /// `dir`; `None` for a line that is not a request (ignored).
    pub fn from_line(line: &str, dir: &Path) -> Option<Order> {
        match Request::read_line(line).ok()? {
            None => Some(Order::Quit),
            Some(r) => {
                let file = plan_file(dir, r.seq);
                let plan = std::fs::read_to_string(&file)
                    .map_err(|e| format!("{}: cannot read the plan: {e}", file.display()));
                Some(Order::Run(r, plan))
            }
        }
    }

    /// The order as the message rank 0 sends to the other ranks.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Order::Quit => out.push(QUIT),
            Order::Run(r, plan) => {
                out.push(if plan.is_ok() { RUN } else { NO_PLAN });
                out.extend_from_slice(&r.seq.to_le_bytes());
                out.extend_from_slice(&(r.threads as u64).to_le_bytes());
                out.extend_from_slice(&r.memory_limit.unwrap_or(NO_LIMIT).to_le_bytes());
                let text = match plan {
                    Ok(t) | Err(t) => t,
                };
                out.extend_from_slice(text.as_bytes());
            }
        }
        out
    }

    /// Reads what [`Order::encode`] wrote; a damaged message is an order to quit
    /// (every rank then leaves, rather than guess).
    ///
    /// ```
    /// use geoxr::compute::mpi::pool::{Order, Request};
    /// let r = Request { seq: 1, threads: 1, memory_limit: None };
    /// let order = Order::Run(r, Ok("{}".into()));
    /// assert_eq!(Order::decode(&order.encode()), order);
    /// assert_eq!(Order::decode(&[1, 2, 3]), Order::Quit);
    /// ```
    pub fn decode(bytes: &[u8]) -> Order {
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        let read = || -> Option<Order> {
            let kind = *bytes.first()?;
            if kind == QUIT {
                return Some(Order::Quit);
            }
            let request = Request {
                seq: word(1)?,
                threads: usize::try_from(word(9)?).ok()?,
                memory_limit: Some(word(17)?).filter(|&m| m != NO_LIMIT),
            };
            let text = String::from_utf8_lossy(bytes.get(25..)?).into_owned();
            match kind {
                RUN => Some(Order::Run(request, Ok(text))),
                NO_PLAN => Some(Order::Run(request, Err(text))),
                _ => None,
            }
        };
        read().unwrap_or(Order::Quit)
    }
}

/// Where the driver writes request `seq`'s plan.
pub fn plan_file(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("plan-{seq}.json"))
}

/// Where rank 0 writes request `seq`'s outcomes.
pub fn outcomes_file(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("outcomes-{seq}.bin"))
}

/// Rank 0's line once every rank is up.
pub fn ready_line(ranks: usize) -> String {
    format!("{LINE_MARK} ready {ranks}")
}

/// Rank 0's line once request `seq`'s outcomes are in place.
pub fn done_line(seq: u64) -> String {
    format!("{LINE_MARK} done {seq}")
}

/// Rank 0's line when request `seq` could not be run at all (its plan unreadable,
/// its outcomes unwritable).
pub fn failed_line(seq: u64, why: &str) -> String {
    let why: String = why
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    format!("{LINE_MARK} failed {seq} {why}")
}

/// A protocol line read by the driver.
#[derive(Debug, PartialEq)]
enum Answer {
    Ready,
    Done(u64),
    Failed(u64, String),
}

fn answer(line: &str) -> Option<Answer> {
    let rest = line.strip_prefix(LINE_MARK)?.strip_prefix(' ')?;
    let (word, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (seq, why) = rest.split_once(' ').unwrap_or((rest, ""));
    match word {
        "ready" => Some(Answer::Ready),
        "done" => seq.trim().parse().ok().map(Answer::Done),
        "failed" => seq
            .parse()
            .ok()
            .map(|s| Answer::Failed(s, why.trim().to_owned())),
        _ => None,
    }
}

/// The launcher's standard output, read line by line without blocking.
struct Lines {
    out: ChildStdout,
    pending: Vec<u8>,
    ended: bool,
}

impl Lines {
    fn new(out: ChildStdout) -> Lines {
        let fd = out.as_raw_fd();
        // SAFETY: fcntl on a descriptor this value owns; no memory is touched.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        Lines {
            out,
            pending: Vec::new(),
            ended: false,
        }
    }

    /// The next whole line, waiting at most `wait` for it; `None` when none came
    /// in time or the output has ended (see `ended`).
    fn next(&mut self, wait: Duration) -> Option<String> {
        if let Some(line) = self.take_line() {
            return Some(line);
        }
        if self.ended {
            return None;
        }
        let mut poll = libc::pollfd {
            fd: self.out.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: poll reads and writes the one pollfd it is given.
        unsafe {
            libc::poll(&mut poll, 1, ms);
        }
        let mut buffer = [0u8; 8192];
        loop {
            match self.out.read(&mut buffer) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&buffer[..n]);
                    if self.pending.len() > MAX_LINE && !self.pending.contains(&b'\n') {
                        self.pending.truncate(MAX_LINE / 2);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break, // nothing more now (would block)
            }
        }
        self.take_line()
    }

    fn take_line(&mut self) -> Option<String> {
        let at = self.pending.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.pending.drain(..=at).collect();
        Some(String::from_utf8_lossy(&line).trim_end().to_owned())
    }
}

/// The driver's side of a running pool (see the module notes).
pub(crate) struct Pool {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines,
    dir: JobDir,
    ranks: usize,
    launcher: Launcher,
    next: u64,
    /// Seconds from starting the launcher to every rank being ready.
    pub(crate) start_seconds: f64,
    /// Why the pool ended, once it has.
    ended: Option<String>,
    timeout: Option<Duration>,
}

impl Pool {
    /// Starts `ranks` ranks and waits until all are up (within the settings'
    /// timeout, when one is set).
    pub(crate) fn start(settings: &MpiSettings, ranks: usize) -> Result<Pool> {
        let worker = find_worker()?;
        let dir = JobDir::new(settings.job_dir.as_deref())?;
        let log_path = dir.path().join("launcher.log");
        let log = std::fs::File::create(&log_path).map_err(|e| Error::File {
            path: log_path.clone(),
            reason: format!("cannot make the MPI launcher's log: {e}"),
        })?;
        let options = WorkerOptions {
            plan: PathBuf::new(),
            out: None,
            outcomes: None,
            threads: 1,
            memory_limit: None,
            serve: Some(dir.path().to_path_buf()),
        };
        let started = Instant::now();
        let program = settings.launcher.program();
        let mut c = command(settings, ranks, &worker, &options)?;
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = c.spawn().map_err(|e| {
            let hint = match settings.launcher {
                Launcher::Mpirun => {
                    "install Open MPI (`cargo xtask setup` does: apt-get install openmpi-bin)"
                }
                Launcher::Srun => "srun runs inside a Slurm allocation (salloc or sbatch)",
            };
            Error::invalid(
                "MPI client",
                format!("cannot start `{program}`: {e}; {hint}"),
            )
        })?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let Some(stdout) = stdout else {
            kill_group(&child);
            let _ = child.wait();
            return Err(Error::invalid("MPI client", "the launcher has no output"));
        };
        let mut pool = Pool {
            child,
            stdin,
            lines: Lines::new(stdout),
            dir,
            ranks,
            launcher: settings.launcher,
            next: 0,
            start_seconds: 0.0,
            ended: None,
            timeout: settings.timeout,
        };
        // The timeout is for loads: a start waits (an interrupt stops it).
        pool.wait_for(None, None, |a| (a == Answer::Ready).then_some(()))?;
        pool.start_seconds = started.elapsed().as_secs_f64();
        Ok(pool)
    }

    /// Why the pool has ended, if it has.
    pub(crate) fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    /// Runs `plan` on the ranks, each with `threads` threads within `memory_limit`
    /// bytes, and returns its result with each rank's figures. A rank's own error
    /// (a bad file) leaves the pool running; a rank that died, or a load past the
    /// timeout, ends it.
    pub(crate) fn run(
        &mut self,
        plan: &Plan,
        threads: usize,
        memory_limit: Option<u64>,
    ) -> Result<(DataArray, JobReport)> {
        if let Some(why) = &self.ended {
            return Err(Error::invalid(
                format!("MPI pool of {} ranks", self.ranks),
                format!(
                    "it has ended ({why}); call client.restart() to start new ranks, or \
                     make a new Client::mpi"
                ),
            ));
        }
        plan.shippable()?;
        let text = plan.to_json()?;
        let started = Instant::now();
        let request = Request {
            seq: self.next,
            threads,
            memory_limit,
        };
        self.next += 1;
        let plan_path = plan_file(self.dir.path(), request.seq);
        std::fs::write(&plan_path, text).map_err(|e| Error::File {
            path: plan_path.clone(),
            reason: format!("cannot write the plan for the MPI ranks: {e}"),
        })?;
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(request.line().as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if sent.is_err() {
            // The launcher is gone (a rank died while the pool waited).
            return Err(self.lost());
        }
        let shipped = started.elapsed().as_secs_f64();
        let outcomes = outcomes_file(self.dir.path(), request.seq);
        let mut progress = plan.progress_total().map(|(what, total)| RankProgress {
            files: (0..self.ranks)
                .map(|r| progress_file(&outcomes, r))
                .collect(),
            line: Progress::new(
                format!(
                    "{what} on {} MPI rank{}",
                    self.ranks,
                    if self.ranks == 1 { "" } else { "s" }
                ),
                total,
            ),
            seen: 0,
        });
        let seq = request.seq;
        let dir = self.dir.path().to_path_buf();
        let answer = self.wait_for(self.timeout, progress.as_mut(), |a| match a {
            Answer::Done(s) if s == seq => Some(Ok(())),
            Answer::Failed(s, why) if s == seq => Some(Err(why)),
            Answer::Done(s) | Answer::Failed(s, _) if s < seq => {
                // An abandoned load's answer: nobody reads it.
                remove_request(&dir, s, 0);
                None
            }
            _ => None,
        });
        let answered = Instant::now();
        let outcome = answer.and_then(|done| {
            done.map_err(|why| Error::invalid(format!("MPI pool of {} ranks", self.ranks), why))?;
            JobOutcome::read(&outcomes)
        });
        if let (Some(p), Ok(_)) = (progress.as_mut(), &outcome) {
            p.update(); // the ranks' last counts, before their files go
        }
        remove_request(self.dir.path(), seq, self.ranks);
        let outcome = outcome?;
        let mut report = outcome.report();
        let parts = outcome.parts()?;
        let result = plan.finish(&parts)?;
        if let Some(p) = progress {
            p.line.finish();
        }
        report.wall_seconds = Some(started.elapsed().as_secs_f64());
        report.start_seconds = Some(self.start_seconds);
        report.driver_seconds = Some((shipped, answered.elapsed().as_secs_f64()));
        Ok((result, report))
    }

    /// Reads the launcher's lines until `wanted` takes one, moving the progress
    /// line on every quarter second. The end of the launcher, or the timeout, ends
    /// the pool with an error.
    fn wait_for<T>(
        &mut self,
        timeout: Option<Duration>,
        mut progress: Option<&mut RankProgress>,
        mut wanted: impl FnMut(Answer) -> Option<T>,
    ) -> Result<T> {
        let started = Instant::now();
        loop {
            if let Some(line) = self.lines.next(Duration::from_millis(250)) {
                if let Some(t) = answer(&line).and_then(&mut wanted) {
                    return Ok(t);
                }
                continue;
            }
            if let Some(p) = progress.as_deref_mut() {
                p.update();
            }
            if self.lines.ended {
                return Err(self.lost());
            }
            if let Some(limit) = timeout.filter(|&t| started.elapsed() > t) {
                return Err(self.end(format!(
                    "a load still running after {:.1} s (the client's timeout); its ranks \
                     were stopped",
                    limit.as_secs_f64()
                )));
            }
        }
    }

    /// The launcher has ended (or is ending) by itself: waits for it briefly, and
    /// ends the pool with what its standard error says (which names a lost rank).
    fn lost(&mut self) -> Error {
        let status = wait_until(&mut self.child, Instant::now() + CLOSE_WAIT);
        let how = status.map_or_else(|| "did not end".to_owned(), describe);
        let program = self.launcher.program();
        let log = tail(&self.dir.path().join("launcher.log"));
        self.end(format!("`{program}` ended with {how}: {}", gist(&log)))
    }

    /// Ends the pool (killing whatever is left of the job) and says why.
    fn end(&mut self, why: String) -> Error {
        self.stop();
        self.ended = Some(why.clone());
        Error::invalid(format!("MPI pool of {} ranks", self.ranks), why)
    }

    /// Stops the job and reaps the launcher: `SIGTERM` first, on which `mpirun` and
    /// `srun` stop the ranks they started (each rank has a process group of its
    /// own, so killing the launcher's group alone would leave them), then `SIGKILL`
    /// for whatever of the launcher's group is left. A rank whose launcher is gone
    /// anyway ends by itself (the worker watches its parent).
    fn stop(&mut self) {
        self.stdin = None;
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Ok(pid) = i32::try_from(self.child.id()) {
                // SAFETY: kill(2) sends a signal; it touches no memory of ours.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
            let _ = wait_until(&mut self.child, Instant::now() + CLOSE_WAIT);
        }
        kill_group(&self.child);
        let _ = self.child.wait();
    }

    /// Ends the pool: the ranks' input closes, so they leave MPI and exit; what is
    /// still running after a few seconds is killed.
    pub(crate) fn close(&mut self) {
        if self.ended.is_some() {
            return;
        }
        self.stdin = None; // end of input: rank 0 tells the others to quit
        let _ = wait_until(&mut self.child, Instant::now() + CLOSE_WAIT);
        self.stop();
        self.ended = Some("it was closed".into());
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("ranks", &self.ranks)
            .field("dir", &self.dir.path())
            .field("ended", &self.ended)
            .finish()
    }
}

/// Removes request `seq`'s files (plan, outcomes, the ranks' progress files).
fn remove_request(dir: &Path, seq: u64, ranks: usize) {
    let outcomes = outcomes_file(dir, seq);
    let _ = std::fs::remove_file(plan_file(dir, seq));
    for r in 0..ranks {
        let _ = std::fs::remove_file(progress_file(&outcomes, r));
    }
    let _ = std::fs::remove_file(outcomes);
}

/// The child's exit status once it has ended, or `None` at `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The last 64 KiB of a file, as text.
fn tail(path: &Path) -> String {
    use std::io::{Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 << 10)));
    let mut bytes = Vec::new();
    let _ = f.take(64 << 10).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The driver's progress line of a load: the sum of the counts the ranks keep in
/// their progress files.
pub(crate) struct RankProgress {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) line: Progress,
    pub(crate) seen: usize,
}

impl RankProgress {
    /// Reads the ranks' counts and moves the line on by what is new (a file not
    /// written yet, or caught half-written, counts as before).
    pub(crate) fn update(&mut self) {
        let now: usize = self
            .files
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .ok()
                    .and_then(|t| t.trim().parse::<usize>().ok())
                    .unwrap_or(0)
            })
            .fold(0, usize::saturating_add);
        if now > self.seen {
            self.line.tick(now - self.seen);
            self.seen = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_counts_in_their_files_move_the_driver_line_on() {
        let dir = std::env::temp_dir().join(format!("geoxr-progress-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let outcomes = dir.join("outcomes.bin");
        // What a rank writes while it works: at least the chunks it finished.
        let file = progress_file(&outcomes, 0);
        super::super::reporting_progress(Some(&file), || Progress::new("test", 5).tick(5));
        // Counted from the work's start (other tests' lines may tick meanwhile).
        let written: usize = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        assert!(written >= 5, "{written}");
        let mut p = RankProgress {
            files: (0..2).map(|r| progress_file(&outcomes, r)).collect(),
            line: Progress::new("mean on 2 MPI ranks", 10),
            seen: 0,
        };
        std::fs::remove_file(&file).unwrap();
        p.update();
        assert_eq!(p.seen, 0, "no rank has written yet");
        std::fs::write(&p.files[0], "3").unwrap();
        std::fs::write(&p.files[1], "4").unwrap();
        p.update();
        assert_eq!(p.seen, 7);
        std::fs::write(&p.files[1], "").unwrap(); // caught half-written
        p.update();
        assert_eq!(p.seen, 7, "the line never goes back");
        std::fs::write(&p.files[1], "5").unwrap();
        p.update();
        assert_eq!(p.seen, 8);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn answers_are_read_and_other_lines_ignored() {
        assert_eq!(answer(&ready_line(4)), Some(Answer::Ready));
        assert_eq!(answer(&done_line(7)), Some(Answer::Done(7)));
        assert_eq!(
            answer(&failed_line(2, "plan-2.json: gone\nreally")),
            Some(Answer::Failed(2, "plan-2.json: gone really".into()))
        );
        assert_eq!(answer("[geoxr] mean: 12/12 chunks, done in 1.2 s"), None);
        assert_eq!(answer("geoxr-poolside done 1"), None);
        assert_eq!(answer("geoxr-pool done x"), None);
    }

    #[test]
    fn orders_travel_whole_and_a_missing_plan_is_said() {
        let dir = std::env::temp_dir().join(format!("geoxr-pool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = Request {
            seq: 5,
            threads: 3,
            memory_limit: None,
        };
        std::fs::write(plan_file(&dir, 5), "{\"geoxr-plan\": 1}").unwrap();
        let order = Order::from_line(&r.line(), &dir).expect("a request");
        assert_eq!(order, Order::Run(r, Ok("{\"geoxr-plan\": 1}".into())));
        assert_eq!(Order::decode(&order.encode()), order);
        let missing = Order::from_line("run 6 1 99\n", &dir).expect("a request");
        let Order::Run(r6, Err(why)) = &missing else {
            panic!("{missing:?}")
        };
        assert_eq!(r6.memory_limit, Some(99));
        assert!(why.contains("plan-6.json"), "{why}");
        assert_eq!(Order::decode(&missing.encode()), missing);
        assert_eq!(Order::from_line("quit\n", &dir), Some(Order::Quit));
        assert_eq!(Order::from_line("hello\n", &dir), None);
        let bytes = order.encode();
        for cut in 0..25 {
            assert_eq!(Order::decode(&bytes[..cut]), Order::Quit, "cut at {cut}");
        }
        assert_eq!(
            r.options(&dir).outcomes.as_deref(),
            Some(dir.join("outcomes-5.bin").as_path())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
