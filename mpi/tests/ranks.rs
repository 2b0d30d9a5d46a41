//! The MPI worker run for real under Open MPI's `mpirun`, through `Client::mpi`:
//! results on 1 to 4 ranks equal the in-process ones bit for bit, a rank's error
//! comes back naming the rank and the file, and a rank killed mid-run ends the job
//! with an error within 10 s. Each test runs in a child process under a timeout, so
//! a hang is a failure, not a stuck test run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geoxr::compute::mpi::StandIn;
use geoxr::Client;
use xtask::child::in_child;

/// The tutorial's 303 sample files (made by `cargo xtask setup`).
fn sample_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/IMERG");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `cargo xtask setup`, which makes the sample files",
                dir.display()
            )
        })
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "nc4"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        303,
        "expected the 303 sample files in {}",
        dir.display()
    );
    files
}

/// The worker cargo built for these tests.
fn use_this_worker() {
    std::env::set_var("GEOXR_MPI_WORKER", env!("CARGO_BIN_EXE_geoxr-mpi-worker"));
}

/// A job folder of its own for a test, so its ranks can be told apart.
fn job_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("geoxr-mpi-test-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a job folder");
    dir
}

fn standin(files: Vec<String>) -> StandIn {
    StandIn {
        variable: "HQprecipitation".into(),
        files,
    }
}

#[test]
fn one_to_four_ranks_equal_the_in_process_result() {
    in_child(
        "one_to_four_ranks_equal_the_in_process_result",
        Duration::from_secs(120),
        || {
            use_this_worker();
            let job = standin(sample_files()[..40].to_vec());
            let here = job
                .finish(&[job.run_pieces(0..job.pieces()).expect("runs here")])
                .expect("finishes");
            let expected = here.to_ndarray::<f64>().expect("values");
            for ranks in 1..=4 {
                let client = Client::mpi(ranks).job_dir(job_dir("equal"));
                let got = client.run_standin(&job).expect("the MPI job runs");
                let got = got.to_ndarray::<f64>().expect("values");
                let same = got
                    .iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same && got.len() == expected.len(), "{ranks} ranks differ");
                let report = client.last_job().expect("a report");
                assert_eq!(report.ranks.len(), ranks);
                println!("{report}");
            }
        },
    );
}

#[test]
fn a_rank_error_names_the_rank_and_the_file() {
    in_child(
        "a_rank_error_names_the_rank_and_the_file",
        Duration::from_secs(60),
        || {
            use_this_worker();
            let mut files = sample_files()[..6].to_vec();
            let dir = job_dir("error");
            let broken = dir.join("broken.nc4");
            std::fs::write(&broken, b"CDF\x01 not really").expect("writes");
            files[5] = broken.to_string_lossy().into_owned();
            let err = Client::mpi(3)
                .job_dir(&dir)
                .run_standin(&standin(files))
                .expect_err("rank 2 reads a broken file");
            let text = err.to_string();
            assert!(text.contains("MPI rank 2 of 3"), "{text}");
            assert!(text.contains("broken.nc4"), "{text}");
        },
    );
}

/// The process ids of workers whose command line mentions `dir`.
fn workers_in(dir: &Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            cmd.starts_with(env!("CARGO_BIN_EXE_geoxr-mpi-worker")) && cmd.contains(&needle)
        })
        .collect()
}

#[test]
fn a_killed_rank_ends_the_job_within_ten_seconds() {
    in_child(
        "a_killed_rank_ends_the_job_within_ten_seconds",
        Duration::from_secs(90),
        || {
            use_this_worker();
            let dir = job_dir("kill");
            // Long enough that the kill lands mid-run: every file three times over.
            let files: Vec<String> = sample_files()
                .iter()
                .cycle()
                .take(3 * 303)
                .cloned()
                .collect();
            let client = Client::mpi(3).threads_per_worker(1).job_dir(&dir);
            let job = standin(files);
            let run = std::thread::spawn(move || {
                let r = client.run_standin(&job);
                (r, Instant::now())
            });
            let started = Instant::now();
            let victim = loop {
                let pids = workers_in(&dir);
                if pids.len() == 3 {
                    break pids[1];
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the ranks never started"
                );
                std::thread::sleep(Duration::from_millis(20));
            };
            std::thread::sleep(Duration::from_millis(500));
            assert!(
                !run.is_finished(),
                "the job ended before a rank could be killed"
            );
            let killed = Instant::now();
            let status = std::process::Command::new("kill")
                .args(["-9", &victim.to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
            let (result, ended) = run.join().expect("the driver thread returns");
            let after = ended.duration_since(killed);
            let err = result.expect_err("a killed rank fails the job").to_string();
            println!("ended {:.2} s after the kill: {err}", after.as_secs_f64());
            assert!(after < Duration::from_secs(10), "took {after:?}");
            assert!(err.contains("signal 9") || err.contains("Killed"), "{err}");
            assert!(workers_in(&dir).is_empty(), "ranks outlived the job");
        },
    );
}
