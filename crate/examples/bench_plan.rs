//! What a plan costs beside the computation it describes, on the tutorial's 303
//! files: the plan shown, its JSON size, the time to make it, write it and read it
//! back, and `load()` against the same work as pieces split in 4 and merged.
//!
//! ```sh
//! cargo run --release -p geoxr --example bench_plan   # files: data/IMERG or GEOXR_IMERG
//! ```

use std::time::Instant;

use geoxr::{open_mfdataset, DataArray, Plan};

type R<T> = Result<T, Box<dyn std::error::Error>>;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> R<()> {
    let dir = std::env::var("GEOXR_IMERG").unwrap_or_else(|_| "data/IMERG".into());
    let rain = open_mfdataset(&format!("{dir}/3B-DAY.MS.MRG.3IMERG.2018*.nc4"))?
        .get("HQprecipitation")
        .into_result()?;
    let weekly: DataArray = rain
        .resample("time", "1W")
        .mean()
        .std("time")
        .into_result()?;
    let cases = [
        ("weekly std", weekly),
        ("time mean", rain.mean("time").into_result()?),
        (
            "box mean",
            rain.sel([("lon", -74.1..=-61.0), ("lat", -15.4..=-10.7)])
                .mean("time")
                .into_result()?,
        ),
    ];
    for (what, x) in cases {
        let t = Instant::now();
        let plan = x.plan();
        let made = t.elapsed();
        let t = Instant::now();
        let json = plan.to_json()?;
        let written = t.elapsed();
        let t = Instant::now();
        let again = Plan::from_json(&json)?;
        let read = t.elapsed();
        if what == "weekly std" {
            println!("{plan}");
        }
        let t = Instant::now();
        let loaded = x.load()?;
        let load_s = t.elapsed().as_secs_f64();
        let n = again.pieces();
        let t = Instant::now();
        let parts = (0..4)
            .map(|i| again.run_pieces(i * n / 4..(i + 1) * n / 4))
            .collect::<geoxr::Result<Vec<_>>>()?;
        let merged = again.finish(&parts)?;
        let pieces_s = t.elapsed().as_secs_f64();
        let same = merged.values() == loaded.values()
            || merged.values().zip(loaded.values()).is_some_and(|(a, b)| {
                a.to_f64_vec()
                    .iter()
                    .zip(b.to_f64_vec())
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            });
        println!(
            "{what}: plan {:.2} ms, JSON {} bytes written in {:.2} ms, read back in {:.2} ms; \
             load {load_s:.2} s, {n} pieces in 4 parts + finish {pieces_s:.2} s \
             (ratio {:.2}), bit-identical: {same}; load average {}",
            made.as_secs_f64() * 1e3,
            json.len(),
            written.as_secs_f64() * 1e3,
            read.as_secs_f64() * 1e3,
            pieces_s / load_s,
            load_average()
        );
    }
    Ok(())
}
