//! The MPI worker run for real under Open MPI's `mpirun`, through `Client::mpi`'s
//! pool of ranks and as a batch job: the tutorial's weekly std, the time mean and a
//! box mean over the 303 sample files on 1 to 4 ranks equal the in-process results
//! bit for bit, also when one pool runs several plans in a row; a rank's error (a
//! changed file, the memory limit) comes back naming the rank and the file and the
//! pool stays usable; a rank killed mid-run ends the load with an error naming it
//! within 10 s and the pool then says it has ended; a load past the timeout ends
//! the pool; no process outlives the client, nor a driver killed mid-load; a plan
//! that cannot be shipped is refused before anything starts; files written by
//! netCDF4-python give the in-process bits. Each test runs in a child process under
//! a timeout, so a hang is a failure, not a stuck test run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use geoxr::{open_mfdataset, Client, DType, DataArray, Dataset};
use xtask::child::in_child;

/// The tutorial's 303 sample files (made by `cargo xtask setup`).
fn imerg() -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/IMERG");
    let pattern = dir.join("3B-DAY.MS.MRG.3IMERG.2018*.nc4");
    let ds = open_mfdataset(pattern.to_string_lossy().as_ref())
        .unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`, which makes the sample files"));
    assert_eq!(
        ds.dims().get("time"),
        Some(303),
        "expected the 303 sample files"
    );
    ds
}

fn rain() -> DataArray {
    imerg()
        .get("HQprecipitation")
        .into_result()
        .expect("HQprecipitation")
}

/// The tutorial's three reductions: weekly std, time mean, mean over its box.
fn reductions() -> Vec<(&'static str, DataArray)> {
    let rain = rain();
    let weekly = rain.resample("time", "1W").mean().std("time");
    let box_mean = rain
        .sel([
            ("lon", -74.13671875..=-60.984375),
            ("lat", -15.3724475816178..=-10.685765151760275),
        ])
        .mean("time");
    let cases = vec![
        ("weekly std", weekly),
        ("time mean", rain.mean("time")),
        ("box mean", box_mean),
    ];
    for (what, array) in &cases {
        assert!(array.error().is_none(), "{what}: {:?}", array.error());
    }
    cases
}

/// Every value's bits, whatever the float type.
fn bits(a: &DataArray) -> Vec<u64> {
    match a.dtype() {
        DType::F32 => a
            .to_ndarray::<f32>()
            .expect("f32")
            .iter()
            .map(|v| u64::from(v.to_bits()))
            .collect(),
        DType::F64 => a
            .to_ndarray::<f64>()
            .expect("f64")
            .iter()
            .map(|v| v.to_bits())
            .collect(),
        other => panic!("unexpected dtype {other}"),
    }
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

/// `which` of [`reductions`] on 1, 2, 3 and 4 ranks against `load()` in process.
fn on_one_to_four_ranks_equals_in_process(which: usize) {
    use_this_worker();
    let (what, x) = reductions().swap_remove(which);
    let here = x.load().expect("in process");
    for ranks in 1..=4 {
        let client = Client::mpi(ranks).job_dir(job_dir("equal"));
        let started = Instant::now();
        let there = client.load(&x).expect("the MPI job runs");
        assert!(!there.is_lazy());
        assert!(
            there.equals(&here).expect("compares"),
            "{what} on {ranks} ranks: labels or values differ"
        );
        assert_eq!(
            bits(&there),
            bits(&here),
            "{what} on {ranks} ranks: bits differ"
        );
        let report = client.last_job().expect("a report");
        assert_eq!(report.ranks.len(), ranks);
        println!(
            "{what}, {ranks} ranks, {:.2} s\n{report}",
            started.elapsed().as_secs_f64()
        );
    }
}

// Each runs five computations over the 303 files; unoptimised (the test profile)
// on two busy cores that took up to 90 s each, hence the long timeouts.
#[test]
fn weekly_std_on_one_to_four_ranks_equals_in_process() {
    in_child(
        "weekly_std_on_one_to_four_ranks_equals_in_process",
        Duration::from_secs(900),
        || on_one_to_four_ranks_equals_in_process(0),
    );
}

#[test]
fn time_mean_on_one_to_four_ranks_equals_in_process() {
    in_child(
        "time_mean_on_one_to_four_ranks_equals_in_process",
        Duration::from_secs(900),
        || on_one_to_four_ranks_equals_in_process(1),
    );
}

#[test]
fn box_mean_on_one_to_four_ranks_equals_in_process() {
    in_child(
        "box_mean_on_one_to_four_ranks_equals_in_process",
        Duration::from_secs(900),
        || on_one_to_four_ranks_equals_in_process(2),
    );
}

#[test]
fn batch_job_writes_the_in_process_to_netcdf_file() {
    in_child(
        "batch_job_writes_the_in_process_to_netcdf_file",
        Duration::from_secs(300),
        || {
            let dir = job_dir("batch");
            let (_, weekly) = reductions().remove(0);
            let plan = dir.join("plan.json");
            std::fs::write(&plan, weekly.plan().to_json().expect("shippable"))
                .expect("writes the plan");
            let here = dir.join("here.nc");
            weekly
                .load()
                .expect("in process")
                .to_netcdf(&here)
                .expect("writes");
            let out = dir.join("out.nc");
            let _ = std::fs::remove_file(&out);
            // The command a Slurm script runs (with what root needs on this machine).
            let status = Command::new("mpirun")
                .args(["-n", "4"])
                .arg(env!("CARGO_BIN_EXE_geoxr-mpi-worker"))
                .arg(&plan)
                .arg(&out)
                .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
                .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
                .status()
                .expect("mpirun starts");
            assert!(status.success(), "mpirun: {status}");
            let read = |p: &Path| {
                geoxr::open_dataset(p)
                    .expect("opens")
                    .load()
                    .expect("loads")
            };
            let (a, b) = (read(&here), read(&out));
            assert_eq!(
                format!("{a}"),
                format!("{b}"),
                "the files hold different datasets"
            );
            assert_eq!(a.attrs(), b.attrs());
            let (a, b) = (
                a.get("HQprecipitation").into_result().expect("var"),
                b.get("HQprecipitation").into_result().expect("var"),
            );
            assert!(a.equals(&b).expect("compares"));
            assert_eq!(bits(&a), bits(&b));
        },
    );
}

#[test]
fn a_rank_error_names_the_rank_and_the_file() {
    in_child(
        "a_rank_error_names_the_rank_and_the_file",
        Duration::from_secs(120),
        || {
            use_this_worker();
            let dir = job_dir("error");
            let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/IMERG");
            let mut names: Vec<_> = std::fs::read_dir(&source)
                .expect("sample files")
                .flatten()
                .map(|e| e.file_name())
                .filter(|n| n.to_string_lossy().ends_with(".nc4"))
                .collect();
            names.sort();
            for n in &names[..6] {
                std::fs::copy(source.join(n), dir.join(n)).expect("copies");
            }
            let ds = open_mfdataset(dir.join("*.nc4").to_string_lossy().as_ref()).expect("opens");
            let rain = ds.get("HQprecipitation").into_result().expect("var");
            // The last file changes after it was opened: its rank must refuse it.
            let last = dir.join(&names[5]);
            let bytes = std::fs::read(&last).expect("reads");
            std::fs::write(&last, &bytes[..bytes.len() / 2]).expect("truncates");
            let client = Client::mpi(3).job_dir(&dir);
            let err = client.load(&rain).expect_err("rank 2 reads a changed file");
            let text = err.to_string();
            println!("{text}");
            assert!(text.contains("MPI rank 2 of 3"), "{text}");
            assert!(text.contains(&*names[5].to_string_lossy()), "{text}");
            // The pool goes on: the unchanged files load, on the same ranks.
            let ranks = workers_in(&dir);
            let good = rain.isel(("time", 0..5)).mean("time");
            let want = bits(&good.load().expect("in process"));
            assert_eq!(bits(&client.load(&good).expect("still running")), want);
            // The memory limit applies on each rank (a day is 1.1 MB here).
            let tight = client.clone().memory_limit("1MB").expect("a size");
            let err = tight.load(&good).expect_err("over the limit").to_string();
            println!("{err}");
            assert!(
                err.contains("MPI rank 0 of 3") && err.contains("memory limit"),
                "{err}"
            );
            assert_eq!(bits(&client.load(&good).expect("within no limit")), want);
            assert_eq!(workers_in(&dir), ranks, "the same ranks throughout");
        },
    );
}

/// A chunk source made outside geoxr: it has no data form and cannot be shipped.
#[derive(Debug)]
struct Ramp;

impl geoxr::ChunkSource for Ramp {
    fn read(&self) -> geoxr::Result<std::sync::Arc<geoxr::ArrayData>> {
        let values = geoxr::ndarray::ArrayD::from_shape_fn(vec![4], |i| i[0] as f64);
        Ok(std::sync::Arc::new(geoxr::ArrayData::from(values)))
    }

    fn describe(&self) -> String {
        "a ramp made by the test".into()
    }
}

#[test]
fn an_unshippable_plan_is_refused_before_starting() {
    in_child(
        "an_unshippable_plan_is_refused_before_starting",
        Duration::from_secs(60),
        || {
            // No worker is needed: the refusal comes first.
            std::env::set_var("GEOXR_MPI_WORKER", "/nonexistent/geoxr-mpi-worker");
            let chunk = geoxr::model::Chunk {
                len: 4,
                source: std::sync::Arc::new(Ramp),
            };
            let lazy = geoxr::ChunkedArray::new(DType::F64, vec![4], 0, vec![chunk]).expect("lazy");
            let variable = geoxr::Variable::new(["x"], geoxr::Data::Lazy(lazy)).expect("variable");
            let ramp = DataArray::new(Some("ramp"), variable, vec![]).expect("array");
            let doubled = (&ramp * 2.0).into_result().expect("lazy arithmetic");
            let err = Client::mpi(2)
                .load(&doubled)
                .expect_err("refused")
                .to_string();
            println!("{err}");
            assert!(err.contains("a ramp made by the test"), "{err}");
            assert!(err.contains("step"), "{err}");
        },
    );
}

/// The process ids of workers whose command line mentions `dir`.
fn workers_in(dir: &Path) -> Vec<i32> {
    processes_mentioning(dir)
        .into_iter()
        .filter(|(_, cmd)| cmd.starts_with(env!("CARGO_BIN_EXE_geoxr-mpi-worker")))
        .map(|(pid, _)| pid)
        .collect()
}

/// Every process (launcher or rank) whose command line mentions `dir`, with it.
fn processes_mentioning(dir: &Path) -> Vec<(i32, String)> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(&needle).then_some((pid, cmd))
        })
        .collect()
}

/// Children of this process that ended and were never waited for.
fn zombies() -> Vec<i32> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // "pid (name) state ppid ...": the fields after the name.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str())
        })
        .collect()
}

/// The MPI rank of a worker process, from its environment.
fn rank_of(pid: i32) -> Option<usize> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|&b| b == 0).find_map(|kv| {
        let kv = std::str::from_utf8(kv).ok()?;
        kv.strip_prefix("OMPI_COMM_WORLD_RANK=")?.parse().ok()
    })
}

/// Waits up to `limit` for no process to mention `dir`; the ones left, if any.
fn left_after(dir: &Path, limit: Duration) -> Vec<(i32, String)> {
    let started = Instant::now();
    loop {
        let left = processes_mentioning(dir);
        if left.is_empty() || started.elapsed() > limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn one_pool_runs_several_plans_and_nothing_outlives_the_client() {
    in_child(
        "one_pool_runs_several_plans_and_nothing_outlives_the_client",
        Duration::from_secs(900),
        || {
            use_this_worker();
            let dir = job_dir("pool");
            let mut cases = reductions();
            let (_, mean) = cases.remove(1);
            let (_, weekly) = cases.remove(0);
            let want = [
                weekly.load().expect("in process"),
                mean.load().expect("in process"),
            ];
            let client = Client::mpi(2)
                .job_dir(&dir)
                .start()
                .expect("the ranks start");
            let ranks = workers_in(&dir);
            assert_eq!(ranks.len(), 2, "two ranks wait for plans");
            println!("{client}");
            for (i, x) in [(0, &weekly), (1, &mean), (0, &weekly)] {
                let got = client.load(x).expect("the pool runs the plan");
                assert_eq!(bits(&got), bits(&want[i]), "plan {i}: bits differ");
                assert!(got.equals(&want[i]).expect("compares"));
                let report = client.last_job().expect("a report");
                assert!(report.start_seconds.is_some(), "{report}");
                println!("{report}");
            }
            assert_eq!(workers_in(&dir), ranks, "the same ranks ran every plan");
            // A clone shares the ranks; dropping it leaves them to the client.
            drop(client.clone());
            assert_eq!(workers_in(&dir), ranks);
            drop(client);
            // Ranks leave MPI on the end of their input; the drop waits for them.
            let left = left_after(&dir, Duration::ZERO);
            assert!(left.is_empty(), "left after the client: {left:?}");
            assert!(zombies().is_empty(), "unreaped: {:?}", zombies());
        },
    );
}

#[test]
fn a_killed_rank_ends_the_load_within_ten_seconds_and_then_the_pool() {
    in_child(
        "a_killed_rank_ends_the_load_within_ten_seconds_and_then_the_pool",
        Duration::from_secs(300),
        || {
            use_this_worker();
            let dir = job_dir("kill");
            let (_, weekly) = reductions().remove(0);
            let client = Client::mpi(3)
                .threads_per_worker(1)
                .job_dir(&dir)
                .start()
                .expect("the ranks start");
            let pids = workers_in(&dir);
            assert_eq!(pids.len(), 3);
            let (victim, rank) = pids
                .iter()
                .find_map(|&p| Some((p, rank_of(p)?)).filter(|&(_, r)| r == 1))
                .expect("rank 1's process");
            let loading = client.clone();
            let run = std::thread::spawn(move || {
                let r = loading.load(&weekly);
                (r, Instant::now())
            });
            std::thread::sleep(Duration::from_millis(1500));
            assert!(
                !run.is_finished(),
                "the load ended before a rank could be killed"
            );
            let killed = Instant::now();
            let status = Command::new("kill")
                .args(["-9", &victim.to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
            let (result, ended) = run.join().expect("the driver thread returns");
            let after = ended.duration_since(killed);
            let err = result
                .expect_err("a killed rank fails the load")
                .to_string();
            println!("ended {:.2} s after the kill: {err}", after.as_secs_f64());
            assert!(after < Duration::from_secs(10), "took {after:?}");
            assert!(err.contains(&format!("rank {rank}")), "{err}");
            assert!(err.contains("signal 9") || err.contains("Killed"), "{err}");
            let left = left_after(&dir, Duration::ZERO);
            assert!(left.is_empty(), "outlived the job: {left:?}");
            assert!(zombies().is_empty(), "unreaped: {:?}", zombies());
            // The pool says it has ended until it is restarted.
            let (_, box_mean) = reductions().remove(2);
            let again = client
                .load(&box_mean)
                .expect_err("the pool has ended")
                .to_string();
            assert!(
                again.contains("has ended") && again.contains("restart"),
                "{again}"
            );
            client.restart().expect("new ranks start");
            let got = client.load(&box_mean).expect("the new ranks run it");
            assert_eq!(bits(&got), bits(&box_mean.load().expect("in process")));
        },
    );
}

#[test]
fn a_load_past_the_timeout_ends_the_pool_with_a_clear_error() {
    in_child(
        "a_load_past_the_timeout_ends_the_pool_with_a_clear_error",
        Duration::from_secs(120),
        || {
            use_this_worker();
            let dir = job_dir("timeout");
            let (_, weekly) = reductions().remove(0);
            let client = Client::mpi(2)
                .job_dir(&dir)
                .timeout(Duration::from_millis(300))
                .start()
                .expect("the ranks start");
            let err = client.load(&weekly).expect_err("too slow").to_string();
            println!("{err}");
            assert!(err.contains("timeout"), "{err}");
            let left = left_after(&dir, Duration::ZERO);
            assert!(left.is_empty(), "left after the timeout: {left:?}");
            let again = client.load(&weekly).expect_err("ended").to_string();
            assert!(
                again.contains("has ended") && again.contains("timeout"),
                "{again}"
            );
        },
    );
}

/// Set in the child that plays the driver killed mid-load.
const DRIVER_ENV: &str = "GEOXR_TEST_KILLED_DRIVER";

#[test]
fn ranks_end_when_their_driver_is_killed_mid_load() {
    if let Some(dir) = std::env::var_os(DRIVER_ENV) {
        // The driver: a pool, loading until it is killed.
        use_this_worker();
        let (_, weekly) = reductions().remove(0);
        let client = Client::mpi(2)
            .job_dir(PathBuf::from(dir))
            .start()
            .expect("starts");
        loop {
            client.load(&weekly).expect("loads");
        }
    }
    in_child(
        "ranks_end_when_their_driver_is_killed_mid_load",
        Duration::from_secs(300),
        || {
            let dir = job_dir("driver");
            let mut driver = Command::new(std::env::current_exe().expect("this test"))
                .args(["ranks_end_when_their_driver_is_killed_mid_load", "--exact"])
                .env(DRIVER_ENV, &dir)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("the driver starts");
            let started = Instant::now();
            while workers_in(&dir).len() < 2 {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "no ranks came up"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(1500)); // into a load
            driver.kill().expect("kills the driver");
            driver.wait().expect("reaps it");
            let killed = Instant::now();
            let left = left_after(&dir, Duration::from_secs(60));
            println!(
                "ranks gone {:.2} s after their driver",
                killed.elapsed().as_secs_f64()
            );
            assert!(left.is_empty(), "outlived their driver: {left:?}");
        },
    );
}

#[test]
fn files_written_by_netcdf4_python_give_the_in_process_bits_on_ranks() {
    in_child(
        "files_written_by_netcdf4_python_give_the_in_process_bits_on_ranks",
        Duration::from_secs(300),
        || {
            use_this_worker();
            let dir = job_dir("netcdf4");
            let script = include_str!("../../crate/src/compute/plan/netcdf4_days.py");
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let python = xtask::fuzz::python(&root).unwrap_or_else(|e| panic!("{e}"));
            let out = Command::new(python)
                .arg("-c")
                .arg(script)
                .arg(&dir)
                .output()
                .expect("python runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let rain = open_mfdataset(dir.join("days-*.nc").to_string_lossy().as_ref())
                .expect("opens")
                .get("rain")
                .into_result()
                .expect("rain");
            let client = Client::mpi(3).job_dir(&dir);
            for x in [
                rain.resample("time", "1W").mean().std("time"),
                rain.mean("time"),
                rain.isel(("time", 2..7)),
            ] {
                let here = x.load().expect("in process");
                let there = client.load(&x).expect("on ranks");
                assert!(there.equals(&here).expect("compares"));
                assert_eq!(bits(&there), bits(&here));
            }
        },
    );
}
