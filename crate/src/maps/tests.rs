//! Rendered-image tests: colours at known places, clipping at the limb and the
//! antimeridian, the colour bar's ends, and bad input.

use ndarray::{ArrayD, IxDyn};

use super::canvas::PixelCanvas;
use super::colorbar::draw_colorbar;
use super::*;
use crate::model::{ArrayData, DataArray, Variable};
use crate::Error;

const OCEAN: Rgb = Rgb(0x98, 0xb7, 0xe2);
const LAND: Rgb = Rgb(0xf0, 0xf0, 0xdc);

/// A (lat, lon) or (lon, lat) array with 1-degree cells and the given values.
fn grid(dims: [&str; 2], lon: &[f64], lat: &[f64], values: Vec<f64>) -> DataArray {
    let coord = |name: &str| if name == "lat" { lat } else { lon };
    let shape = [coord(dims[0]).len(), coord(dims[1]).len()];
    let data = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap());
    let coords = dims
        .iter()
        .map(|&d| {
            let c = coord(d).to_vec();
            let v = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[c.len()]), c).unwrap());
            (d.to_string(), Variable::new([d], v).unwrap())
        })
        .collect();
    DataArray::new(Some("regime"), Variable::new(dims, data).unwrap(), coords).unwrap()
}

fn globe(lon0: f64, lat0: f64) -> Orthographic {
    Orthographic::new(lon0, lat0)
}

fn colour_at(figure: &Figure, lon: f64, lat: f64) -> Rgb {
    let (x, y) = figure.locate(lon, lat).expect("the point is on the map");
    figure.pixel(x, y).unwrap()
}

#[test]
fn ocean_and_land_where_they_belong_on_the_tutorial_globe() {
    let map = (ocean() * land() * coastline())
        .projection(globe(-55.0, -10.0))
        .size(500, 300);
    let figure = map.draw().unwrap();
    assert_eq!(colour_at(&figure, -30.0, -25.0), OCEAN, "South Atlantic");
    assert_eq!(colour_at(&figure, -100.0, -20.0), OCEAN, "South Pacific");
    assert_eq!(colour_at(&figure, -60.0, -8.0), LAND, "Amazon");
    assert_eq!(colour_at(&figure, 20.0, 5.0), LAND, "Central Africa");
    // Outside the disc the canvas stays white.
    assert_eq!(figure.pixel(2, 150), Some(Rgb(255, 255, 255)));
}

#[test]
fn raster_cells_take_their_class_colour_in_either_dim_order() {
    let lon = [-70.0, -60.0, -50.0];
    let lat = [-20.0, -10.0];
    // value = class; in (lat, lon) order: row lat -20 = [0, 1, 2], row lat -10 = [3, 4, f64::NAN]
    let by_lat = grid(
        ["lat", "lon"],
        &lon,
        &lat,
        vec![0.0, 1.0, 2.0, 3.0, 4.0, f64::NAN],
    );
    let by_lon = grid(
        ["lon", "lat"],
        &lon,
        &lat,
        vec![0.0, 3.0, 1.0, 4.0, 2.0, f64::NAN],
    );
    for array in [by_lat, by_lon] {
        let layer = array.plot().cmap(Colormap::Category10).clim(0.0, 8.0);
        let figure = (ocean() * layer)
            .projection(globe(-55.0, -10.0))
            .size(500, 300)
            .draw()
            .unwrap();
        assert_eq!(
            colour_at(&figure, -60.0, -20.0),
            Colormap::Category10.class_colour(1)
        );
        assert_eq!(
            colour_at(&figure, -50.0, -10.0),
            OCEAN,
            "NaN cells are transparent"
        );
        assert_eq!(
            colour_at(&figure, -70.0, -10.0),
            Colormap::Category10.class_colour(3)
        );
        // Cells reach half-way to their neighbours: -64.3° is still the middle
        // column, -65.7° the first (a degree is about 2.5 pixels here).
        assert_eq!(
            colour_at(&figure, -64.3, -20.0),
            Colormap::Category10.class_colour(1)
        );
        assert_eq!(
            colour_at(&figure, -65.7, -20.0),
            Colormap::Category10.class_colour(0)
        );
    }
}

