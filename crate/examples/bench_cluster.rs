//! Benchmark of the tutorial's clustering: the 6157 pixel series × 303 days of the
//! study box, spectral clustering exact and Nyström, wall time, peak memory and the
//! k-means inertia on each embedding.
//!
//! `cargo run --release -p geoxr --example bench_cluster`

use std::time::Instant;

use geoxr::{Client, SpectralClustering};

fn peak_rss_mib() -> f64 {
    geoxr::peak_memory().map_or(f64::NAN, |b| b.mib())
}

fn main() -> geoxr::Result<()> {
    let imerg = geoxr::open_mfdataset("data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4")?;
    let subset = imerg.sel([
        ("lon", -74.13671875..=-60.984375),
        ("lat", -15.3724475816178..=-10.685765151760275),
    ])?;
    let rainfall = subset.get("HQprecipitation")?.stack("z", ["lat", "lon"])?;
    let x = Client::new().persist(&rainfall)?.transpose()?.load()?;
    println!(
        "X: {} (peak RSS so far {:.0} MiB)",
        x.sizes(),
        peak_rss_mib()
    );
    // The tutorial's gamma (1/n_features) leaves the graph nearly empty; the exact
    // method then needs about 100 s here, so it runs only with `-- all`.
    let all = std::env::args().any(|a| a == "all");
    let median_gamma = 7.9e-5;
    let mut runs = vec![
        (
            "Nyström, gamma = 1/n_features",
            SpectralClustering::approximate(8).random_state(0),
        ),
        (
            "exact, gamma = 1/median(d²)",
            SpectralClustering::exact(8)
                .gamma(median_gamma)
                .random_state(0),
        ),
        (
            "Nyström, gamma = 1/median(d²)",
            SpectralClustering::approximate(8)
                .gamma(median_gamma)
                .random_state(0),
        ),
    ];
    if all {
        runs.insert(
            0,
            (
                "exact, gamma = 1/n_features",
                SpectralClustering::exact(8).random_state(0),
            ),
        );
    }
    for (name, estimator) in runs {
        let t = Instant::now();
        let model = estimator.fit(&x)?;
        println!(
            "\n{name}: {:.3} s, peak RSS {:.0} MiB\n{model}",
            t.elapsed().as_secs_f64(),
            peak_rss_mib()
        );
    }
    Ok(())
}
