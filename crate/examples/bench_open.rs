//! Benchmark: `open_mfdataset` over the sample IMERG files and a full `load()` of
//! `HQprecipitation`, with wall time and peak memory.
//!
//! `cargo run --release -p geoxr --example bench_open [-- PATTERN]`

use std::time::Instant;

fn peak_rss_mib() -> f64 {
    geoxr::peak_memory().map_or(f64::NAN, |b| b.mib())
}

fn main() -> Result<(), geoxr::Error> {
    let pattern = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4".into());
    let t = Instant::now();
    let ds = geoxr::open_mfdataset(&pattern)?;
    println!(
        "open_mfdataset: {:.3} s, peak RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    println!("{ds}");
    let t = Instant::now();
    let rain = ds.get("HQprecipitation")?.load()?;
    println!(
        "load HQprecipitation: {:.3} s, peak RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    let values = rain.to_ndarray::<f32>()?;
    let valid: Vec<f32> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let zeros = valid.iter().filter(|v| **v == 0.0).count();
    let mean = valid.iter().map(|v| *v as f64).sum::<f64>() / valid.len() as f64;
    println!(
        "values: {} valid, {} NaN, mean {mean:.2} mm/day, {:.0} % exact zeros, max {:.1}",
        valid.len(),
        values.len() - valid.len(),
        100.0 * zeros as f64 / valid.len() as f64,
        valid.iter().copied().fold(0.0f32, f32::max)
    );
    Ok(())
}
