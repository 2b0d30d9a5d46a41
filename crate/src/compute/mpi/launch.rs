//! The driver's side of an MPI job: finding the worker binary, writing the plan into
//! a fresh job directory, starting the launcher in its own process group, watching
//! it, and reading back what rank 0 wrote. Whatever happens — success, a failed
//! rank, a rank killed, a timeout, the driver's own error — the job's process group
//! is killed before this returns, so no rank outlives the call.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{progress_file, JobOutcome, JobReport, Launcher, MpiSettings, WorkerOptions};
use crate::compute::plan::Plan;
use crate::compute::progress::Progress;
use crate::error::{Error, Result};
use crate::model::DataArray;

/// The worker's file name.
const WORKER: &str = "geoxr-mpi-worker";
/// The environment variable naming the worker binary.
const WORKER_ENV: &str = "GEOXR_MPI_WORKER";
/// Bytes of the launcher's standard error kept for an error message.
const KEPT_STDERR: usize = 64 << 10;

/// The worker binary: `$GEOXR_MPI_WORKER`, else beside the running program (or one
/// folder up, for test binaries in `target/*/deps`), else in this checkout's
/// `target/release` or `target/debug`, where `cargo xtask setup` builds it.
///
/// ```no_run
/// let worker = geoxr::compute::mpi::find_worker()?;
/// println!("{}", worker.display());
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn find_worker() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(WORKER_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::File {
                path,
                reason: format!("named by {WORKER_ENV} but is not a file"),
            })
        };
    }
    let mut places = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        places.extend(exe.ancestors().skip(1).take(2).map(Path::to_path_buf));
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target");
    places.extend(["release", "debug"].map(|p| target.join(p)));
    places
        .iter()
        .map(|dir| dir.join(WORKER))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let looked: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
            Error::invalid(
                "MPI client",
                format!(
                    "cannot find the worker binary `{WORKER}` (looked in {}); run `cargo xtask setup`, \
                     which builds it, or name it with {WORKER_ENV}",
                    looked.join(", ")
                ),
            )
        })
}

/// A fresh folder for one job, removed when dropped.
struct JobDir(PathBuf);

impl JobDir {
    fn new(parent: Option<&Path>) -> Result<JobDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let mut last = None;
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = parent.join(format!("geoxr-mpi-{}-{n}", std::process::id()));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(JobDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    last = Some(e);
                    break;
                }
            }
        }
        Err(Error::File {
            path: parent,
            reason: format!(
                "cannot make a folder for the MPI job: {}",
                last.map_or_else(String::new, |e| e.to_string())
            ),
        })
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether this process runs as root (Open MPI then refuses to start without leave).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The launcher's command for `ranks` ranks running the worker with `options`.
fn command(
    settings: &MpiSettings,
    ranks: usize,
    worker: &Path,
    options: &WorkerOptions,
) -> Result<Command> {
    let mut c = Command::new(settings.launcher.program());
    c.arg("-n").arg(ranks.to_string());
    match settings.launcher {
        Launcher::Mpirun => {
            if let Some(hosts) = &settings.hostfile {
                c.arg("--hostfile").arg(hosts);
            } else {
                // On one machine, more ranks than cores is the user's choice, not
                // an error (Open MPI 4 and 5 read these).
                c.env("OMPI_MCA_rmaps_base_oversubscribe", "1");
                c.env("PRTE_MCA_rmaps_default_mapping_policy", ":oversubscribe");
                // Ranks on one machine talk through shared memory; the default
                // transport probes for network cards first (UCX), which made MPI's
                // start-up twice as long here (0.35 s, not 0.15 s). A choice the
                // user made in the environment stands.
                if std::env::var_os("OMPI_MCA_pml").is_none() {
                    c.env("OMPI_MCA_pml", "ob1");
                }
            }
            if is_root() {
                c.env("OMPI_ALLOW_RUN_AS_ROOT", "1");
                c.env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            }
        }
        Launcher::Srun => {
            if settings.hostfile.is_some() {
                return Err(Error::invalid(
                    "MPI client",
                    "srun takes its hosts from the Slurm allocation, not a host file \
                     (pass `--nodelist=...` through .args(...) instead)",
                ));
            }
            // A rank that fails or dies ends the whole step.
            c.arg("--kill-on-bad-exit=1");
        }
    }
    c.args(&settings.args).arg(worker).args(options.to_args());
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c.process_group(0);
    Ok(c)
}

/// Kills every process of the job's group (the launcher and the ranks it started
/// here); a group already gone is fine.
fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches
        // no memory of ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Reads the launcher's standard error on a thread, keeping its last bytes.
fn tail_of(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buffer[..n]);
            if kept.len() > 2 * KEPT_STDERR {
                kept.drain(..kept.len() - KEPT_STDERR);
            }
        }
        let _ = send.send(String::from_utf8_lossy(&kept).into_owned());
    });
    receive
}

