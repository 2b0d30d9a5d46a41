//! Raster layers: a 2-D DataArray on a longitude/latitude grid, coloured cell by
//! cell.
//!
//! Each cell spans half-way to its neighbours' centres. On a pixel canvas every
//! pixel is coloured by the cell under it (its position inverse-projected), which
//! draws each cell as its exact projected quadrilateral at any grid size; on a
//! vector canvas each cell becomes a polygon, or, past 20 000 cells, the raster is
//! embedded as one image at twice the figure's resolution. NaN cells are left
//! transparent.

use super::canvas::{Canvas, Px};
use super::colormap::{Colormap, Rgb};
use super::view::View;
use crate::error::{Error, Result};
use crate::model::DataArray;

/// A DataArray ready to draw, with its colour map and limits.
///
/// ```no_run
/// use geoxr::prelude::*;
/// use geoxr::maps::Colormap;
/// # fn demo(rain: &DataArray) -> geoxr::Result<()> {
/// let layer = rain.mean("time").plot().cmap(Colormap::Jet).clim(0.0, 3.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Raster {
    label: String,
    lon: Vec<f64>,
    lat: Vec<f64>,
    /// Values in (lat, lon) order, row by row.
    values: Vec<f64>,
    cmap: Colormap,
    clim: Option<(f64, f64)>,
    /// Why the array could not become a raster; drawing the map returns it.
    failure: Option<Error>,
}

/// Rasters with more cells go into SVG files as one embedded image.
const MAX_VECTOR_CELLS: usize = 20_000;
const LON_NAMES: [&str; 3] = ["lon", "longitude", "x"];
const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];
/// Most classes a categorical colour map draws (each is a block of the colour bar).
pub(crate) const MAX_CLASSES: usize = 1024;

impl DataArray {
    /// A raster map layer of this 2-D array over its `lon`/`lat` coordinates (either
    /// dim order; lazy data is computed here). Defaults: `Viridis`, limits from the
    /// data. An array that cannot be drawn (or a failed one) gives a layer that
    /// carries the error to the map's `draw` and display, so a map expression needs
    /// no `?`.
    pub fn plot(&self) -> Raster {
        self.check()
            .and_then(Raster::from_dataarray)
            .unwrap_or_else(|e| Raster {
                label: self.name().unwrap_or("values").to_string(),
                lon: Vec::new(),
                lat: Vec::new(),
                values: Vec::new(),
                cmap: Colormap::Viridis,
                clim: None,
                failure: Some(e),
            })
    }
}

