//! A drawn map: its pixels, PNG encoding and saving.

use std::path::Path;

use image::{ExtendedColorType, ImageEncoder};

use super::colormap::Rgb;
use super::projection::Projection;
use super::render::Map;
use super::view::View;
use super::Layer;
use crate::error::{Error, Result};

/// Rasters with more cells than this are read out with longitude and latitude
/// only (their values would make the HTML larger than about 5 MB).
const MAX_HOVER_CELLS: usize = 1 << 20;

/// Wires every map container on the page not wired yet: under the mouse it shows
/// longitude, latitude and the top raster's value, computed from the projection's
/// inverse and the cell edges in the container's `data-` attributes. The script is
/// a constant: nothing from files is ever part of it; the raster's label reaches
/// the page through `textContent` only.
pub(crate) const HOVER_SCRIPT: &str = r#"(function () {
  for (const box of document.querySelectorAll('div.geoxr-map:not([data-geoxr-ready])')) {
    box.setAttribute('data-geoxr-ready', '');
    const d = box.dataset, img = box.querySelector('img');
    const out = box.querySelector('.geoxr-readout');
    const plane = JSON.parse(d.plane), area = JSON.parse(d.area);
    const lon0 = Number(d.lon0) * Math.PI / 180, lat0 = Number(d.lat0) * Math.PI / 180;
    const lonEdges = d.lonEdges ? JSON.parse(d.lonEdges) : null;
    const latEdges = d.latEdges ? JSON.parse(d.latEdges) : null;
    let values = null;
    if (d.values) {
      const bytes = Uint8Array.from(atob(d.values), (c) => c.charCodeAt(0));
      values = new DataView(bytes.buffer);
    }
    const deg = (r) => r * 180 / Math.PI;
    const wrap = (lon) => ((lon + 180) % 360 + 360) % 360 - 180;
    const inverse = (x, y) => {
      if (d.projection !== 'orthographic') return [x, y];
      const rho = Math.hypot(x, y);
      if (rho > 1 + 1e-12) return null;
      if (rho < 1e-15) return [deg(lon0), deg(lat0)];
      const c = Math.asin(Math.min(rho, 1)), sc = Math.sin(c), cc = Math.cos(c);
      const lat = Math.asin(Math.max(-1, Math.min(1,
        cc * Math.sin(lat0) + y * sc * Math.cos(lat0) / rho)));
      const lon = lon0 + Math.atan2(x * sc, rho * cc * Math.cos(lat0) - y * sc * Math.sin(lat0));
      return [wrap(deg(lon)), deg(lat)];
    };
    const cell = (edges, x) => {
      const n = edges.length, rising = edges[n - 1] > edges[0];
      const lo = Math.min(edges[0], edges[n - 1]), hi = Math.max(edges[0], edges[n - 1]);
      if (!(x >= lo && x < hi)) return null;
      let k = 0;
      while (k < n - 2 && (rising ? edges[k + 1] <= x : edges[k + 1] > x)) k++;
      return k;
    };
    const hint = 'move the mouse over the map';
    const readout = (px, py) => {
      const s = (area[2] - area[0]) / (plane[1] - plane[0]);
      const x = plane[0] + (px - area[0]) / s, y = plane[3] - (py - area[1]) / s;
      if (x < plane[0] || x > plane[1] || y < plane[2] || y > plane[3]) return hint;
      const at = inverse(x, y);
      if (!at) return hint;
      const [lon, lat] = at;
      let text = 'lon ' + lon.toFixed(2) + '°  lat ' + lat.toFixed(2) + '°';
      if (values && lonEdges && latEdges) {
        let i = cell(lonEdges, lon);
        if (i === null) i = cell(lonEdges, lon + 360);
        if (i === null) i = cell(lonEdges, lon - 360);
        const j = cell(latEdges, lat);
        if (i !== null && j !== null) {
          const v = values.getFloat32((j * (lonEdges.length - 1) + i) * 4, true);
          text += '  ' + d.label + ' = ' + (Number.isNaN(v) ? 'no data' : String(Number(v.toPrecision(6))));
        }
      }
      return text;
    };
    // The read-out is for the image pixel under the mouse, taken at its centre as
    // the picture was drawn.
    img.addEventListener('mousemove', (e) => {
      const r = img.getBoundingClientRect();
      const px = Math.floor((e.clientX - r.left) * img.naturalWidth / r.width);
      const py = Math.floor((e.clientY - r.top) * img.naturalHeight / r.height);
      out.textContent = readout(px + 0.5, py + 0.5);
    });
    img.addEventListener('mouseleave', () => { out.textContent = hint; });
  }
})();"#;

/// A number as JSON writes it (`null` for NaN and infinities).
fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn json_numbers(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|&v| json_number(v)).collect();
    format!("[{}]", parts.join(","))
}

/// A map drawn to pixels. Shown inline as PNG by the notebook; `save` writes PNG
/// or SVG (the SVG is drawn again as shapes).
///
/// ```
/// use geoxr::maps::{land, ocean, Orthographic};
/// let figure = (ocean() * land()).projection(Orthographic::new(0.0, 0.0)).size(200, 200).draw()?;
/// let png = figure.png()?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Figure {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    map: Map,
    pub(crate) view: View,
}

impl Figure {
    pub(crate) fn new(width: u32, height: u32, rgb: Vec<u8>, map: Map, view: View) -> Figure {
        Figure {
            width,
            height,
            rgb,
            map,
            view,
        }
    }

