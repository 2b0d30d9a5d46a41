//! Benchmark of the tutorial's computations on the sample IMERG files: the weekly
//! standard deviation lazily and eagerly, the time mean, the subset + stack + load,
//! and the lazy weekly std under a 256 MB memory limit. Wall time and peak memory.
//!
//! `cargo run --release -p geoxr --example bench_compute [-- PATTERN] [-- only-limited]`

use std::time::Instant;

use geoxr::{Client, DataArray};

fn peak_rss_mib() -> f64 {
    geoxr::peak_memory().map_or(f64::NAN, |b| b.mib())
}

fn timed<T>(what: &str, f: impl FnOnce() -> geoxr::Result<T>) -> geoxr::Result<T> {
    let t = Instant::now();
    let out = f()?;
    println!(
        "{what:<44} {:>7.3} s   peak RSS {:>6.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    Ok(out)
}

fn weekly_std(rain: &DataArray) -> geoxr::Result<DataArray> {
    rain.resample("time", "1W")?.mean()?.std("time")
}

fn main() -> geoxr::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pattern = args
        .iter()
        .find(|a| a.contains('*'))
        .cloned()
        .unwrap_or_else(|| "data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4".into());
    let imerg = timed("open_mfdataset", || geoxr::open_mfdataset(&pattern))?;
    let rain = imerg.get("HQprecipitation")?;
    if args.iter().any(|a| a == "only-limited") {
        // Run alone so the peak is this computation's own.
        let client = Client::new().memory_limit("256MB")?;
        timed("weekly std, lazy, memory_limit 256MB", || {
            client.load(&weekly_std(&rain)?)
        })?;
        return Ok(());
    }
    let lazy = timed("weekly std, lazy (resample.mean.std.load)", || {
        weekly_std(&rain)?.load()
    })?;
    let loaded = timed("load HQprecipitation", || rain.load())?;
    let eager = timed("weekly std, eager (on loaded data)", || weekly_std(&loaded))?;
    let same = lazy
        .to_ndarray::<f32>()?
        .iter()
        .zip(eager.to_ndarray::<f32>()?.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits());
    println!("lazy and eager weekly std identical: {same}");
    timed("mean over time, lazy", || rain.mean("time")?.load())?;
    timed("subset + stack + load (z = 6157)", || {
        let subset = imerg.sel([
            ("lon", -74.13671875..=-60.984375),
            ("lat", -15.3724475816178..=-10.685765151760275),
        ])?;
        let x = subset
            .get("HQprecipitation")?
            .stack("z", ["lat", "lon"])?
            .load()?;
        assert_eq!(x.sizes().get("z"), Some(6157));
        Ok(x)
    })?;
    Ok(())
}