/// The launcher's message on one line: Open MPI's sentence about a lost rank when
/// there is one, else the last lines that are not decoration.
fn gist(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '-' || c == '='))
        .collect();
    let lost = lines
        .iter()
        .position(|l| l.contains("noticed that process rank"));
    let chosen: Vec<&str> = match lost {
        Some(at) => lines[at..].iter().take(2).copied().collect(),
        None => lines.iter().rev().take(3).rev().copied().collect(),
    };
    let text = chosen.join(" ");
    crate::base::text::plain(&text.chars().take(600).collect::<String>()).to_string()
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (_, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

/// Runs `plan` on `ranks` ranks and returns its result, merged here in rank order,
/// with each rank's figures. A plan that cannot be shipped is refused before
/// anything starts, naming the step.
pub(crate) fn run_job(
    settings: &MpiSettings,
    ranks: usize,
    threads: usize,
    memory_limit: Option<u64>,
    plan: &Plan,
) -> Result<(DataArray, JobReport)> {
    plan.shippable()?;
    let text = plan.to_json()?;
    let worker = find_worker()?;
    let dir = JobDir::new(settings.job_dir.as_deref())?;
    let plan_file = dir.0.join("plan.json");
    std::fs::write(&plan_file, text).map_err(|e| Error::File {
        path: plan_file.clone(),
        reason: format!("cannot write the plan for the MPI job: {e}"),
    })?;
    let outcomes = dir.0.join("outcomes.bin");
    let options = WorkerOptions {
        plan: plan_file,
        out: None,
        outcomes: Some(outcomes.clone()),
        threads,
        memory_limit,
    };
    let started = Instant::now();
    let program = settings.launcher.program();
    let mut child = command(settings, ranks, &worker, &options)?
        .spawn()
        .map_err(|e| {
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
    let stderr = child.stderr.take().map(tail_of);
    let mut progress = plan.progress_total().map(|(what, total)| RankProgress {
        files: (0..ranks).map(|r| progress_file(&outcomes, r)).collect(),
        line: Progress::new(
            format!(
                "{what} on {ranks} MPI rank{}",
                if ranks == 1 { "" } else { "s" }
            ),
            total,
        ),
        seen: 0,
    });
    let status = watch(&mut child, settings.timeout, progress.as_mut());
    kill_group(&child);
    let stderr = stderr
        .and_then(|r| r.recv_timeout(Duration::from_secs(2)).ok())
        .unwrap_or_default();
    let status = status?;
    let outcome = JobOutcome::read(&outcomes);
    if !status.success() {
        // A rank's own error, when rank 0 lived to write it, names the rank and file.
        if let Ok(outcome) = outcome {
            outcome.parts()?;
        }
        return Err(Error::invalid(
            format!("MPI job of {ranks} ranks"),
            format!(
                "`{program}` ended with {}: {}",
                describe(status),
                gist(&stderr)
            ),
        ));
    }
    let outcome = outcome?;
    let mut report = outcome.report();
    let parts = outcome.parts()?;
    let result = plan.finish(&parts)?;
    if let Some(mut p) = progress {
        p.update();
        p.line.finish();
    }
    report.wall_seconds = Some(started.elapsed().as_secs_f64());
    Ok((result, report))
}

/// The driver's progress line of a job: the sum of the counts the ranks keep in
/// their progress files.
struct RankProgress {
    files: Vec<PathBuf>,
    line: Progress,
    seen: usize,
}

impl RankProgress {
    /// Reads the ranks' counts and moves the line on by what is new (a file not
    /// written yet, or caught half-written, counts as before).
    fn update(&mut self) {
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

/// Waits for the launcher, giving up (and killing the job) after `timeout`, and
/// moves the progress line on every quarter second.
fn watch(
    child: &mut Child,
    timeout: Option<Duration>,
    mut progress: Option<&mut RankProgress>,
) -> Result<ExitStatus> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let mut looked = Instant::now();
    loop {
        if looked.elapsed() >= Duration::from_millis(250) {
            if let Some(p) = progress.as_deref_mut() {
                p.update();
            }
            looked = Instant::now();
        }
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(child);
                let _ = child.wait();
                return Err(Error::invalid(
                    "MPI job",
                    format!("cannot watch the launcher: {e}"),
                ));
            }
        }
        if let Some(limit) = timeout.filter(|&t| started.elapsed() > t) {
            kill_group(child);
            let _ = child.wait();
            return Err(Error::invalid(
                "MPI job",
                format!(
                    "still running after {:.0} s (the client's timeout); stopped",
                    limit.as_secs_f64()
                ),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
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
        let before = crate::compute::progress::finished();
        super::super::reporting_progress(Some(&file), || Progress::new("test", 5).tick(5));
        let written: usize = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        assert!(written >= before + 5, "{written} after {before}");
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
    fn gist_picks_open_mpi_sentence_about_a_lost_rank() {
        let stderr = "--------------------------------------------------------------------------\n\
            Primary job  terminated normally, but 1 process returned\n\
            a non-zero exit code. Per user-direction, the job has been aborted.\n\
            --------------------------------------------------------------------------\n\
            mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).\n\
            --------------------------------------------------------------------------\n";
        let g = gist(stderr);
        assert!(g.starts_with("mpirun noticed that process rank 1"), "{g}");
        assert!(gist("one\ntwo\nthree\nfour\n").ends_with("two three four"));
    }

    #[test]
    fn mpirun_command_lets_root_and_oversubscription_through() {
        let options = WorkerOptions {
            plan: "p.json".into(),
            out: None,
            outcomes: Some("o.bin".into()),
            threads: 2,
            memory_limit: Some(1000),
        };
        let settings = MpiSettings::default();
        let c = command(&settings, 3, Path::new("/w"), &options).expect("a command");
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-n",
                "3",
                "/w",
                "--threads",
                "2",
                "--memory-limit",
                "1000",
                "--outcomes",
                "o.bin",
                "p.json"
            ]
        );
        let env: Vec<_> = c
            .get_envs()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(env.contains(&"OMPI_MCA_rmaps_base_oversubscribe".to_owned()));
        assert_eq!(
            env.contains(&"OMPI_ALLOW_RUN_AS_ROOT".to_owned()),
            is_root()
        );
        let srun = MpiSettings {
            launcher: Launcher::Srun,
            hostfile: Some("hosts".into()),
            ..MpiSettings::default()
        };
        assert!(command(&srun, 2, Path::new("/w"), &options).is_err());
    }
}
