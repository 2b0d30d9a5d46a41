//! Running a lazy array's plan on the ranks of an MPI job. geoxr does not link MPI:
//! the notebook (the driver) starts `mpirun` (or `srun`) on the worker binary
//! `geoxr-mpi-worker` (package `geoxr-mpi`, the only part that links MPI) once per
//! client, and talks to the running ranks through their launcher ([`pool`]: the
//! channel, start-up, errors and ending).
//!
//! What happens to one plan, in order:
//! 1. The driver writes `plan-SEQ.json` into the pool's folder and asks rank 0 to run
//!    it (a line on the launcher's standard input, with the threads and memory
//!    limit of each rank); rank 0 hands the plan to every rank.
//! 2. Rank `r` runs the pieces [`split`]`(pieces, N, r)` (a fixed split), on `T`
//!    threads within `B` bytes ([`RankWork::start`]), reading its files through the
//!    rank's [`OpenFiles`], which keeps them open for the next plan (each file's
//!    identity is still checked when a plan first reads it, and on every read). It
//!    keeps its count of finished chunks in `outcomes-SEQ.progress-<r>`, which the
//!    driver sums into one progress line.
//! 3. When the pieces are a reduction's partials, they are merged along the ranks:
//!    rank `r` receives the running total of pieces `0..start` from rank `r - 1`,
//!    merges its own partials onto it in order and hands the total on to rank
//!    `r + 1` ([`RankWork::finish`]). That is the in-process merge, left to right
//!    from piece 0, cut at rank boundaries, so the bits never depend on `N`, and
//!    each rank sends one partial however many pieces it ran.
//! 4. Every rank sends its [`RankOutcome`] (results or error, wall time, peak RSS)
//!    to rank 0, which receives them in rank order, writes them all
//!    ([`JobOutcome::write`]) and says so on its standard output.
//! 5. The driver finishes the result with the plan it kept, or returns the first
//!    failed rank's error, naming the rank; the ranks wait for the next plan.
//!
//! The batch form (`mpirun -n N geoxr-mpi-worker plan.json out.nc`) runs steps 2-4
//! once on a plan file, and rank 0 finishes the result ([`conclude`]) and writes it
//! with `to_netcdf`.

mod launch;
pub mod pool;
mod wire;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use launch::find_worker;
pub use wire::{split, JobOutcome, JobReport, RankFigures, RankOutcome};

use crate::compute::plan::{OpenFiles, Plan, Share};
use crate::error::{Error, Result};

/// The program that starts the ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Launcher {
    /// Open MPI's `mpirun` (also `mpiexec`), on this machine or a host file's hosts.
    #[default]
    Mpirun,
    /// Slurm's `srun`, inside an allocation (`salloc`, `sbatch`).
    Srun,
}

impl Launcher {
    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Launcher::Mpirun => "mpirun",
            Launcher::Srun => "srun",
        }
    }
}

/// How an MPI client starts its ranks (set through [`crate::Client`]'s builder).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MpiSettings {
    pub(crate) launcher: Launcher,
    pub(crate) hostfile: Option<PathBuf>,
    pub(crate) args: Vec<String>,
    pub(crate) job_dir: Option<PathBuf>,
    pub(crate) timeout: Option<Duration>,
}

/// The worker binary's command line, parsed by every rank.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerOptions {
    /// The plan file.
    pub plan: PathBuf,
    /// Where rank 0 writes the result with `to_netcdf` (the batch form).
    pub out: Option<PathBuf>,
    /// Where rank 0 writes every rank's outcome (what the driver reads).
    pub outcomes: Option<PathBuf>,
    /// Threads of each rank.
    pub threads: usize,
    /// Memory each rank may use, in bytes.
    pub memory_limit: Option<u64>,
    /// The pool form (`--serve DIR`): the ranks stay up and run the plans the driver
    /// asks for one after another (see [`pool`]); no plan file is given.
    pub serve: Option<PathBuf>,
}

/// The worker's usage line.
pub const WORKER_USAGE: &str = "usage: geoxr-mpi-worker [--threads N] [--memory-limit SIZE] \
[--outcomes FILE] PLAN.json [OUT.nc], or geoxr-mpi-worker --serve DIR (what Client::mpi \
starts)  (start it with mpirun -n RANKS or srun)";

