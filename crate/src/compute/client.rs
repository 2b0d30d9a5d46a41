//! `Client`: the compute resources a notebook asks for, as dask's `Client` does:
//! workers × threads per worker size a thread pool, and a memory limit (per worker,
//! as in dask) caps what loading and persisting may hold and how many chunks a
//! streaming reduction keeps in flight.
//!
//! The client holds only its settings; each computation starts its own thread pool
//! and stops it when done (a few hundred microseconds). A pool kept inside the
//! value would break in evcxr: every cell links its own copy of rayon, with its own
//! thread-locals, and a pool started by one cell's copy panics when a later cell's
//! copy hands it work ("injected && !worker_thread.is_null()").
//!
//! An MPI client ([`Client::mpi`]) does keep something running: its ranks, other
//! processes, which it talks to through pipes (no threads, no globals), so they
//! serve every cell's computations until the client is dropped.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::mpi::pool::Pool;
use super::mpi::{JobReport, Launcher, MpiSettings};
use crate::error::{Error, Result};

/// Most threads a client starts, and most workers or threads per worker it takes.
const MAX_THREADS: usize = 1024;

/// Compute resources for lazy computations.
///
/// ```
/// use geoxr::Client;
/// let client = Client::new().n_workers(2).threads_per_worker(2).memory_limit("512MiB")?;
/// assert_eq!(client.threads(), 4);
/// assert_eq!(client.memory_limit_total(), Some(2 * 512 * 1024 * 1024));
/// client.shutdown();
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    n_workers: usize,
    threads_per_worker: usize,
    memory_limit: Option<u64>,
    /// Set for a client whose workers are the ranks of an MPI job.
    mpi: Option<MpiSettings>,
    /// The figures of this client's last MPI job, shared by its clones.
    last_job: Arc<Mutex<Option<JobReport>>>,
    /// The running ranks of an MPI client, started on first use and shared by its
    /// clones; the last clone dropped ends them.
    pool: Arc<Mutex<Option<Pool>>>,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// One worker with a thread per core and no memory limit.
    pub fn new() -> Client {
        Client {
            n_workers: 1,
            threads_per_worker: crate::cpu_count(),
            memory_limit: None,
            mpi: None,
            last_job: Arc::default(),
            pool: Arc::default(),
        }
    }

    /// A client whose `n` workers are the ranks of an MPI job started by `mpirun`
    /// (see [`Client::launcher`]) running `geoxr-mpi-worker`, as dask-mpi's workers:
    /// the job starts once, at [`Client::start`] or the first computation, and its
    /// ranks stay up until the client (its last clone) is dropped or
    /// [`Client::close`]d. [`Client::load`] and [`Client::persist`] ship the
    /// array's plan to the running ranks, which read disjoint chunks (keeping their
    /// files open for the next plan) and merge their partial results in rank order,
    /// so the result is bit for bit the in-process one whatever `n` is. Each rank
    /// gets this machine's cores divided by `n` threads (at least one) and the
    /// [`Client::memory_limit`], which applies per rank. Running as root and more
    /// ranks than cores need nothing from you.
    ///
    /// ```
    /// use geoxr::compute::mpi::Launcher;
    /// let client = geoxr::Client::mpi(4).launcher(Launcher::Srun).args(["--cpus-per-task=2"]);
    /// assert_eq!((client.workers(), client.is_mpi()), (4, true));
    /// ```
    pub fn mpi(n: usize) -> Client {
        let n = n.clamp(1, MAX_THREADS);
        Client {
            n_workers: n,
            threads_per_worker: (crate::cpu_count() / n).max(1),
            memory_limit: None,
            mpi: Some(MpiSettings::default()),
            last_job: Arc::default(),
            pool: Arc::default(),
        }
    }

    /// Whether the workers are MPI ranks.
    pub fn is_mpi(&self) -> bool {
        self.mpi.is_some()
    }

    fn mpi_settings(mut self, set: impl FnOnce(&mut MpiSettings)) -> Client {
        set(self.mpi.get_or_insert_with(MpiSettings::default));
        // Other settings, other ranks: this client starts its own.
        self.pool = Arc::default();
        self
    }

    /// Starts an MPI client's ranks now (otherwise the first computation does), so
    /// the cell that makes the client pays for it, as with dask's `Client(...)`.
    /// Nothing to start for a client of threads.
    ///
    /// ```no_run
    /// let client = geoxr::Client::mpi(4).start()?;
    /// println!("{client}"); // the ranks and how long they took to start
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn start(self) -> Result<Client> {
        if self.is_mpi() {
            self.with_pool(|_| Ok(()))?;
        }
        Ok(self)
    }

    /// Ends an MPI client's ranks and starts new ones: what to do after a rank died
    /// or a computation ran past the [`Client::timeout`].
    pub fn restart(&self) -> Result<()> {
        self.close();
        if self.is_mpi() {
            self.with_pool(|_| Ok(()))?;
        }
        Ok(())
    }

    /// Ends an MPI client's ranks now (dropping the client's last clone does too);
    /// a later computation starts new ones.
    pub fn close(&self) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut p) = pool.take() {
            p.close();
        }
    }

    /// Runs `f` on the client's running pool, starting it first when needed.
    fn with_pool<R>(&self, f: impl FnOnce(&mut Pool) -> Result<R>) -> Result<R> {
        let Some(settings) = &self.mpi else {
            return Err(Error::invalid("client", "not an MPI client"));
        };
        // A thread that panicked while holding the lock left the pool as it was;
        // the pool itself copes with a request left unanswered.
        let mut slot = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let pool = match &mut *slot {
            Some(p) => p,
            None => slot.insert(Pool::start(settings, self.n_workers)?),
        };
        f(pool)
    }

    /// The state of an MPI client's ranks, for its display.
    fn pool_state(&self) -> String {
        let Ok(slot) = self.pool.try_lock() else {
            return "running a computation".into();
        };
        match slot.as_ref() {
            None => {
                "not started yet (they start at client.start() or the first computation)".into()
            }
            Some(p) => match p.ended() {
                Some(why) => format!("ended: {why}"),
                None => format!("running, started in {:.2} s", p.start_seconds),
            },
        }
    }

    /// The program that starts the ranks: `mpirun` (the default) or Slurm's `srun`
    /// inside an allocation. Makes this an MPI client of [`Client::workers`] ranks.
    pub fn launcher(self, launcher: Launcher) -> Client {
        self.mpi_settings(|m| m.launcher = launcher)
    }

    /// The hosts `mpirun` spreads the ranks over (its `--hostfile`). Without one,
    /// all ranks run on this machine. Makes this an MPI client.
    pub fn hostfile(self, path: impl Into<PathBuf>) -> Client {
        let path = path.into();
        self.mpi_settings(|m| m.hostfile = Some(path))
    }

    /// Extra arguments for the launcher, placed before the worker
    /// (`["--bind-to", "none"]`, `["--partition=short"]`). Makes this an MPI client.
    pub fn args<S: Into<String>>(self, args: impl IntoIterator<Item = S>) -> Client {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        self.mpi_settings(|m| m.args = args)
    }

    /// The folder in which each job gets its own folder (plan and results; removed
    /// after): the temporary folder by default. On a cluster, rank 0's host must
    /// see it, so choose one on the shared file system. Makes this an MPI client.
    pub fn job_dir(self, path: impl Into<PathBuf>) -> Client {
        let path = path.into();
        self.mpi_settings(|m| m.job_dir = Some(path))
    }

    /// Gives up on a load still running on the ranks after `limit` (default: none;
    /// a rank that dies ends the load anyway): the ranks are stopped, and the
    /// client says so until [`Client::restart`]. Makes this an MPI client.
    pub fn timeout(self, limit: Duration) -> Client {
        self.mpi_settings(|m| m.timeout = Some(limit))
    }

    /// What each rank of this client's last MPI job did (pieces, seconds, peak
    /// memory), or `None` before the first job.
    pub fn last_job(&self) -> Option<JobReport> {
        self.last_job.lock().ok().and_then(|r| r.clone())
    }

    /// How an MPI client runs its workers, for its display.
    pub(crate) fn mpi_scheduler(&self) -> Option<String> {
        self.mpi.as_ref().map(|m| {
            format!(
                "{} MPI ranks of geoxr-mpi-worker, started once by {} and kept for the \
                 client's computations; {}",
                self.n_workers,
                m.launcher.program(),
                self.pool_state()
            )
        })
    }

    pub(crate) fn set_memory_limit(&mut self, limit: Option<u64>) {
        self.memory_limit = limit;
    }

    /// Runs `plan` on this client's MPI ranks and keeps the job's figures.
    pub(crate) fn run_on_ranks(&self, plan: &crate::Plan) -> Result<crate::DataArray> {
        // Refused before any rank starts.
        plan.shippable()?;
        let (result, report) =
            self.with_pool(|pool| pool.run(plan, self.threads_per_worker, self.memory_limit))?;
        if let Ok(mut last) = self.last_job.lock() {
            *last = Some(report);
        }
        Ok(result)
    }

    /// Number of workers (1 to 1024).
    pub fn n_workers(mut self, n: usize) -> Client {
        self.n_workers = n.clamp(1, MAX_THREADS);
        if self.is_mpi() {
            self.pool = Arc::default();
        }
        self
    }

    /// Threads of each worker (1 to 1024).
    pub fn threads_per_worker(mut self, n: usize) -> Client {
        self.threads_per_worker = n.clamp(1, MAX_THREADS);
        self
    }

    /// Memory each worker may use: `"8GB"`, `"512MiB"`, `"1.5 GB"` or a number of
    /// bytes as text. Decimal units are powers of 1000, binary ones of 1024, as dask
    /// reads them.
    pub fn memory_limit(mut self, limit: &str) -> Result<Client> {
        self.memory_limit = Some(parse_bytes(limit)?);
        Ok(self)
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.n_workers
    }

    /// Threads in the pool (at most 1024 in all).
    pub fn threads(&self) -> usize {
        (self.n_workers * self.threads_per_worker).min(MAX_THREADS)
    }

    /// The memory limit of all workers together.
    pub fn memory_limit_total(&self) -> Option<u64> {
        self.memory_limit
            .map(|m| m.saturating_mul(self.n_workers as u64))
    }

    /// Runs a computation on a pool of this client's size, within its memory
    /// limit. The pool lives for this call only (see the module notes).
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
        // One ledger for the whole computation, known to every worker: whatever a
        // part holds on one thread leaves less for the others.
        let ledger = self
            .memory_limit_total()
            .map(crate::base::budget::Ledger::new);
        let installed = ledger.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads())
            .thread_name(|i| format!("geoxr-{i}"))
            .start_handler(move |_| crate::base::budget::set_thread_ledger(ledger.clone()))
            .build()
            .map_err(|e| {
                Error::invalid(
                    "client",
                    format!("cannot start {} threads: {e}", self.threads()),
                )
            })?;
        pool.install(|| crate::base::budget::with_ledger(installed, f))
    }

    /// Lets the client go, as dask's `client.shutdown()`: an MPI client's ranks
    /// end ([`Client::close`]); no threads outlive a computation.
    pub fn shutdown(self) {
        self.close();
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("n_workers", &self.n_workers)
            .field("threads_per_worker", &self.threads_per_worker)
            .field("memory_limit", &self.memory_limit)
            .field("mpi", &self.mpi)
            .finish()
    }
}