impl Raster {
    fn from_dataarray(array: &DataArray) -> Result<Raster> {
        let label = array.name().unwrap_or("values").to_string();
        let dims = array.dims();
        if dims.len() != 2 {
            return Err(Error::Invalid {
                what: format!("`{label}` with dims ({})", dims.join(", ")),
                reason: format!(
                    "a map needs a 2-D (lat, lon) array but this one has {} dims; select or \
                     reduce the others first (e.g. .isel(\"time\", 0) or .mean(\"time\"))",
                    dims.len()
                ),
            });
        }
        let find = |names: &[&str]| dims.iter().position(|d| names.contains(&d.as_str()));
        let (lon_axis, lat_axis) = match (find(&LON_NAMES), find(&LAT_NAMES)) {
            (Some(lon), Some(lat)) => (lon, lat),
            _ => {
                return Err(Error::Invalid {
                    what: format!("`{label}` with dims ({})", dims.join(", ")),
                    reason: "a map needs a longitude dim (lon, longitude or x) and a latitude \
                             dim (lat, latitude or y)"
                        .into(),
                })
            }
        };
        let coordinate = |axis: usize| -> Result<Vec<f64>> {
            let name = &dims[axis];
            let coord = array.coord(name).map_err(|_| Error::Invalid {
                what: format!("`{label}` dim `{name}`"),
                reason: "has no coordinate values to place the cells on the map".into(),
            })?;
            let values = coord.values().map(|v| v.to_f64_vec()).unwrap_or_default();
            let rising = values.windows(2).all(|w| w[1] > w[0]);
            let falling = values.windows(2).all(|w| w[1] < w[0]);
            if values.is_empty() || !(rising || falling) || values.iter().any(|v| !v.is_finite()) {
                return Err(Error::Invalid {
                    what: format!("coordinate `{name}` of `{label}`"),
                    reason: "must be finite and strictly increasing or decreasing".into(),
                });
            }
            Ok(values)
        };
        let lon = coordinate(lon_axis)?;
        let lat = coordinate(lat_axis)?;
        let loaded = if array.is_lazy() {
            array.load()?
        } else {
            array.clone()
        };
        let flat = loaded.values().map(|v| v.to_f64_vec()).unwrap_or_default();
        let (n_lon, n_lat) = (lon.len(), lat.len());
        let mut values = vec![f64::NAN; n_lon * n_lat];
        // The data come in C order over the array's own dims; store them (lat, lon).
        let inner = if lon_axis == 0 { n_lat } else { n_lon };
        for (k, v) in flat.into_iter().enumerate() {
            let (outer_index, inner_index) = (k / inner, k % inner);
            let (i_lon, j_lat) = if lon_axis == 0 {
                (outer_index, inner_index)
            } else {
                (inner_index, outer_index)
            };
            if let Some(slot) = values.get_mut(j_lat * n_lon + i_lon) {
                *slot = v;
            }
        }
        if !values.iter().any(|v| v.is_finite()) {
            return Err(Error::Invalid {
                what: format!("`{label}`"),
                reason: "every value is NaN or infinite: there is nothing to draw".into(),
            });
        }
        let units = array.attrs().get("units").and_then(|u| u.as_str());
        let label = match units {
            Some(units) if !units.is_empty() => format!("{label} ({units})"),
            _ => label,
        };
        Ok(Raster {
            label,
            lon,
            lat,
            values,
            cmap: Colormap::Viridis,
            clim: None,
            failure: None,
        })
    }

    /// The colour map (`Colormap::named("jet")?` turns a name into one).
    pub fn cmap(mut self, cmap: Colormap) -> Self {
        self.cmap = cmap;
        self
    }

    /// Colour limits: values at or below `min` get the map's first colour, at or
    /// above `max` its last. For a categorical map, class `k` holds `min + k`.
    /// Checked when the map is drawn (`min` must be below `max`).
    pub fn clim(mut self, min: f64, max: f64) -> Self {
        self.clim = Some((min, max));
        self
    }

