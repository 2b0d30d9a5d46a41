//! Maps you can read: in headless Chromium, the mouse on a known pixel of a map's
//! HTML output shows that pixel's longitude, latitude and raster value. Needs only
//! Chromium and playwright-core from the set-up, no kernel.

use geoxr::maps::{ocean, Map, Orthographic, PlateCarree};
use geoxr::ndarray::{ArrayD, IxDyn};
use geoxr::{ArrayData, DataArray, Variable};
use xtask::Paths;

/// File text that would run a script if it reached the page unescaped.
const HOSTILE: &str = "rain</div><script>window.hijacked=1</script>\"'&";

const LON: [f64; 4] = [-70.0, -69.0, -68.0, -67.0];
const LAT: [f64; 3] = [-12.0, -11.0, -10.0];

/// (lat, lon) cells of one degree; cell (j, i) holds 10 j + i + 0.25, and the
/// corner cell (2, 3) is missing.
fn raster() -> DataArray {
    let values: Vec<f64> = (0..LAT.len())
        .flat_map(|j| (0..LON.len()).map(move |i| (j, i)))
        .map(|(j, i)| {
            if (j, i) == (2, 3) {
                f64::NAN
            } else {
                value(j, i)
            }
        })
        .collect();
    let data = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[3, 4]), values).unwrap());
    let coord = |name: &str, c: &[f64]| {
        let v = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[c.len()]), c.to_vec()).unwrap());
        (name.to_string(), Variable::new([name], v).unwrap())
    };
    DataArray::new(
        Some(HOSTILE),
        Variable::new(["lat", "lon"], data).unwrap(),
        vec![coord("lat", &LAT), coord("lon", &LON)],
    )
    .unwrap()
}

fn value(j: usize, i: usize) -> f64 {
    10.0 * j as f64 + i as f64 + 0.25
}

/// `lon -68.00°  lat -11.00°  …` → (lon, lat).
fn lonlat(readout: &str) -> (f64, f64) {
    let number = |key: &str| -> f64 {
        readout
            .split(key)
            .nth(1)
            .and_then(|r| r.split('°').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in `{readout}`"))
    };
    (number("lon "), number("lat "))
}

#[test]
fn the_mouse_on_a_pixel_shows_its_longitude_latitude_and_value() {
    let paths = Paths::from_checkout();
    xtask::browser::install(&paths).expect("Chromium and playwright-core");
    let da = raster();
    let maps: [Map; 2] = [
        (ocean() * da.plot())
            .projection(PlateCarree::new())
            .size(400, 300),
        (ocean() * da.plot())
            .projection(Orthographic::new(-55.0, -10.0))
            .size(400, 300),
    ];
    let figures: Vec<_> = maps.iter().map(|m| m.draw().unwrap()).collect();
    let mut page = String::from("<!DOCTYPE html><html><body>");
    let mut points = Vec::new();
    let mut expected = Vec::new();
    for (k, figure) in figures.iter().enumerate() {
        page += &figure.html().unwrap();
        for (j, &lat) in LAT.iter().enumerate() {
            for (i, &lon) in LON.iter().enumerate() {
                let (x, y) = figure.locate(lon, lat).expect("cell centre drawn");
                points.push((k, x, y));
                // What the read-out must say: the inverse at the pixel's centre.
                let (lon, lat) = figure.lonlat(x, y).expect("a pixel on the Earth");
                expected.push(Some((lon, lat, j, i)));
            }
        }
        // Top-left corner: off the globe, and outside the fitted flat map's cells.
        points.push((k, 0, 0));
        expected.push(None);
    }
    page += "</body></html>";
    let dir = paths.out().join("hover");
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("hover.html");
    std::fs::write(&html, page).unwrap();

    let seen = xtask::browser::hover(&paths, &html, &points).expect("Chromium hovers the maps");
    assert!(seen.script_errors.is_empty(), "{:?}", seen.script_errors);
    assert!(seen.requests.is_empty(), "no network: {:?}", seen.requests);
    assert!(!seen.hijacked, "the raster's name ran as a script");
    assert_eq!(seen.readouts.len(), points.len());
    for ((readout, want), point) in seen.readouts.iter().zip(&expected).zip(&points) {
        let Some((lon, lat, j, i)) = *want else {
            if point.0 == 1 {
                assert_eq!(readout, "move the mouse over the map", "off the globe");
            } else {
                assert!(
                    !readout.contains(" = "),
                    "no value outside the cells: {readout}"
                );
            }
            continue;
        };
        // The script's inverse projection agrees with the crate's (to the two
        // decimals shown).
        let (shown_lon, shown_lat) = lonlat(readout);
        assert!(
            (shown_lon - lon).abs() <= 0.0051 && (shown_lat - lat).abs() <= 0.0051,
            "map {} at ({lon}, {lat}): {readout}",
            point.0
        );
        let tail = format!("  {HOSTILE} = ");
        let shown = readout
            .split(&tail)
            .nth(1)
            .unwrap_or_else(|| panic!("the label is shown as text: {readout}"));
        if (j, i) == (2, 3) {
            assert_eq!(shown, "no data", "{readout}");
        } else {
            assert_eq!(shown, value(j, i).to_string(), "{readout}");
        }
    }
}