impl WorkerOptions {
    /// Reads the worker's arguments (without the program name).
    ///
    /// ```
    /// use geoxr::compute::mpi::WorkerOptions;
    /// let o = WorkerOptions::parse(["--threads", "2", "plan.json", "out.nc"].map(String::from))?;
    /// assert_eq!((o.threads, o.out.as_deref()), (2, Some("out.nc".as_ref())));
    /// assert!(WorkerOptions::parse(["--threads", "lots", "plan.json"].map(String::from)).is_err());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<WorkerOptions> {
        let bad =
            |why: String| Error::invalid("geoxr-mpi-worker", format!("{why}; {WORKER_USAGE}"));
        let mut args = args.into_iter();
        let mut files = Vec::new();
        let mut options = WorkerOptions {
            plan: PathBuf::new(),
            out: None,
            outcomes: None,
            threads: 1,
            memory_limit: None,
            serve: None,
        };
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| bad(format!("`{arg}` needs a value")))
            };
            match arg.as_str() {
                "--threads" => {
                    let v = value()?;
                    options.threads = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1024).contains(n))
                        .ok_or_else(|| {
                            bad(format!("--threads `{v}` is not a number from 1 to 1024"))
                        })?;
                }
                "--memory-limit" => options.memory_limit = Some(crate::parse_bytes(&value()?)?),
                "--outcomes" => options.outcomes = Some(value()?.into()),
                "--serve" => options.serve = Some(value()?.into()),
                a if a.starts_with("--") => return Err(bad(format!("unknown option `{a}`"))),
                _ => files.push(PathBuf::from(arg)),
            }
        }
        let mut files = files.into_iter();
        if options.serve.is_some() {
            return match files.next() {
                Some(f) => Err(bad(format!(
                    "`--serve` takes its plans from the driver, not `{}`",
                    f.display()
                ))),
                None => Ok(options),
            };
        }
        options.plan = files
            .next()
            .ok_or_else(|| bad("no plan file given".into()))?;
        options.out = files.next();
        if files.next().is_some() {
            return Err(bad("more than two files given".into()));
        }
        if options.out.is_none() && options.outcomes.is_none() {
            return Err(bad(
                "nothing to write: give OUT.nc or --outcomes FILE".into()
            ));
        }
        Ok(options)
    }

    /// The arguments that [`WorkerOptions::parse`] reads back as these options.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["--threads".into(), self.threads.to_string().into()];
        if let Some(m) = self.memory_limit {
            args.extend(["--memory-limit".into(), m.to_string().into()]);
        }
        if let Some(o) = &self.outcomes {
            args.extend(["--outcomes".into(), o.into()]);
        }
        if let Some(dir) = &self.serve {
            args.extend(["--serve".into(), dir.into()]);
            return args;
        }
        args.push(self.plan.clone().into());
        args.extend(self.out.iter().map(OsString::from));
        args
    }

    /// A client with this rank's threads and memory limit.
    fn client(&self) -> crate::Client {
        let mut client = crate::Client::new().threads_per_worker(self.threads);
        client.set_memory_limit(self.memory_limit);
        client
    }
}

/// This machine's host name, for the report.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "?".into())
}

/// One rank's work on a plan: its share run (or the error that stopped it), waiting
/// for the running total of the ranks before it when the plan's results merge (see
/// the module notes). Every error is kept inside, so the rank still takes part in
/// every message.
pub struct RankWork {
    rank: usize,
    ranks: usize,
    started: Instant,
    plan_seconds: f64,
    /// When the share was run (what follows is waiting for the total, and merging).
    ran: Instant,
    pieces: std::ops::Range<usize>,
    merges: bool,
    share: std::result::Result<Share, String>,
}

/// What a panic (a bug) said.
fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    let why = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    format!("internal error (panic): {why}")
}

/// Runs `f`, a panic turned into an error message.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> std::result::Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(panic) => Err(panic_text(panic)),
    }
}

impl RankWork {
    /// Runs rank `rank`'s share of the plan in `plan_text` on the options' threads
    /// and memory limit, reading its files through `files` (kept for later plans).
    pub fn start(
        plan_text: &str,
        rank: usize,
        ranks: usize,
        options: &WorkerOptions,
        files: &OpenFiles,
    ) -> RankWork {
        let started = Instant::now();
        let plan = guarded(|| Plan::from_json_keeping(plan_text, files));
        let plan_seconds = started.elapsed().as_secs_f64();
        // Every rank reads the same text, so all agree on this (it decides who
        // sends what to whom).
        let merges = plan.as_ref().is_ok_and(Plan::merges);
        let mut pieces = 0..0;
        let reporting = options.outcomes.as_deref().map(|o| progress_file(o, rank));
        let share = reporting_progress(reporting.as_deref(), || {
            plan.and_then(|plan| {
                pieces = split(plan.pieces(), ranks, rank);
                let range = pieces.clone();
                guarded(|| options.client().run(|| plan.run_share(range)))
            })
        });
        RankWork {
            rank,
            ranks,
            started,
            plan_seconds,
            ran: Instant::now(),
            pieces,
            merges,
            share,
        }
    }

