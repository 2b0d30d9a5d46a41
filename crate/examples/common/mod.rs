//! What the benchmarks share: wall and CPU time of each step, the machine's load, and
//! the Python peer (xarray + dask, `bench_peer.py`) run in the same session.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Resident memory at its peak so far, in MiB.
pub fn peak_rss_mib() -> f64 {
    geoxr::peak_memory().map_or(f64::NAN, |b| b.mib())
}

/// CPU seconds (user + system) this process has used, all threads together.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// The 1, 5 and 15 minute load averages, as the kernel reports them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One measured step.
pub struct Step {
    pub name: String,
    pub wall: f64,
    pub cpu: f64,
}

/// Runs a step and prints wall time, CPU time / wall time (2.0 = both cores busy on
/// this machine) and the peak resident memory so far.
pub fn timed<T>(
    steps: &mut Vec<Step>,
    what: &str,
    f: impl FnOnce() -> geoxr::Result<T>,
) -> geoxr::Result<T> {
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let out = f()?;
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "{what:<44} {wall:>7.3} s   cpu/wall {:>4.2}   peak RSS {:>6.0} MiB",
        cpu / wall.max(1e-9),
        peak_rss_mib()
    );
    steps.push(Step {
        name: what.to_owned(),
        wall,
        cpu,
    });
    Ok(out)
}

/// The Python that runs the peer: `GEOXR_BENCH_PYTHON`, else the scratch venv when
/// there is one. It needs xarray and dask.
fn peer_python() -> Option<PathBuf> {
    std::env::var_os("GEOXR_BENCH_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/work/scratch-venv/bin/python")).filter(|p| p.exists()))
}

/// Runs `bench_peer.py` (`which` = "open" or "compute") and prints its figures next to
/// ours, as ratios `peer / geoxr` for the steps named in `pairs` (peer step, our step).
pub fn compare_with_peer(pattern: &str, which: &str, ours: &[Step], pairs: &[(&str, &str)]) {
    let Some(python) = peer_python() else {
        println!("(no xarray peer: set GEOXR_BENCH_PYTHON to a Python with xarray and dask)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bench_peer.py");
    println!("load average before the peer: {}", load_average());
    let out = match Command::new(&python)
        .args([script, pattern, which])
        .output()
    {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            println!(
                "the xarray peer failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Err(e) => {
            println!("cannot run {}: {e}", python.display());
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let peer: Vec<(String, f64, f64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("PEER "))
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let name = parts.next()?.to_owned();
            Some((
                name,
                parts.next()?.parse().ok()?,
                parts.next()?.parse().ok()?,
            ))
        })
        .collect();
    println!(
        "xarray + dask ({}), same session, load average now {}:",
        python.display(),
        load_average()
    );
    for (name, wall, cpu) in &peer {
        println!(
            "  {name:<42} {wall:>7.3} s   cpu/wall {:>4.2}",
            cpu / wall.max(1e-9)
        );
    }
    for (theirs, mine) in pairs {
        let t = peer.iter().find(|p| p.0 == *theirs);
        let m = ours.iter().find(|s| s.name == *mine);
        if let (Some((_, tw, tc)), Some(m)) = (t, m) {
            println!(
                "  speed-up {theirs:<33} {:>6.1}x wall ({tw:.3} s / {:.3} s), {:>5.1}x CPU time",
                tw / m.wall,
                m.wall,
                tc / m.cpu.max(1e-9)
            );
        }
    }
}