#[test]
fn colour_bar_ends_are_the_colour_map_ends() {
    let array = grid(["lat", "lon"], &[0.0, 1.0], &[0.0], vec![0.5, 2.5]);
    for cmap in [Colormap::Jet, Colormap::Viridis] {
        let raster = array.plot().cmap(cmap).clim(0.0, 3.0);
        let (w, h) = (120u32, 200u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        {
            let mut canvas = PixelCanvas::new(&mut rgb, w, h).unwrap();
            super::canvas::register_fonts().unwrap();
            draw_colorbar(&raster, [10.0, 0.0, 110.0, 200.0], &mut canvas).unwrap();
        }
        let at = |x: u32, y: u32| {
            let i = ((y * w + x) * 3) as usize;
            Rgb(rgb[i], rgb[i + 1], rgb[i + 2])
        };
        // The bar spans rows 16..=183 (8 % inset): its first and last rows.
        assert_eq!(at(17, 16), cmap.at(1.0), "{cmap:?} top");
        assert_eq!(at(17, 183), cmap.at(0.0), "{cmap:?} bottom");
        assert_ne!(at(17, 15), cmap.at(1.0), "{cmap:?} above the bar");
    }
}

#[test]
fn land_never_leaves_the_disc_across_the_antimeridian_and_the_pole() {
    for (lon0, lat0) in [
        (180.0, 0.0),
        (170.0, 60.0),
        (-175.0, -20.0),
        (0.0, -90.0),
        (100.0, 89.0),
    ] {
        for resolution in [Resolution::Coarse110m, Resolution::Medium50m] {
            let size = 301;
            let figure = Map::from(land().resolution(resolution))
                .projection(globe(lon0, lat0))
                .size(size, size)
                .draw()
                .unwrap();
            let (cx, cy) = figure.locate(lon0, lat0).unwrap();
            let radius = (figure.view.area[2] - figure.view.area[0]) / 2.0;
            let mut land_pixels = 0;
            for y in 0..size {
                for x in 0..size {
                    if figure.pixel(x, y) == Some(LAND) {
                        land_pixels += 1;
                        let r = ((x as f64 - cx as f64).powi(2) + (y as f64 - cy as f64).powi(2))
                            .sqrt();
                        assert!(r <= radius + 1.5, "land at ({x}, {y}), {r:.1} px from the centre of a {radius:.1} px disc, globe ({lon0}, {lat0}) {resolution:?}");
                    }
                }
            }
            // Land is drawn but never floods the disc (a wrongly closed ring would).
            let disc = std::f64::consts::PI * radius * radius;
            let share = land_pixels as f64 / disc;
            assert!(
                share > 0.01 && share < 0.8,
                "land covers {share:.2} of the disc at ({lon0}, {lat0})"
            );
        }
    }
    // Antarctica seen from the South Pole: all land near the pole.
    let figure = Map::from(land())
        .projection(globe(0.0, -90.0))
        .size(201, 201)
        .draw()
        .unwrap();
    assert_eq!(colour_at(&figure, 0.0, -89.0), LAND);
    assert_eq!(colour_at(&figure, 0.0, -40.0), Rgb(255, 255, 255));
}

#[test]
fn world_map_is_not_smeared_across_the_antimeridian() {
    let figure = (ocean() * land())
        .projection(PlateCarree::new().extent(-180.0, 180.0, -90.0, 90.0))
        .size(720, 360)
        .draw()
        .unwrap();
    // Equatorial Pacific at both edges is sea; Antarctica fills the bottom; Chukotka
    // (east of 180°) and eastern Siberia (west of it) are both land.
    assert_eq!(colour_at(&figure, 179.0, 0.0), OCEAN);
    assert_eq!(colour_at(&figure, -179.0, 0.0), OCEAN);
    assert_eq!(colour_at(&figure, -20.0, -88.0), LAND);
    assert_eq!(colour_at(&figure, 120.0, -88.0), LAND);
    assert_eq!(colour_at(&figure, -176.0, 66.5), LAND);
    assert_eq!(colour_at(&figure, 170.0, 66.5), LAND);
    assert_eq!(colour_at(&figure, -150.0, 40.0), OCEAN);
}

#[test]
fn svg_holds_shapes_text_and_dense_rasters_as_an_image() {
    let array = grid(["lat", "lon"], &[-60.0, -59.0], &[-10.0], vec![0.0, 1.0]);
    let map = (ocean() * land() * array.plot().cmap(Colormap::Jet) * coastline())
        .projection(globe(-55.0, -10.0))
        .title("Two <cells>");
    let svg = map.to_svg().unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("fill-rule=\"evenodd\"") && svg.contains("<polyline"));
    assert!(
        svg.contains(&Colormap::Jet.at(1.0).to_hex()),
        "the cells are polygons"
    );
    assert!(
        svg.contains(">Two &lt;cells&gt;</text>"),
        "title escaped in SVG"
    );
    assert!(!svg.contains("<image"));
    assert!(
        svg.contains(">regime</text>"),
        "the colour bar is labelled by the name"
    );
    let relabelled = array.plot().clabel("Rain & <snow> (mm)");
    let svg = (ocean() * relabelled).to_svg().unwrap();
    assert!(svg.contains(">Rain &amp; &lt;snow&gt; (mm)</text>"));
    // 200 × 150 cells: embedded as one image, the file stays small.
    let (lon, lat): (Vec<f64>, Vec<f64>) = (
        (0..200).map(|i| -80.0 + i as f64 * 0.2).collect(),
        (0..150).map(|j| -30.0 + j as f64 * 0.2).collect(),
    );
    let values = (0..30_000).map(|k| (k % 97) as f64).collect();
    let dense = grid(["lat", "lon"], &lon, &lat, values);
    let svg = (ocean() * dense.plot())
        .projection(globe(-55.0, -10.0))
        .to_svg()
        .unwrap();
    assert_eq!(svg.matches("<image").count(), 1);
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
}