    /// The pixel (column, row) where a longitude/latitude is drawn, if the map
    /// shows it.
    ///
    /// ```
    /// use geoxr::maps::{ocean, Map, Orthographic};
    /// let figure = Map::from(ocean()).projection(Orthographic::new(0.0, 0.0)).size(101, 101).draw()?;
    /// assert_eq!(figure.locate(0.0, 0.0), Some((50, 50)));
    /// assert_eq!(figure.locate(180.0, 0.0), None);
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(u32, u32)> {
        // A longitude a turn away is the same place (300° east is 60° west).
        [lon, lon - 360.0, lon + 360.0].into_iter().find_map(|lon| {
            let (x, y) = self.view.point(lon, lat)?;
            let (x, y) = (x.floor(), y.floor());
            let inside = x >= 0.0 && y >= 0.0 && x < self.width as f64 && y < self.height as f64;
            inside.then_some((x as u32, y as u32))
        })
    }

    /// The longitude/latitude under the centre of pixel (`x`, `y`), if the map
    /// shows the Earth there: the inverse of [`Figure::locate`].
    ///
    /// ```
    /// use geoxr::maps::{ocean, Map, Orthographic};
    /// let figure = Map::from(ocean()).projection(Orthographic::new(0.0, 0.0)).size(101, 101).draw()?;
    /// let (lon, lat) = figure.lonlat(50, 50).unwrap();
    /// assert!(lon.abs() < 1e-9 && lat.abs() < 1e-9);
    /// assert_eq!(figure.lonlat(0, 0), None); // off the globe
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn lonlat(&self, x: u32, y: u32) -> Option<(f64, f64)> {
        if x >= self.width || y >= self.height {
            return None;
        }
        self.view.lonlat_at((x as f64 + 0.5, y as f64 + 0.5))
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The colour of pixel (`x`, `y`), counted from the top-left corner.
    pub fn pixel(&self, x: u32, y: u32) -> Option<Rgb> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some(Rgb(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]))
    }

    /// The map this figure was drawn from.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// The figure as HTML: the PNG, and under it a line that tells the longitude,
    /// latitude and the top raster's value under the mouse (a small inline script
    /// using the projection's inverse; no network). Text from files (the raster's
    /// label) is escaped.
    ///
    /// ```
    /// use geoxr::maps::{land, ocean, PlateCarree};
    /// let figure = (ocean() * land()).projection(PlateCarree::new()).size(200, 100).draw()?;
    /// let html = figure.html()?;
    /// assert!(html.contains("data:image/png;base64,") && html.contains("<script>"));
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn html(&self) -> Result<String> {
        Ok(self.html_with(&self.png()?))
    }

    /// [`Figure::html`] around PNG bytes already encoded.
    pub(crate) fn html_with(&self, png: &[u8]) -> String {
        use base64::Engine;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let view = &self.view;
        let (kind, lon0, lat0) = match view.projection {
            Projection::PlateCarree(_) => ("platecarree", 0.0, 0.0),
            Projection::Orthographic(o) => ("orthographic", o.lon0, o.lat0),
        };
        let mut attrs = format!(
            r#" data-projection="{kind}" data-lon0="{}" data-lat0="{}" data-plane="{}" data-area="{}""#,
            json_number(lon0),
            json_number(lat0),
            json_numbers(&view.plane),
            json_numbers(&view.area)
        );
        let top_raster = self.map.layers().iter().rev().find_map(|l| match l {
            Layer::Raster(r) => Some(r),
            _ => None,
        });
        if let Some(raster) = top_raster {
            let (label, lon_edges, lat_edges, values) = raster.cells();
            if values.len() <= MAX_HOVER_CELLS {
                let bytes: Vec<u8> = values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect();
                attrs += &format!(
                    r#" data-label="{}" data-lon-edges="{}" data-lat-edges="{}" data-values="{}""#,
                    crate::base::text::html(label),
                    json_numbers(&lon_edges),
                    json_numbers(&lat_edges),
                    encode(&bytes)
                );
            }
        }
        format!(
            r#"<div class="geoxr-map"{attrs}><img src="data:image/png;base64,{}" width="{}" height="{}" alt="map"><div class="geoxr-readout" style="font-family: monospace; font-size: 12px; min-height: 1.5em">move the mouse over the map</div></div><script>{HOVER_SCRIPT}</script>"#,
            encode(png),
            self.width,
            self.height
        )
    }

    /// The image as PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(&self.rgb, self.width, self.height, ExtendedColorType::Rgb8)
            .map_err(|e| Error::Invalid {
                what: "PNG encoding".into(),
                reason: e.to_string(),
            })?;
        Ok(bytes)
    }

    /// Writes the figure to `path`: `.png` as drawn, `.svg` as vector shapes.
    /// The folder must exist; a failed write leaves no partial file behind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        let bytes = match extension.as_deref() {
            Some("png") => self.png()?,
            Some("svg") => self.map.to_svg()?.into_bytes(),
            _ => {
                return Err(Error::File {
                    path: path.to_path_buf(),
                    reason: "unknown image type: the name must end in .png or .svg".into(),
                })
            }
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(Error::File {
                path: path.to_path_buf(),
                reason: format!("the folder {} does not exist", folder.display()),
            });
        }
        crate::base::fsx::write_atomic(path, |temporary| {
            std::fs::write(temporary, &bytes).map_err(|e| Error::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        })
    }
}
