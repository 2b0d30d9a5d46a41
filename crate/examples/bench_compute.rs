//! Benchmark of the tutorial's computations on the sample IMERG files: the weekly
//! standard deviation lazily and eagerly, the time mean, the subset + stack + load,
//! and the lazy weekly std under a 256 MB memory limit; then the same steps with
//! xarray + dask in the same session (`bench_peer.py`; set `GEOXR_BENCH_PYTHON` to a
//! Python with xarray and dask). Wall time, CPU time / wall time, peak memory and the
//! load average.
//!
//! `cargo run --release -p geoxr --example bench_compute [-- PATTERN] [-- only-limited]`
//! (`only-lazy` runs the lazy weekly std alone, so its peak memory is its own;
//! `only-subset` runs the subset + stack + load five times, for a profile.)

mod common;

use common::{compare_with_peer, load_average, timed};
use geoxr::{Client, DataArray};

fn weekly_std(rain: &DataArray) -> DataArray {
    rain.resample("time", "1W").mean().std("time")
}

fn main() -> geoxr::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pattern = args
        .iter()
        .find(|a| a.contains('*'))
        .cloned()
        .unwrap_or_else(|| "data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4".into());
    println!("load average at start: {}", load_average());
    let mut steps = Vec::new();
    let imerg = timed(&mut steps, "open_mfdataset", || {
        geoxr::open_mfdataset(&pattern)
    })?;
    let rain = imerg.get("HQprecipitation").into_result()?;
    if args.iter().any(|a| a == "only-limited") {
        // Run alone so the peak is this computation's own.
        let client = Client::new().memory_limit("256MB")?;
        timed(&mut steps, "weekly std, lazy, memory_limit 256MB", || {
            client.load(&weekly_std(&rain))
        })?;
        return Ok(());
    }
    let subset = || {
        let subset = imerg.sel([
            ("lon", -74.13671875..=-60.984375),
            ("lat", -15.3724475816178..=-10.685765151760275),
        ])?;
        let x = subset
            .get("HQprecipitation")
            .stack("z", ["lat", "lon"])
            .load()?;
        assert_eq!(x.sizes()?.get("z"), Some(6157));
        Ok(x)
    };
    if args.iter().any(|a| a == "only-subset") {
        for _ in 0..5 {
            timed(&mut steps, "subset + stack + load (z = 6157)", subset)?;
        }
        return Ok(());
    }
    let lazy = timed(
        &mut steps,
        "weekly std, lazy (resample.mean.std.load)",
        || weekly_std(&rain).load(),
    )?;
    if args.iter().any(|a| a == "only-lazy") {
        return Ok(());
    }
    timed(&mut steps, "mean over time, lazy", || {
        rain.mean("time").load()
    })?;
    timed(&mut steps, "subset + stack + load (z = 6157)", subset)?;
    let loaded = timed(&mut steps, "load HQprecipitation", || rain.load())?;
    let eager = timed(&mut steps, "weekly std, eager (on loaded data)", || {
        weekly_std(&loaded).into_result()
    })?;
    let same = lazy
        .to_ndarray::<f32>()?
        .iter()
        .zip(eager.to_ndarray::<f32>()?.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits());
    println!("lazy and eager weekly std identical: {same}");
    // A digest of the result's bits, to compare builds of the engine with each other.
    let digest = lazy
        .to_ndarray::<f32>()?
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
            (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3)
        });
    println!("weekly std digest (FNV-1a of the bits): {digest:016x}");
    compare_with_peer(
        &pattern,
        "compute",
        &steps,
        &[
            ("open_mfdataset", "open_mfdataset"),
            (
                "weekly std, lazy",
                "weekly std, lazy (resample.mean.std.load)",
            ),
            ("mean over time, lazy", "mean over time, lazy"),
            ("subset + stack + load", "subset + stack + load (z = 6157)"),
            ("load HQprecipitation", "load HQprecipitation"),
        ],
    );
    Ok(())
}
