//! Starting an MPI job from the driver: finding the worker binary, a fresh job folder,
//! the launcher's command (in its own process group, so the whole job can be
//! killed at once), and reading what the launcher said when it ended. The pool
//! ([`super::pool`]) runs the job.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Launcher, MpiSettings, WorkerOptions};
use crate::error::{Error, Result};

/// The worker's file name.
const WORKER: &str = "geoxr-mpi-worker";
/// The environment variable naming the worker binary.
const WORKER_ENV: &str = "GEOXR_MPI_WORKER";

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
pub(super) struct JobDir(PathBuf);

impl JobDir {
    /// The folder.
    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    pub(super) fn new(parent: Option<&Path>) -> Result<JobDir> {
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
pub(super) fn command(
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
            // Open MPI binds each rank to one core when there are at most two
            // ranks, so a rank's threads would share that core (a 1-rank pool of
            // 2 threads ran at half speed here). A rank's threads are geoxr's to
            // place; a binding the user asks for (environment or `--bind-to`)
            // stands.
            let binds = settings.args.iter().any(|a| a.starts_with("--bind-to"));
            if !binds && std::env::var_os("OMPI_MCA_hwloc_base_binding_policy").is_none() {
                c.env("OMPI_MCA_hwloc_base_binding_policy", "none");
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
            // A rank that fails or dies ends the whole step; the driver's requests
            // go to rank 0 alone.
            c.args(["--kill-on-bad-exit=1", "--input=0"]);
        }
    }
    c.args(&settings.args).arg(worker).args(options.to_args());
    c.process_group(0);
    // The ranks live as long as the client: they must not hold the kernel's HDF5
    // files (and their locks) open all that time.
    crate::base::sys::inherit_std_streams_only(&mut c);
    Ok(c)
}

/// Kills every process of the job's group (the launcher and the ranks it started
/// here); a group already gone is fine.
pub(super) fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches
        // no memory of ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The launcher's message on one line: Open MPI's sentence about a lost rank when
/// there is one, else the last lines that are not decoration.
pub(super) fn gist(stderr: &str) -> String {
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

pub(super) fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (_, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            serve: None,
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
        // A rank's threads are not bound to one core, unless the user binds them.
        assert!(env.contains(&"OMPI_MCA_hwloc_base_binding_policy".to_owned()));
        let bound = MpiSettings {
            args: vec!["--bind-to".into(), "core".into()],
            ..MpiSettings::default()
        };
        let c = command(&bound, 2, Path::new("/w"), &options).expect("a command");
        assert!(!c
            .get_envs()
            .any(|(k, _)| k == "OMPI_MCA_hwloc_base_binding_policy"));
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
