//! Benchmark of spectral clustering on a family of matrices, against scikit-learn in
//! the same run: the tutorial's box of the sample, three other boxes of similar size,
//! the tutorial's box of samples made with two other seeds, each with gamma =
//! 1/n_features and gamma = 1/median(d²), and eight Gaussian blobs at n = 6000.
//!
//! For each matrix: our exact fit (time, solver iterations, peak RSS during the fit,
//! largest residual of the wanted eigenpairs, the time of each stage), our Nyström
//! fit, scikit-learn 1.9's `SpectralClustering(8)` and dask-ml's Nyström
//! `SpectralClustering(8)` on the same matrix (written to a `.npy` file, timed
//! inside Python around `fit` only), with the load average at that moment.
//!
//! ```sh
//! cargo run --release -p geoxr --example bench_cluster             # the family
//! cargo run --release -p geoxr --example bench_cluster -- large    # n = 20 000 only
//! cargo run --release -p geoxr --example bench_cluster -- quick    # no Python
//! cargo run --release -p geoxr --example bench_cluster -- no-daskml  # scikit-learn only
//! ```
//! Sample files: `data/IMERG/` (or `GEOXR_IMERG=dir`) for the tutorial's seed; the
//! other seeds are generated once into `target/bench-samples/`. Python:
//! `/work/scratch-venv/bin/python` or `GEOXR_BENCH_PYTHON`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use geoxr::ndarray::{Array2, ArrayD, IxDyn};
use geoxr::sample::SampleSpec;
use geoxr::{adjusted_rand_index, ArrayData, DataArray, SpectralClustering, Variable};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

type R<T> = Result<T, Box<dyn std::error::Error>>;