    /// The colour bar's label (default: the array's name and units), as
    /// holoviews' `clabel`.
    pub fn clabel(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// The text shown by the colour bar.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The colour map in use.
    pub fn colormap(&self) -> Colormap {
        self.cmap
    }

    /// The limits used for colouring: the set ones, checked, or the data's range.
    pub fn limits(&self) -> Result<(f64, f64)> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        let (lo, hi) = match self.clim {
            Some((lo, hi)) => {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(Error::Invalid {
                        what: format!("clim({lo}, {hi}) of `{}`", self.label),
                        reason: "the limits must be finite numbers, the lower below the upper"
                            .into(),
                    });
                }
                (lo, hi)
            }
            None => self.data_limits(),
        };
        if self.cmap.is_categorical() && hi - lo > MAX_CLASSES as f64 {
            return Err(Error::Invalid {
                what: format!("categorical colours for `{}` from {lo} to {hi}", self.label),
                reason: format!(
                    "that is more than {MAX_CLASSES} classes; set clim to the range of the labels"
                ),
            });
        }
        // Below this width the colour bar's ticks cannot be told apart or printed.
        if hi - lo < lo.abs().max(hi.abs()) * 1e-12 || !(hi - lo).is_normal() {
            return Err(Error::Invalid {
                what: format!("limits {lo} to {hi} of `{}`", self.label),
                reason: "the range is too narrow to draw; widen clim".into(),
            });
        }
        Ok((lo, hi))
    }

    /// Limits from the finite values: their range, one class more for categorical
    /// maps, a unit around a single value, and 0..1 when no value is finite.
    fn data_limits(&self) -> (f64, f64) {
        let finite = self.values.iter().copied().filter(|v| v.is_finite());
        let Some((lo, hi)) = finite.fold(None, |acc: Option<(f64, f64)>, v| {
            Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
        }) else {
            return (0.0, 1.0);
        };
        if self.cmap.is_categorical() {
            (lo, hi + 1.0)
        } else if lo < hi {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        }
    }

    /// Colour of a value under the limits (None for NaN).
    pub fn colour_of(&self, value: f64, (lo, hi): (f64, f64)) -> Option<Rgb> {
        if !value.is_finite() {
            return None;
        }
        if self.cmap.is_categorical() {
            let class = (value - lo)
                .floor()
                .clamp(0.0, (hi - lo).ceil().max(1.0) - 1.0);
            Some(self.cmap.class_colour(class as usize))
        } else {
            Some(self.cmap.at((value - lo) / (hi - lo)))
        }
    }

    /// What a map's hover read-out needs: the label, the cell edges along lon and
    /// lat, and the values in (lat, lon) order.
    pub(crate) fn cells(&self) -> (&str, Vec<f64>, Vec<f64>, &[f64]) {
        (
            &self.label,
            edges(&self.lon),
            edges(&self.lat),
            &self.values,
        )
    }

    /// Bounds of the cells: lon_min, lon_max, lat_min, lat_max.
    pub(crate) fn extent(&self) -> [f64; 4] {
        let lon = edges(&self.lon);
        let lat = edges(&self.lat);
        let (lon0, lon1) = (
            lon[0].min(lon[lon.len() - 1]),
            lon[0].max(lon[lon.len() - 1]),
        );
        let (lat0, lat1) = (
            lat[0].min(lat[lat.len() - 1]),
            lat[0].max(lat[lat.len() - 1]),
        );
        [lon0, lon1, lat0, lat1]
    }

    pub(crate) fn draw(&self, view: &View, canvas: &mut dyn Canvas) -> Result<()> {
        let limits = self.limits()?;
        match canvas.as_vector() {
            Some(svg) if self.values.len() > MAX_VECTOR_CELLS => {
                // One polygon per cell would make a file of tens of megabytes: embed
                // the cells as an image at twice the figure's resolution instead.
                let (w, h) = svg.size();
                let (w2, h2) = (w * 2, h * 2);
                let mut rgba = vec![0u8; w2 as usize * h2 as usize * 4];
                self.each_pixel(
                    view,
                    2.0,
                    |x, y, c| {
                        let i = (y as usize * w2 as usize + x as usize) * 4;
                        if i + 3 < rgba.len() {
                            rgba[i..i + 4].copy_from_slice(&[c.0, c.1, c.2, 255]);
                        }
                        Ok(())
                    },
                    limits,
                )?;
                svg.image(&rgba, w2, h2)
            }
            Some(_) => self.draw_cells(view, canvas, limits),
            None => self.each_pixel(view, 1.0, |x, y, c| canvas.pixel(x, y, c), limits),
        }
    }

    /// The part of the map area (pixels: left, top, right, bottom) where cells
    /// can show: the bounds of the grid's outline as drawn, so that only those
    /// pixels are inverse-projected. Grids wider than a hemisphere or outside
    /// ±180° longitude get the whole area.
    fn pixel_bounds(&self, view: &View) -> [f64; 4] {
        let [lon0, lon1, lat0, lat1] = self.extent();
        if lon1 - lon0 >= 180.0 || lat1 - lat0 >= 90.0 || lon0 < -180.0 || lon1 > 180.0 {
            return view.area;
        }
        let outline = vec![[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1]];
        let rings = view.rings(&[outline]);
        let drawn = rings.iter().flatten();
        let [l, r, t, b] = drawn.fold(
            [f64::MAX, f64::MIN, f64::MAX, f64::MIN],
            |[l, r, t, b], p| [l.min(p.0), r.max(p.0), t.min(p.1), b.max(p.1)],
        );
        if l > r {
            return [0.0; 4]; // nothing of the grid is visible
        }
        // One pixel of margin for rounding at the grid's edge.
        let [al, at, ar, ab] = view.area;
        [
            (l - 1.0).max(al),
            (t - 1.0).max(at),
            (r + 1.0).min(ar),
            (b + 1.0).min(ab),
        ]
    }

    /// Calls `paint(x, y, colour)` for every pixel of the map area (on a grid
    /// `scale` times finer than the canvas) that lies on a cell with a value.
    fn each_pixel(
        &self,
        view: &View,
        scale: f64,
        mut paint: impl FnMut(u32, u32, Rgb) -> Result<()>,
        limits: (f64, f64),
    ) -> Result<()> {
        let lon_edges = edges(&self.lon);
        let lat_edges = edges(&self.lat);
        let [left, top, right, bottom] = self.pixel_bounds(view).map(|v| v * scale);
        let (x0, x1) = (left.floor().max(0.0) as u32, right.ceil() as u32);
        let (y0, y1) = (top.floor().max(0.0) as u32, bottom.ceil() as u32);
        for py in y0..y1 {
            for px in x0..x1 {
                let at = ((px as f64 + 0.5) / scale, (py as f64 + 0.5) / scale);
                let Some((lon, lat)) = view.lonlat_at(at) else {
                    continue;
                };
                let i = cell_index(&lon_edges, lon)
                    .or_else(|| cell_index(&lon_edges, lon + 360.0))
                    .or_else(|| cell_index(&lon_edges, lon - 360.0));
                let (Some(i), Some(j)) = (i, cell_index(&lat_edges, lat)) else {
                    continue;
                };
                let value = self.values[j * self.lon.len() + i];
                if let Some(colour) = self.colour_of(value, limits) {
                    paint(px, py, colour)?;
                }
            }
        }
        Ok(())
    }

    fn draw_cells(&self, view: &View, canvas: &mut dyn Canvas, limits: (f64, f64)) -> Result<()> {
        let lon_edges = edges(&self.lon);
        let lat_edges = edges(&self.lat);
        for j in 0..self.lat.len() {
            for i in 0..self.lon.len() {
                let Some(colour) = self.colour_of(self.values[j * self.lon.len() + i], limits)
                else {
                    continue;
                };
                let corners = [
                    (lon_edges[i], lat_edges[j]),
                    (lon_edges[i + 1], lat_edges[j]),
                    (lon_edges[i + 1], lat_edges[j + 1]),
                    (lon_edges[i], lat_edges[j + 1]),
                ];
                let quad: Option<Vec<Px>> =
                    corners.iter().map(|&(x, y)| view.point(x, y)).collect();
                if let Some(quad) = quad {
                    canvas.fill(&[quad], colour, 1.0)?;
                }
            }
        }
        Ok(())
    }
}