/// The largest memory size accepted: 1 EiB, far above any machine, far below
/// overflow when multiplied by a worker count.
const MAX_BYTES: u64 = 1 << 60;

/// Parses a memory size such as `"8GB"`, `"512 MiB"` or `"1000000"`.
///
/// ```
/// assert_eq!(geoxr::parse_bytes("8GB")?, 8_000_000_000);
/// assert_eq!(geoxr::parse_bytes("512MiB")?, 512 << 20);
/// assert!(geoxr::parse_bytes("lots").is_err());
/// assert!(geoxr::parse_bytes("99999999999999999999999TB").is_err());
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = |why: &str| Error::invalid(format!("memory size `{text}`"), why.to_owned());
    let value: f64 = number
        .parse()
        .map_err(|_| bad("expected a number with an optional unit, such as 8GB or 512MiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => {
            return Err(bad(
                "unknown unit (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)",
            ))
        }
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(bad("must be at least one byte"));
    }
    if bytes > MAX_BYTES as f64 {
        return Err(bad("is larger than any machine's memory (at most 1 EiB)"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mpi_client_starts_its_ranks_once_and_a_threads_client_has_none() {
        let threads = Client::new().start().expect("nothing to start");
        threads.restart().expect("nothing to restart");
        assert!(threads.mpi_scheduler().is_none());
        let mpi = Client::mpi(2);
        let shown = mpi.mpi_scheduler().expect("an MPI client");
        assert!(
            shown.contains("2 MPI ranks") && shown.contains("not started yet"),
            "{shown}"
        );
        // Clones share the ranks; other launcher settings make a client of its own.
        assert!(Arc::ptr_eq(&mpi.pool, &mpi.clone().pool));
        assert!(Arc::ptr_eq(
            &mpi.pool,
            &mpi.clone().memory_limit("1GB").unwrap().pool
        ));
        assert!(!Arc::ptr_eq(
            &mpi.pool,
            &mpi.clone().args(["--bind-to", "core"]).pool
        ));
        assert!(!Arc::ptr_eq(&mpi.pool, &mpi.clone().n_workers(3).pool));
    }
}
