//! Benchmark of the tutorial's maps: the study box on a regional map, the 8
//! rainfall regimes and the mean rainfall on an orthographic globe (500 × 300),
//! timed from layers to PNG bytes, with PNG sizes and the memory drawing takes
//! (resident set before, and its peak while drawing: the kernel's high-water mark
//! is reset before each map). Writes the PNGs and SVGs to `out/maps/`.
//!
//! `cargo run --release -p geoxr --example bench_maps`

use std::time::Instant;

use geoxr::maps::{borders, coastline, land, ocean, Colormap, Map, Orthographic, PlateCarree};
use geoxr::maps::{Resolution, Shape};
use geoxr::{Client, SpectralClustering};

/// Resident set size now, in MiB (Linux).
fn rss_mib() -> f64 {
    geoxr::resident_memory().map_or(f64::NAN, |b| b.mib())
}

fn time_map(name: &str, map: &Map, file: &str) -> geoxr::Result<()> {
    let reset = geoxr::reset_peak_memory().is_ok();
    let before = rss_mib();
    let mut best = f64::MAX;
    let mut png = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        png = map.draw()?.png()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let svg = map.to_svg()?;
    let svg_time = t.elapsed().as_secs_f64();
    std::fs::create_dir_all("out/maps").ok();
    std::fs::write(format!("out/maps/{file}.png"), &png).ok();
    std::fs::write(format!("out/maps/{file}.svg"), &svg).ok();
    let peak = geoxr::peak_memory().map_or(f64::NAN, |b| b.mib());
    println!(
        "{name}: draw + PNG {:.1} ms (best of 5), PNG {:.1} KB; SVG {:.1} ms, {:.0} KB; \
         RSS {before:.0} MiB before, peak {peak:.0} MiB while drawing{}",
        best * 1e3,
        png.len() as f64 / 1e3,
        svg_time * 1e3,
        svg.len() as f64 / 1e3,
        if reset {
            ""
        } else {
            " (peak not reset: whole run)"
        }
    );
    Ok(())
}

fn main() -> geoxr::Result<()> {
    let imerg = geoxr::open_mfdataset("data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4")?;
    let (min_lon, max_lon, min_lat, max_lat) = (
        -74.13671875,
        -60.984375,
        -15.3724475816178,
        -10.685765151760275,
    );
    let bbox_map = (ocean()
        * land()
        * coastline()
        * borders()
        * Shape::bbox(min_lon, max_lon, min_lat, max_lat))
    .projection(PlateCarree::new().extent(-85.0, -50.0, -25.0, 0.0))
    .size(500, 300);
    time_map("study box, Plate Carrée (auto = 1:50m)", &bbox_map, "bbox")?;

    let subset = imerg.sel([("lon", min_lon..=max_lon), ("lat", min_lat..=max_lat)])?;
    let rain = subset.get("HQprecipitation").into_result()?;
    let x = Client::new()
        .persist(&rain.stack("z", ["lat", "lon"]).into_result()?)?
        .transpose()
        .into_result()?;
    let model = SpectralClustering::approximate(8).random_state(0).fit(&x)?;
    let regimes = model.labels().unstack("z").into_result()?;
    let globe = Orthographic::new(-55.0, -10.0);
    for (resolution, label) in [
        (Resolution::Medium50m, "1:50m"),
        (Resolution::Auto, "auto = 1:110m"),
    ] {
        let regimes_map = (ocean().resolution(resolution)
            * land().resolution(resolution)
            * regimes.plot().cmap(Colormap::Category10).clim(0.0, 8.0)
            * coastline().resolution(resolution)
            * borders().resolution(resolution))
        .projection(globe)
        .size(500, 300);
        time_map(
            &format!("regimes on the globe ({label})"),
            &regimes_map,
            &format!("regimes-{}", label.replace([':', ' ', '='], "")),
        )?;
    }

    // The tutorial's mean-rainfall globe: the box, then the full 550 × 501 grid.
    let rain_globe = |mean: &geoxr::DataArray| -> geoxr::Result<Map> {
        let raster = mean.plot().cmap(Colormap::Jet).clim(0.0, 3.0);
        Ok((ocean() * land() * raster * coastline() * borders())
            .projection(globe)
            .size(500, 300))
    };
    let mean = subset.get("HQprecipitation").mean("time").into_result()?;
    let box_map = rain_globe(&mean)?;
    time_map(
        "mean rainfall of the box on the globe",
        &box_map,
        "mean-box",
    )?;
    let t = Instant::now();
    let full = imerg.get("HQprecipitation").mean("time").load()?;
    println!(
        "(full-grid time mean computed in {:.2} s)",
        t.elapsed().as_secs_f64()
    );
    let full_map = rain_globe(&full)?;
    time_map(
        "mean rainfall, full 550 × 501 grid, on the globe",
        &full_map,
        "mean-full",
    )?;
    Ok(())
}