/// Cell edges: half-way between centres, the ends extended by half a step.
fn edges(centres: &[f64]) -> Vec<f64> {
    let n = centres.len();
    if n == 1 {
        return vec![centres[0] - 0.5, centres[0] + 0.5];
    }
    let mut out = Vec::with_capacity(n + 1);
    out.push(centres[0] - (centres[1] - centres[0]) / 2.0);
    out.extend(centres.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    out.push(centres[n - 1] + (centres[n - 1] - centres[n - 2]) / 2.0);
    out
}

/// Which cell between monotonic `edges` holds `x`.
fn cell_index(edges: &[f64], x: f64) -> Option<usize> {
    let n = edges.len();
    let rising = edges[n - 1] > edges[0];
    let (lo, hi) = if rising {
        (edges[0], edges[n - 1])
    } else {
        (edges[n - 1], edges[0])
    };
    if !(x >= lo && x < hi) {
        return None;
    }
    let k = edges.partition_point(|&e| if rising { e <= x } else { e > x });
    Some(k.saturating_sub(1).min(n - 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_found_on_rising_and_falling_grids() {
        let e = edges(&[0.0, 1.0, 2.0]);
        assert_eq!(e, vec![-0.5, 0.5, 1.5, 2.5]);
        assert_eq!(cell_index(&e, -0.5), Some(0));
        assert_eq!(cell_index(&e, 1.49), Some(1));
        assert_eq!(cell_index(&e, 2.5), None);
        let falling = edges(&[2.0, 1.0, 0.0]);
        assert_eq!(cell_index(&falling, 1.9), Some(0));
        assert_eq!(cell_index(&falling, 0.1), Some(2));
    }
}