/// A study box: name, lon range, lat range.
type Region = (&'static str, (f64, f64), (f64, f64));

const TUTORIAL: Region = (
    "tutorial",
    (-74.13671875, -60.984375),
    (-15.3724475816178, -10.685765151760275),
);
const OTHER_BOXES: [Region; 3] = [
    ("amazon", (-70.0, -60.0), (-10.0, -4.0)),
    ("north-east", (-45.0, -35.0), (-12.0, -6.0)),
    ("south", (-64.0, -54.0), (-34.0, -28.0)),
];
/// 200 × 100 pixels: n = 20 000.
const LARGE: Region = ("large", (-75.0, -55.0), (-15.0, -5.0));

/// scikit-learn's exact fit or dask-ml's Nyström fit (argument 3), timed around
/// `fit` only; also the Python process's peak resident memory.
const PYTHON_FIT: &str = r#"
import sys, time, resource, numpy as np
x = np.load(sys.argv[1]); gamma = float(sys.argv[2])
if sys.argv[3] == "sklearn":
    from sklearn.cluster import SpectralClustering
    t = time.perf_counter()
    labels = SpectralClustering(n_clusters=8, gamma=gamma, random_state=0).fit(x).labels_
else:
    import dask.array as da
    from dask_ml.cluster import SpectralClustering
    xd = da.from_array(x, chunks=(max(1, x.shape[0] // 4), x.shape[1]))
    t = time.perf_counter()
    labels = np.asarray(SpectralClustering(n_clusters=8, gamma=gamma, random_state=0, n_components=100).fit(xd).labels_)
print("seconds", time.perf_counter() - t)
print("peak_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print("labels", ",".join(str(int(v)) for v in labels))
"#;

fn mib(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The resident set now (Linux `VmRSS`).
fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets the peak-RSS counter (Linux: `VmHWM` restarts from the current RSS).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The matrix of pixel series (pixels × days) of one box of one sample set.
fn rainfall(dir: &Path, region: Region) -> R<DataArray> {
    let (_, lon, lat) = region;
    let pattern = dir.join("3B-DAY.MS.MRG.3IMERG.2018*.nc4");
    let ds = geoxr::open_mfdataset(pattern.to_string_lossy().as_ref())?;
    let subset = ds.sel([("lon", lon.0..=lon.1), ("lat", lat.0..=lat.1)])?;
    let stacked = subset
        .get("HQprecipitation")
        .stack("z", ["lat", "lon"])
        .into_result()?;
    Ok(stacked.transpose().load()?)
}

/// The sample files for a seed, generated once.
fn sample_dir(seed: u64) -> R<PathBuf> {
    if seed == 2018 {
        return Ok(std::env::var("GEOXR_IMERG")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("data/IMERG")));
    }
    let dir = PathBuf::from(format!("target/bench-samples/seed-{seed}"));
    let done = dir.join("complete");
    if !done.exists() {
        let t = Instant::now();
        SampleSpec::tutorial().seed(seed).write_to(&dir)?;
        std::fs::write(&done, "303 days\n")?;
        println!(
            "generated seed {seed} in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(dir)
}

/// Eight Gaussian blobs in 10 dimensions, 750 points each.
fn blobs() -> R<DataArray> {
    let mut rng = Xoshiro256Plus::seed_from_u64(8);
    let (k, per, f) = (8, 750, 10);
    let centres = Array2::from_shape_fn((k, f), |_| 20.0 * (rng.gen::<f64>() - 0.5));
    let mut values = Vec::with_capacity(k * per * f);
    for c in 0..k {
        for _ in 0..per {
            for d in 0..f {
                // Box-Muller normal, standard deviation 1.
                let (u, v): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
                let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                values.push(centres[[c, d]] + z);
            }
        }
    }
    let data = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[k * per, f]), values)?);
    Ok(DataArray::new(
        Some("blobs"),
        Variable::new(["z", "feature"], data)?,
        vec![],
    )?)
}

/// Writes a float64 matrix as a NumPy `.npy` file.
fn write_npy(path: &Path, x: &Array2<f64>) -> std::io::Result<()> {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
        x.nrows(),
        x.ncols()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for v in x.iter() {
        out.write_all(&v.to_le_bytes())?;
    }
    out.flush()
}

/// What a Python fit reported.
struct PythonFit {
    seconds: f64,
    peak_mib: f64,
    labels: Vec<i64>,
}

/// scikit-learn's (`which = "sklearn"`) or dask-ml's (`"daskml"`) time and labels on
/// the same matrix, from the matrix written to `path`.
fn python_fit(path: &Path, gamma: f64, which: &str, name: &str) -> Option<PythonFit> {
    let python = std::env::var("GEOXR_BENCH_PYTHON")
        .unwrap_or_else(|_| "/work/scratch-venv/bin/python".into());
    let out = std::process::Command::new(&python)
        .args(["-c", PYTHON_FIT])
        .arg(path)
        .arg(format!("{gamma:e}"))
        .arg(which)
        .output()
        .ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        // A process killed by the kernel (out of memory) leaves no stderr: say how
        // it ended too.
        eprintln!(
            "{which} failed on {name} ({}): {}",
            out.status,
            err.lines().last().unwrap_or("")
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    Some(PythonFit {
        seconds: field("seconds ")?.parse().ok()?,
        peak_mib: field("peak_mib ")?.parse().ok()?,
        labels: field("labels ")?
            .split(',')
            .filter_map(|v| v.parse().ok())
            .collect(),
    })
}

/// The matrix as a `.npy` file for the Python side (removed when dropped).
struct NpyFile(PathBuf);

impl NpyFile {
    fn write(x: &Array2<f64>, name: &str) -> Option<NpyFile> {
        std::fs::create_dir_all("target/bench-matrices").ok()?;
        let file: String = name
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        let path = PathBuf::from(format!("target/bench-matrices/{file}.npy"));
        write_npy(&path, x).ok()?;
        Some(NpyFile(path))
    }
}

impl Drop for NpyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn labels_of(model: &geoxr::SpectralModel) -> R<Vec<i64>> {
    Ok(model
        .labels()
        .to_ndarray::<i64>()?
        .iter()
        .copied()
        .collect())
}

/// Which Python fits run beside ours.
#[derive(Clone, Copy)]
struct Python {
    sklearn: bool,
    daskml: bool,
}

/// Runs ours (exact and Nyström), scikit-learn and dask-ml on one matrix and
/// prints a row.
fn run(name: &str, x: &DataArray, gamma: f64, python: Python) -> R<f64> {
    let matrix: Array2<f64> = match x.to_ndarray::<f32>() {
        Ok(m) => m.mapv(f64::from),
        Err(_) => x.to_ndarray::<f64>()?,
    }
    .into_dimensionality()?;
    let before = mib(resident());
    reset_peak();
    let t = Instant::now();
    let model = SpectralClustering::exact(8)
        .gamma(gamma)
        .random_state(0)
        .fit(x)?;
    let exact_s = t.elapsed().as_secs_f64();
    let peak = mib(geoxr::peak_memory().ok().map(|b| b.bytes()));
    let s = model.spectrum();
    let worst = s.residuals.iter().take(8).copied().fold(0.0, f64::max);
    let t = Instant::now();
    let nystrom = SpectralClustering::approximate(8)
        .gamma(gamma)
        .random_state(0)
        .fit(x)?;
    let nystrom_s = t.elapsed().as_secs_f64();
    let ours = labels_of(&model)?;
    let file = (python.sklearn || python.daskml)
        .then(|| NpyFile::write(&matrix, name))
        .flatten();
    let fit = |on: bool, which: &str| {
        file.as_ref()
            .filter(|_| on)
            .and_then(|f| python_fit(&f.0, gamma, which, name))
    };
    let sk = match fit(python.sklearn, "sklearn") {
        Some(f) => format!(
            "{:7.2} {:5.1}× {:5.0} {:5.2}",
            f.seconds,
            f.seconds / exact_s,
            f.peak_mib,
            adjusted_rand_index(&ours, &f.labels)
        ),
        None => format!("{:>7} {:>6} {:>5} {:>5}", "–", "–", "–", "–"),
    };
    let dm = match fit(python.daskml, "daskml") {
        Some(f) => format!("{:7.2} {:5.0}×", f.seconds, f.seconds / nystrom_s),
        None => format!("{:>7} {:>6}", "–", "–"),
    };
    let stages: Vec<String> = s
        .timings
        .iter()
        .map(|(what, secs)| format!("{what} {secs:.2}"))
        .collect();
    println!(
        "{name:<22} {:>6} {gamma:9.3e} {exact_s:7.2} {:>5} {:>3} {before:5.0}/{peak:5.0} {worst:8.1e} {:>4} {:<11} | {sk} | {nystrom_s:6.3} {dm} | load {} | {}",
        matrix.nrows(),
        s.iterations,
        s.restarts,
        if s.converged { "yes" } else { "NO" },
        format!(
            "{}/{}",
            if s.solver.contains("LOBPCG") {
                "SI+LO"
            } else if s.solver.contains("shift") {
                "SI"
            } else {
                "Kr"
            },
            if s.solver.contains("dense normalised") {
                "dense"
            } else {
                "sparse"
            }
        ),
        load_average(),
        stages.join(", "),
    );
    if std::env::var_os("GEOXR_BENCH_VERBOSE").is_some() {
        println!("    {}", s.solver);
        println!(
            "    Nyström vs our exact labels: ARI {}",
            labels_of(&nystrom).map(|l| format!("{:.2}", adjusted_rand_index(&ours, &l)))?
        );
    }
    Ok(s.median_sq_distance.unwrap_or(f64::NAN))
}

fn header() {
    println!(
        "{:<22} {:>6} {:>9} {:>7} {:>5} {:>3} {:>11} {:>8} {:>4} {:<11} | {:>7} {:>6} {:>5} {:>5} | {:>6} {:>7} {:>6} |",
        "matrix", "n", "gamma", "ours s", "iter", "rst", "MiB bef/pk", "resid", "conv", "solver",
        "sklearn", "speed", "MiB", "ARI", "Nyst s", "dask-ml", "speed"
    );
}

/// Both gammas on one matrix: 1/n_features, then 1/median(d²) as the first fit saw it.
fn both_gammas(name: &str, x: &DataArray, python: Python) -> R<()> {
    let f = x.shape()[1] as f64;
    let median = run(&format!("{name} 1/nf"), x, 1.0 / f, python)?;
    run(&format!("{name} 1/med"), x, 1.0 / median, python)?;
    Ok(())
}

fn main() -> R<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    let python = Python {
        sklearn: !quick,
        daskml: !quick && !args.iter().any(|a| a == "no-daskml"),
    };
    // `only=NAME` runs the matrices whose name contains NAME; `seed=N` takes the
    // sample boxes from the set of seed N instead of the tutorial's 2018.
    let only = args
        .iter()
        .find_map(|a| a.strip_prefix("only="))
        .unwrap_or("");
    let seed: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("seed="))
        .map_or(Ok(2018), str::parse)?;
    println!(
        "geoxr spectral clustering, 8 clusters, random_state 0, {} threads; load average at start {}",
        rayon::current_num_threads(),
        load_average()
    );
    println!("(sklearn: scikit-learn 1.9's exact fit, its speed-up = its time / ours, MiB = its process's peak RSS, ARI = agreement with our exact labels, informative only; dask-ml: its Nyström fit, speed-up over our Nyström)\n");
    header();
    if args.iter().any(|a| a == "large") {
        let x = rainfall(&sample_dir(seed)?, LARGE)?;
        return both_gammas(&format!("large box (seed {seed})"), &x, python);
    }
    let wanted = |name: &str| name.contains(only);
    if wanted("tutorial box") || OTHER_BOXES.iter().any(|r| wanted(r.0)) {
        let dir = sample_dir(seed)?;
        for region in std::iter::once(TUTORIAL).chain(OTHER_BOXES) {
            let name = format!("{} box", region.0);
            if wanted(&name) {
                both_gammas(&name, &rainfall(&dir, region)?, python)?;
            }
        }
    }
    for other in [1, 2] {
        let name = format!("tutorial, seed {other}");
        if wanted(&name) {
            let x = rainfall(&sample_dir(other)?, TUTORIAL)?;
            both_gammas(&name, &x, python)?;
        }
    }
    if wanted("8 blobs") {
        both_gammas("8 blobs", &blobs()?, python)?;
    }
    Ok(())
}
