//! Benchmark of the tutorial's weekly std, time mean and box mean on MPI ranks
//! against the same computation in process. The pools (1 rank of all cores' threads,
//! 2 ranks of half of them, 2 ranks of all of them, 4 ranks of one) start once
//! (their start-up is reported apart), and the fixed cost of a load on each is
//! timed on a plan that does almost nothing; each runs one first load (which opens
//! the files on the ranks), then rounds alternate in-process and MPI loads
//! (`BENCH_ROUNDS`, default 3): wall time of each load, each rank's own seconds,
//! peak RSS and bytes sent, and the overhead of 2 ranks over the in-process load of
//! the same round on the same cores. Also times the serial merge of every piece's
//! partial, the one part of a reduction that more ranks do not shorten. Prints the
//! load average beside the figures; timing on a shared machine is noisy, so compare
//! within one run.
//!
//! ```sh
//! cargo build --release -p geoxr-mpi     # the worker, beside this example
//! cargo run --release -p geoxr-mpi --example bench_mpi [-- PATTERN]
//! ```

use std::time::Instant;

use geoxr::{Client, DataArray};

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Every value's bits (float arrays).
fn bits(a: &DataArray) -> geoxr::Result<Vec<u64>> {
    Ok(match a.dtype() {
        geoxr::DType::F32 => a
            .to_ndarray::<f32>()?
            .iter()
            .map(|v| u64::from(v.to_bits()))
            .collect(),
        _ => a.to_ndarray::<f64>()?.iter().map(|v| v.to_bits()).collect(),
    })
}

fn main() -> geoxr::Result<()> {
    let pattern = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4".into());
    let cores = geoxr::cpu_count();
    println!("{cores} cores; load average at start: {}", load_average());
    let rain = geoxr::open_mfdataset(&pattern)?
        .get("HQprecipitation")
        .into_result()?;
    let days = rain.sizes()?.get("time").unwrap_or(0);
    let cells: usize = rain.shape().iter().skip(1).product();
    let cases: Vec<(&str, DataArray)> = vec![
        (
            "weekly std",
            rain.resample("time", "1W")
                .mean()
                .std("time")
                .into_result()?,
        ),
        ("time mean", rain.mean("time").into_result()?),
        (
            "box mean",
            rain.sel([
                ("lon", -74.13671875..=-60.984375),
                ("lat", -15.3724475816178..=-10.685765151760275),
            ])
            .mean("time")
            .into_result()?,
        ),
    ];
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut pools = Vec::new();
    // Ranks × threads: the default (this machine's cores shared out), and 2 ranks of
    // as many threads as cores, so that a rank that has finished its share leaves
    // its core to the other's threads instead of idling.
    for (ranks, threads) in [(1, cores), (2, (cores / 2).max(1)), (2, cores), (4, 1)] {
        let started = Instant::now();
        let client = Client::mpi(ranks).threads_per_worker(threads).start()?;
        println!(
            "pool of {ranks} ranks x {threads} threads started in {:.2} s (once per client; load {})",
            started.elapsed().as_secs_f64(),
            load_average()
        );
        pools.push(((ranks, threads), client));
    }
    // The fixed cost of one load on a running pool: a plan that does almost nothing
    // (the mean of 1000 numbers in memory), so the wall time is shipping the plan,
    // handing it to every rank, and reading the outcome back.
    let tiny = DataArray::new(
        Some("tiny"),
        geoxr::Variable::new(
            ["time"],
            geoxr::ArrayData::from(geoxr::ndarray::ArrayD::<f64>::ones(vec![1000])),
        )?,
        vec![],
    )?
    .chunk("time", 100)
    .mean("time")
    .into_result()?;
    for ((ranks, threads), client) in &pools {
        let mut walls = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            client.load(&tiny)?;
            walls.push(started.elapsed().as_secs_f64());
        }
        walls.sort_by(f64::total_cmp);
        println!(
            "fixed cost of a load on {ranks} ranks x {threads} threads (a plan that does almost nothing, 20 loads): \
             median {:.1} ms, fastest {:.1} ms (load {})",
            1e3 * walls[walls.len() / 2],
            1e3 * walls[0],
            load_average()
        );
    }
    let mut summary = Vec::new();
    for (what, x) in &cases {
        let plan = x.plan();
        println!(
            "\n== {what}: {} pieces, {days} days of {cells} cells",
            plan.pieces()
        );
        // The serial part of any run: the left-to-right merge of every piece's
        // partial (here with decoding), which the ranks' running total goes through.
        let parts = vec![plan.run_pieces(0..plan.pieces())?];
        let started = Instant::now();
        plan.finish(&parts)?;
        let merge = started.elapsed().as_secs_f64();
        println!(
            "merging all {} partials ({:.1} MB each): {:.1} ms, {:.2} ns per cell and partial",
            plan.pieces(),
            parts[0].len() as f64 / plan.pieces().max(1) as f64 / 1e6,
            1e3 * merge,
            1e9 * merge / (plan.pieces().max(1) * cells.max(1)) as f64
        );
        drop(parts);
        let here = Client::new().load(x)?;
        for ((ranks, threads), client) in &pools {
            let started = Instant::now();
            client.load(x)?;
            println!(
                "first load on {ranks} ranks x {threads} threads (opens the files): {:.2} s (load {})",
                started.elapsed().as_secs_f64(),
                load_average()
            );
        }
        let (mut overheads, mut wide) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let started = Instant::now();
            let again = Client::new().load(x)?;
            let base = started.elapsed().as_secs_f64();
            assert!(again.equals(&here)?);
            println!(
                "round {round}: in process, {cores} threads: {base:.2} s  ({:.1} core-ms per day-file; load {})",
                1e3 * base * cores as f64 / days.max(1) as f64,
                load_average()
            );
            for ((ranks, threads), client) in &pools {
                let started = Instant::now();
                let there = client.load(x)?;
                let wall = started.elapsed().as_secs_f64();
                let same = there.equals(&here)? && bits(&there)? == bits(&here)?;
                let over = 100.0 * (wall / base - 1.0);
                if *ranks == 2 && *threads == (cores / 2).max(1) {
                    overheads.push(wall / base);
                }
                if *ranks == 2 && *threads == cores && cores > 1 {
                    wide.push(wall / base);
                }
                println!(
                    "round {round}: {ranks} ranks x {} threads: {wall:.2} s, {over:+.0} % over in process, bit-identical: {same} (load {})",
                    threads,
                    load_average()
                );
                if round == rounds {
                    if let Some(report) = client.last_job() {
                        print!("{report}");
                    }
                }
            }
        }
        for (label, ratios) in [
            (
                format!("2 ranks x {} threads", (cores / 2).max(1)),
                &mut overheads,
            ),
            (format!("2 ranks x {cores} threads"), &mut wide),
        ] {
            if ratios.is_empty() {
                continue;
            }
            ratios.sort_by(f64::total_cmp);
            let median = ratios[ratios.len() / 2];
            let line = format!(
                "{what}: {label} / in process, by round: {} (median {median:.2})",
                ratios
                    .iter()
                    .map(|o| format!("{o:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{line}");
            summary.push(line);
        }
    }
    println!("\n{}", summary.join("\n"));
    println!("load average at the end: {}", load_average());
    println!(
        "\npeak RSS of this driver process: {}",
        geoxr::peak_memory()?
    );
    Ok(())
}
