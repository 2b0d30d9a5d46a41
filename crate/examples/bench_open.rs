//! Benchmark: `open_mfdataset` over the sample IMERG files and a full `load()` of
//! `HQprecipitation`, with the Rust engine (the default) and with libnetcdf, then the
//! same steps with xarray + dask in the same session (`bench_peer.py`; set
//! `GEOXR_BENCH_PYTHON` to a Python with xarray and dask). Wall time, CPU time / wall
//! time, peak memory and the load average.
//!
//! `cargo run --release -p geoxr --example bench_open [-- PATTERN]`

mod common;

use common::{compare_with_peer, load_average, timed};
use geoxr::{Engine, OpenOptions};

fn main() -> Result<(), geoxr::Error> {
    let pattern = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4".into());
    // A fresh chunk index, so the first open is cold and the second reads the index.
    let index = std::env::temp_dir().join(format!("geoxr-bench-index-{}", std::process::id()));
    std::env::set_var("GEOXR_CACHE_DIR", &index);
    println!("load average at start: {}", load_average());
    let mut steps = Vec::new();
    let ds = timed(&mut steps, "open_mfdataset", || {
        geoxr::open_mfdataset(&pattern)
    })?;
    println!("{ds}");
    let again = timed(
        &mut steps,
        "open_mfdataset again, from the chunk index",
        || geoxr::open_mfdataset(&pattern),
    )?;
    drop(again);
    let rain = timed(&mut steps, "load HQprecipitation", || {
        ds.get("HQprecipitation").load()
    })?;
    let libnetcdf = OpenOptions::new().engine(Engine::Libnetcdf);
    let ds_c = timed(&mut steps, "open_mfdataset, engine libnetcdf", || {
        libnetcdf.open_mfdataset(&pattern)
    })?;
    let rain_c = timed(&mut steps, "load HQprecipitation, engine libnetcdf", || {
        ds_c.get("HQprecipitation").load()
    })?;
    let (a, b) = (rain.to_ndarray::<f32>()?, rain_c.to_ndarray::<f32>()?);
    let same = a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
    println!("both engines give the same values: {same}");
    let valid: Vec<f32> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let zeros = valid.iter().filter(|v| **v == 0.0).count();
    let mean = valid.iter().map(|v| *v as f64).sum::<f64>() / valid.len() as f64;
    println!(
        "values: {} valid, {} NaN, mean {mean:.2} mm/day, {:.0} % exact zeros, max {:.1}",
        valid.len(),
        a.len() - valid.len(),
        100.0 * zeros as f64 / valid.len() as f64,
        valid.iter().copied().fold(0.0f32, f32::max)
    );
    let _ = std::fs::remove_dir_all(&index);
    compare_with_peer(
        &pattern,
        "open",
        &steps,
        &[
            ("open_mfdataset", "open_mfdataset"),
            ("load HQprecipitation", "load HQprecipitation"),
        ],
    );
    Ok(())
}