#[test]
fn bad_input_gets_clear_errors() {
    let ok = grid(["lat", "lon"], &[0.0, 1.0], &[0.0], vec![0.0, 1.0]);
    // No lon/lat dims.
    let values = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0; 4]).unwrap());
    let plain = DataArray::new(
        Some("t2m"),
        Variable::new(["a", "b"], values).unwrap(),
        vec![],
    )
    .unwrap();
    let err = plain.plot().limits().unwrap_err().to_string();
    assert!(err.contains("t2m") && err.contains("longitude"), "{err}");
    // lon/lat dims without coordinate values.
    let values = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0; 4]).unwrap());
    let bare = DataArray::new(
        Some("t2m"),
        Variable::new(["lat", "lon"], values).unwrap(),
        vec![],
    )
    .unwrap();
    let err = bare.plot().limits().unwrap_err().to_string();
    assert!(err.contains("`lon`") && err.contains("coordinate"), "{err}");
    // 3-D.
    let values = ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[2, 1, 2]), vec![1.0; 4]).unwrap());
    let cube = DataArray::new(
        Some("rain"),
        Variable::new(["time", "lat", "lon"], values).unwrap(),
        vec![],
    )
    .unwrap();
    let err = cube.plot().limits().unwrap_err().to_string();
    assert!(
        err.contains("rain") && err.contains("3 dims") && err.contains("time"),
        "{err}"
    );
    // All NaN.
    let empty = grid(
        ["lat", "lon"],
        &[0.0, 1.0],
        &[0.0],
        vec![f64::NAN, f64::NAN],
    );
    let err = empty.plot().limits().unwrap_err().to_string();
    assert!(err.contains("regime") && err.contains("NaN"), "{err}");
    // clim with min >= max: the map keeps its layers; drawing says why.
    let map = ocean() * ok.plot().clim(3.0, 0.0);
    let err = map.draw().unwrap_err().to_string();
    assert!(
        err.contains("clim(3, 0)") && err.contains("regime"),
        "{err}"
    );
    assert_eq!(map.layers().len(), 2);
    // Unknown colour map name.
    assert!(matches!(
        Colormap::named("rainbowish"),
        Err(Error::Invalid { .. })
    ));
    // Size zero.
    let err = (ocean() * land())
        .size(0, 300)
        .draw()
        .unwrap_err()
        .to_string();
    assert!(err.contains("0 × 300"), "{err}");
    // Save: unknown extension, missing folder; nothing written.
    let figure = (ocean() * land()).size(50, 30).draw().unwrap();
    let dir = std::env::temp_dir().join(format!("geoxr-maps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = figure.save(dir.join("map.jpeg")).unwrap_err().to_string();
    assert!(
        err.contains("map.jpeg") && err.contains(".png or .svg"),
        "{err}"
    );
    let err = figure
        .save(dir.join("missing").join("map.png"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing") && err.contains("does not exist"),
        "{err}"
    );
    figure.save(dir.join("map.png")).unwrap();
    figure.save(dir.join("map.svg")).unwrap();
    let png = std::fs::read(dir.join("map.png")).unwrap();
    assert_eq!(png, figure.png().unwrap());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["map.png", "map.svg"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn points_and_graticule_are_drawn_where_they_belong() {
    let spots = ndarray::array![[-50.0, -5.0], [-40.0, 10.0]];
    let map = (ocean()
        * Shape::points(&spots)
            .unwrap()
            .colour(Rgb(255, 0, 0))
            .width(5.0))
    .projection(globe(-55.0, -10.0))
    .graticule(30.0)
    .size(300, 300);
    let figure = map.draw().unwrap();
    assert_eq!(colour_at(&figure, -50.0, -5.0), Rgb(255, 0, 0));
    assert_eq!(colour_at(&figure, -40.0, 10.0), Rgb(255, 0, 0));
    // The equator and the −30° meridian are graticule lines (grey, blended with
    // the sea by the smoothing); between lines the sea is untouched.
    let on_line = |lon: f64, lat: f64| {
        let (x, y) = figure.locate(lon, lat).unwrap();
        (x.saturating_sub(1)..=x + 1)
            .flat_map(|x| (y.saturating_sub(1)..=y + 1).map(move |y| (x, y)))
            .filter_map(|(x, y)| figure.pixel(x, y))
            .any(|c| c != OCEAN && c.2 < OCEAN.2 && c.0 >= OCEAN.0)
    };
    assert!(on_line(-75.0, 0.0) && on_line(-30.0, 15.0));
    assert_eq!(colour_at(&figure, -75.0, -15.0), OCEAN);
    let err = map.clone().graticule(0.0).draw().unwrap_err().to_string();
    assert!(err.contains("graticule(0)"), "{err}");
    let bad = ndarray::array![[-60.0, f64::NAN]];
    let err = Shape::points(&bad).unwrap_err().to_string();
    assert!(err.contains("row 0") && err.contains("finite"), "{err}");
}

#[test]
fn a_raster_on_the_far_side_or_across_the_limb_draws_only_what_shows() {
    let far = grid(["lat", "lon"], &[120.0, 121.0], &[10.0], vec![1.0, 2.0]);
    let figure = (ocean() * far.plot())
        .projection(globe(-55.0, -10.0))
        .draw()
        .unwrap();
    let map_right = figure.view.area[2] as u32;
    let colours = [Colormap::Viridis.at(0.0), Colormap::Viridis.at(1.0)];
    let drawn = (0..figure.height())
        .flat_map(|y| (0..map_right).map(move |x| (x, y)))
        .filter(|&(x, y)| figure.pixel(x, y).is_some_and(|c| colours.contains(&c)))
        .count();
    assert_eq!(drawn, 0, "cells behind the globe are not drawn");
    // Cells from 30° to 80° E, 10° S to 10° N, on a globe centred at 20° W: the
    // limb is at 70° E, so the grid is cut there and the rest is drawn whole.
    let lon: Vec<f64> = (0..50).map(|i| 30.5 + i as f64).collect();
    let lat: Vec<f64> = (0..20).map(|j| -9.5 + j as f64).collect();
    let across = grid(["lat", "lon"], &lon, &lat, vec![0.0; 1000]);
    let layer = across.plot().cmap(Colormap::Category10).clim(0.0, 8.0);
    let figure = (ocean() * layer)
        .projection(globe(-20.0, 0.0))
        .draw()
        .unwrap();
    for lon in [31.0, 45.0, 60.0] {
        assert_eq!(
            colour_at(&figure, lon, 0.0),
            Colormap::Category10.class_colour(0),
            "{lon}"
        );
    }
    assert!(figure.locate(75.0, 0.0).is_none(), "beyond the limb");
}

#[test]
fn a_failed_array_reaches_the_map_as_its_error() {
    let array = grid(["lat", "lon"], &[0.0, 1.0], &[0.0], vec![0.5, 2.5]);
    // No `time` to reduce: the layer carries the error; the map expression needs no `?`.
    let map = ocean() * array.mean("time").plot().cmap(Colormap::Jet) * coastline();
    let err = map.draw().unwrap_err().to_string();
    assert!(err.contains("`time`"), "{err}");
    assert!(map.to_svg().unwrap_err().to_string().contains("`time`"));
}

#[test]
fn a_polygons_bounds_select_the_cells_inside_it() {
    // Corners in any order, as the tutorial's bbox array gives them.
    let corners = ndarray::array![[-60.5, -10.2], [-58.9, -10.2], [-58.9, -8.8], [-60.5, -8.8]];
    let bounds = Shape::polygon(&corners).unwrap().bounds();
    assert_eq!(
        (
            bounds.lon_min,
            bounds.lon_max,
            bounds.lat_min,
            bounds.lat_max
        ),
        (-60.5, -58.9, -10.2, -8.8)
    );
    assert_eq!(bounds.to_string(), "lon -60.5 .. -58.9, lat -10.2 .. -8.8");
    let lon = [-61.0, -60.0, -59.0, -58.0];
    let lat = [-11.0, -10.0, -9.0, -8.0];
    let array = grid(["lat", "lon"], &lon, &lat, (0..16).map(f64::from).collect());
    let inside = array.sel(bounds);
    let by_hand = array.sel([("lon", -60.5..=-58.9), ("lat", -10.2..=-8.8)]);
    assert_eq!(inside.sizes().unwrap().to_string(), "{lat: 2, lon: 2}");
    assert!(inside.equals(&by_hand).unwrap());
    assert_eq!(
        inside
            .to_ndarray::<f64>()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [5.0, 6.0, 9.0, 10.0]
    );
}

#[test]
fn reanalysis_grids_draw_in_place_with_latitude_descending_and_longitude_0_to_360() {
    // ERA5 and most models: latitude from 90 down to -90, longitude 0 .. 350 east.
    let lat: Vec<f64> = (0..19).map(|i| 90.0 - 10.0 * f64::from(i)).collect();
    let lon: Vec<f64> = (0..36).map(|i| 10.0 * f64::from(i)).collect();
    let class =
        |lon: f64, lat: f64| ((lon / 10.0) as usize % 3 + 3 * usize::from(lat < 0.0)) as f64;
    let values = lat
        .iter()
        .flat_map(|la| lon.iter().map(move |lo| class(*lo, *la)))
        .collect();
    let array = grid(["lat", "lon"], &lon, &lat, values);
    let layer = array.plot().cmap(Colormap::Category10).clim(0.0, 8.0);
    for projection in [
        Projection::from(globe(-55.0, -10.0)),
        Projection::from(PlateCarree::new()),
    ] {
        let figure = Map::from(layer.clone())
            .projection(projection)
            .size(500, 300)
            .draw()
            .unwrap();
        if matches!(projection, Projection::PlateCarree(_)) {
            // The whole grid shows, not only its part east of Greenwich.
            let edges = [figure.locate(-179.0, 0.0), figure.locate(179.0, 0.0)];
            assert!(edges.iter().all(Option::is_some), "{edges:?}");
        }
        // West longitudes are the grid's 190..350; each cell keeps its own class.
        for (lo, la) in [(-60.0, -30.0), (-40.0, 20.0), (-80.0, 10.0), (-20.0, -50.0)] {
            let east = if lo < 0.0 { lo + 360.0 } else { lo };
            let expected = Colormap::Category10.class_colour(class(east, la) as usize);
            assert_eq!(colour_at(&figure, east, la), expected, "{east} {la}");
        }
    }
}