    /// Whether this rank waits for the running total from rank `rank - 1` before it
    /// can finish.
    pub fn takes_total(&self) -> bool {
        self.merges && self.rank > 0
    }

    /// Whether this rank hands its running total on to rank `rank + 1` (otherwise
    /// its results go to rank 0 with its outcome).
    pub fn passes_total(&self) -> bool {
        self.merges && self.rank + 1 < self.ranks
    }

    /// Ends the rank's work with the message from rank `rank - 1` (when
    /// [`RankWork::takes_total`]): the message for rank `rank + 1` (when
    /// [`RankWork::passes_total`]) and the outcome for rank 0.
    pub fn finish(self, before: Option<&[u8]>) -> (Option<Vec<u8>>, RankOutcome) {
        let passes = self.passes_total();
        let before = before.map(|m| {
            decode_handover(m).map_err(|why| match self.rank.checked_sub(1) {
                Some(r) => format!("no running total came from rank {r}: {why}"),
                None => why,
            })
        });
        let result = match (self.share, before) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(Err(e))) => Err(e),
            (Ok(share), Some(Ok(total))) => guarded(|| share.onto(Some(&total))),
            (Ok(share), None) => guarded(|| share.onto(None)),
        };
        let (onward, result) = if passes {
            let sent = encode_handover(&result);
            // What this rank passed on is in the last rank's results.
            (Some(sent), result.map(|_| Vec::new()))
        } else {
            (None, result)
        };
        let outcome = RankOutcome {
            rank: self.rank,
            host: host_name(),
            pieces: self.pieces,
            seconds: self.started.elapsed().as_secs_f64(),
            plan_seconds: self.plan_seconds,
            waited_seconds: self.ran.elapsed().as_secs_f64(),
            peak_bytes: crate::peak_memory().map(|b| b.bytes()).unwrap_or(0),
            passed_bytes: onward.as_ref().map_or(0, |m| m.len() as u64),
            result,
        };
        (onward, outcome)
    }
}

/// The file in which rank `rank` of a job whose outcomes go to `outcomes` keeps the
/// count of chunks it has finished, for the driver's progress line.
pub(crate) fn progress_file(outcomes: &std::path::Path, rank: usize) -> PathBuf {
    outcomes.with_extension(format!("progress-{rank}"))
}

/// Runs `work`, writing this process's count of finished chunks into `file` (when
/// given) every tenth of a second and once at the end. Progress is advice: a file
/// that cannot be written changes nothing.
fn reporting_progress<T>(file: Option<&std::path::Path>, work: impl FnOnce() -> T) -> T {
    let Some(file) = file else {
        return work();
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    // Counted from this plan's start: a pool's ranks run plan after plan.
    let before = crate::compute::progress::finished();
    let report = || {
        let count = crate::compute::progress::finished().saturating_sub(before);
        let _ = std::fs::write(file, count.to_string());
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut since = Instant::now();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
                if since.elapsed() >= Duration::from_millis(100) {
                    report();
                    since = Instant::now();
                }
            }
        });
        let result = work();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        report();
        result
    })
}

/// A running total (or the error that stopped it) as a message to the next rank.
fn encode_handover(total: &std::result::Result<Vec<u8>, String>) -> Vec<u8> {
    let (flag, bytes) = match total {
        Ok(t) => (1, t.as_slice()),
        Err(e) => (0, e.as_bytes()),
    };
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(flag);
    out.extend_from_slice(bytes);
    out
}

fn decode_handover(message: &[u8]) -> std::result::Result<Vec<u8>, String> {
    match message.split_first() {
        Some((1, total)) => Ok(total.to_vec()),
        Some((0, why)) => Err(String::from_utf8_lossy(why).into_owned()),
        _ => Err("its message is damaged".into()),
    }
}

/// Rank 0's last step: writes every rank's outcome (when asked) and, in the batch
/// form, merges the results in rank order and writes the array with `to_netcdf`.
/// Fails with the first failed rank's error, naming the rank.
pub fn conclude(
    plan_text: &str,
    ranks: Vec<RankOutcome>,
    options: &WorkerOptions,
) -> Result<JobReport> {
    let job = JobOutcome { ranks };
    let report = job.report();
    if let Some(path) = &options.outcomes {
        job.write(path)?;
    }
    let parts = job.parts()?;
    if let Some(out) = &options.out {
        let plan = Plan::from_json(plan_text)?;
        options
            .client()
            .run(|| plan.finish(&parts)?.to_netcdf(out))?;
    }
    Ok(report)
}
