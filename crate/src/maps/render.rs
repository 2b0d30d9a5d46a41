//! A map: its layers, projection, size and title, and the drawing of all of it.

use std::path::Path;

use super::canvas::{register_fonts, Align, Canvas, PixelCanvas, Px, VectorCanvas};
use super::colorbar::{colorbar_width, draw_colorbar};
use super::colormap::Rgb;
use super::figure::Figure;
use super::naturalearth::{Resolution, Shapes};
use super::projection::Projection;
use super::raster::Raster;
use super::view::{lonlat_bounds, View};
use super::{Feature, FeatureKind, Layer, PlateCarree};
use crate::error::{Error, Result};

/// Largest side accepted, in pixels.
const MAX_SIDE: u32 = 8192;
const MARGIN: f64 = 6.0;
const TITLE_HEIGHT: f64 = 24.0;
/// The map (not its colour bar or title) is drawn this many times larger, then
/// averaged down.
const SUPERSAMPLE: u32 = 2;
/// The finest graticule: lines every tenth of a degree (3600 meridians).
const MIN_GRATICULE_STEP: f64 = 0.1;

/// Layers on a projection, ready to draw. Build one by composing layers with `*`,
/// then set the projection, size and title.
///
/// ```
/// use geoxr::maps::{coastline, land, ocean, Map, Orthographic, Shape};
/// let map = (ocean() * land() * coastline() * Shape::bbox(-74.1, -61.0, -15.4, -10.7))
///     .projection(Orthographic::new(-55.0, -10.0))
///     .size(400, 300)
///     .title("Study area");
/// let figure = map.draw()?;
/// assert_eq!((figure.width(), figure.height()), (400, 300));
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Map {
    layers: Vec<Layer>,
    projection: Projection,
    size: (u32, u32),
    title: Option<String>,
    graticule: Option<f64>,
}

impl Default for Map {
    fn default() -> Map {
        Map::new()
    }
}

impl Map {
    /// An empty map: Plate Carrée fitted to its data, 500 × 300 pixels.
    pub fn new() -> Map {
        Map {
            layers: Vec::new(),
            projection: PlateCarree::new().into(),
            size: (500, 300),
            title: None,
            graticule: None,
        }
    }

    pub(crate) fn with_layer(mut self, layer: Layer) -> Map {
        self.layers.push(layer);
        self
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The projection ([`PlateCarree`] or [`super::Orthographic`]).
    pub fn projection(mut self, projection: impl Into<Projection>) -> Map {
        self.projection = projection.into();
        self
    }

    /// Figure size in pixels (checked when drawn: both sides 1..=8192).
    pub fn size(mut self, width: u32, height: u32) -> Map {
        self.size = (width, height);
        self
    }

    /// A title above the map.
    pub fn title(mut self, title: &str) -> Map {
        self.title = Some(title.to_string());
        self
    }

    /// Lines of longitude and latitude every `step` degrees.
    pub fn graticule(mut self, step: f64) -> Map {
        self.graticule = Some(step);
        self
    }

    /// Draws the map into an image.
    pub fn draw(&self) -> Result<Figure> {
        let (width, height) = self.checked_size()?;
        let layout = self.layout()?;
        // The map itself is drawn at twice the size and averaged down, which
        // smooths coastlines, borders and the limb; the colour bar and the title
        // (text is already smoothed) are drawn at the final size, so the bar's
        // colours stay exact.
        let (big_w, big_h) = (width * SUPERSAMPLE, height * SUPERSAMPLE);
        // The supersampled canvas, the final one and its PNG at most.
        let pixels = |w: u32, h: u32| w as u64 * h as u64 * 3;
        crate::base::budget::check_fits(
            &format!("drawing a {width} × {height} map"),
            pixels(big_w, big_h) + 2 * pixels(width, height),
        )?;
        let mut big = Vec::new();
        big.try_reserve_exact(pixels(big_w, big_h) as usize)
            .map_err(|e| {
                Error::invalid(format!("drawing a {width} × {height} map"), e.to_string())
            })?;
        big.resize(pixels(big_w, big_h) as usize, 255u8);
        {
            let mut canvas = PixelCanvas::new(&mut big, big_w, big_h)?;
            let view = layout.view.scaled(SUPERSAMPLE as f64);
            self.draw_map(&view, SUPERSAMPLE as f64, &mut canvas)?;
        }
        let mut rgb = downsample(&big, big_w, big_h, SUPERSAMPLE);
        {
            let mut canvas = PixelCanvas::new(&mut rgb, width, height)?;
            self.draw_decorations(&layout, &mut canvas)?;
        }
        Ok(Figure::new(width, height, rgb, self.clone(), layout.view))
    }

    /// Draws the map as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        let (width, height) = self.checked_size()?;
        let layout = self.layout()?;
        let mut canvas = VectorCanvas::new(width, height);
        self.draw_map(&layout.view, 1.0, &mut canvas)?;
        self.draw_decorations(&layout, &mut canvas)?;
        Ok(canvas.finish())
    }

    /// Draws the map and writes it to a `.png` or `.svg` file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.draw()?.save(path)
    }

    fn checked_size(&self) -> Result<(u32, u32)> {
        let (w, h) = self.size;
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(Error::Invalid {
                what: format!("map size {w} × {h}"),
                reason: format!("width and height must be between 1 and {MAX_SIDE} pixels"),
            });
        }
        Ok((w, h))
    }

    /// The last raster layer: the one the colour bar describes.
    fn legend(&self) -> Option<&Raster> {
        self.layers.iter().rev().find_map(|l| match l {
            Layer::Raster(r) => Some(r),
            _ => None,
        })
    }

    /// Checks the settings and places the map, the colour bar and the title.
    fn layout(&self) -> Result<Layout> {
        register_fonts()?;
        if let Some(step) = self.graticule {
            if !(MIN_GRATICULE_STEP..=90.0).contains(&step) {
                return Err(Error::Invalid {
                    what: format!("graticule({step})"),
                    reason: format!("the step must be between {MIN_GRATICULE_STEP} and 90 degrees"),
                });
            }
        }
        for layer in &self.layers {
            if let Layer::Raster(r) = layer {
                r.limits()?;
            }
        }
        let (w, h) = (self.size.0 as f64, self.size.1 as f64);
        let legend_width = self.legend().map_or(0.0, colorbar_width);
        let top = MARGIN
            + if self.title.is_some() {
                TITLE_HEIGHT
            } else {
                0.0
            };
        let area = [
            MARGIN,
            top,
            (w - MARGIN - legend_width).max(MARGIN + 1.0),
            (h - MARGIN).max(top + 1.0),
        ];
        let view = View::fit(self.projection, self.plane_bounds()?, area);
        let bar_area = [view.area[2] + 8.0, view.area[1], w - MARGIN, view.area[3]];
        let title_at = (
            (view.area[0] + view.area[2]) / 2.0,
            MARGIN + TITLE_HEIGHT / 2.0,
        );
        Ok(Layout {
            view,
            bar_area,
            title_at,
        })
    }

    /// The white background, every layer in order, the graticule and the frame;
    /// `scale` multiplies line widths and point sizes.
    fn draw_map(&self, view: &View, scale: f64, canvas: &mut dyn Canvas) -> Result<()> {
        let (w, h) = (self.size.0 as f64 * scale, self.size.1 as f64 * scale);
        canvas.fill(&[rectangle(0.0, 0.0, w, h)], Rgb(255, 255, 255), 1.0)?;
        let mut shapes = ShapeCache::default();
        for layer in &self.layers {
            match layer {
                Layer::Feature(f) => draw_feature(f, view, scale, canvas, &mut shapes)?,
                Layer::Raster(r) => r.draw(view, canvas)?,
                Layer::Shape(s) => s.draw(view, scale, canvas)?,
            }
        }
        if let Some(step) = self.graticule {
            draw_graticule(step, view, scale, canvas)?;
        }
        canvas.stroke(&outline(view), Rgb(0x40, 0x40, 0x40), scale)
    }

    /// The colour bar of the last raster and the title.
    fn draw_decorations(&self, layout: &Layout, canvas: &mut dyn Canvas) -> Result<()> {
        if let Some(raster) = self.legend() {
            draw_colorbar(raster, layout.bar_area, canvas)?;
        }
        if let Some(title) = &self.title {
            canvas.text(
                title,
                layout.title_at,
                15.0,
                Align::Centre,
                Rgb(0, 0, 0),
                false,
            )?;
        }
        Ok(())
    }

    /// Plane bounds to show: the globe's disc, the set extent, the data's extent
    /// (padded), or the whole world.
    fn plane_bounds(&self) -> Result<[f64; 4]> {
        let p = match self.projection {
            Projection::Orthographic(o) => {
                if !(o.lon0.is_finite() && o.lat0.is_finite() && o.lat0.abs() <= 90.0) {
                    return Err(Error::Invalid {
                        what: format!("Orthographic::new({}, {})", o.lon0, o.lat0),
                        reason: "the centre must be a finite longitude and a latitude within ±90°"
                            .into(),
                    });
                }
                return Ok([-1.0, 1.0, -1.0, 1.0]);
            }
            Projection::PlateCarree(p) => p,
        };
        if let Some(b) = p.bounds() {
            if !(b.iter().all(|v| v.is_finite()) && b[0] != b[1] && b[2] != b[3]) {
                return Err(Error::Invalid {
                    what: format!("extent({}, {}, {}, {})", b[0], b[1], b[2], b[3]),
                    reason: "needs finite bounds, lon_min != lon_max and lat_min != lat_max".into(),
                });
            }
            return Ok([
                b[0].min(b[1]),
                b[0].max(b[1]),
                b[2].min(b[3]),
                b[2].max(b[3]),
            ]);
        }
        let extents = self.layers.iter().filter_map(|l| match l {
            Layer::Raster(r) => Some(r.extent()),
            Layer::Shape(s) => Some(s.extent()),
            Layer::Feature(_) => None,
        });
        let data = extents.fold(None, |acc: Option<[f64; 4]>, e| {
            Some(acc.map_or(e, |a| {
                [
                    a[0].min(e[0]),
                    a[1].max(e[1]),
                    a[2].min(e[2]),
                    a[3].max(e[3]),
                ]
            }))
        });
        // The plane runs from -180° to 180°: a grid given in 0..360 east of the
        // antimeridian moves west by a turn, and one across it needs the whole width.
        let data = data.map(|[x0, x1, y0, y1]| {
            let (x0, x1) = if x0 >= 180.0 {
                (x0 - 360.0, x1 - 360.0)
            } else if x0 < -180.0 || x1 > 180.0 {
                (-180.0, 180.0)
            } else {
                (x0, x1)
            };
            [x0, x1, y0, y1]
        });
        Ok(match data {
            Some([x0, x1, y0, y1]) => {
                let pad = ((x1 - x0).max(y1 - y0) * 0.15).max(1.0);
                [
                    (x0 - pad).max(-180.0),
                    (x1 + pad).min(180.0),
                    (y0 - pad).max(-90.0),
                    (y1 + pad).min(90.0),
                ]
            }
            None => [-180.0, 180.0, -90.0, 90.0],
        })
    }
}

/// Where the parts of a figure go, in final pixels.
struct Layout {
    view: View,
    bar_area: [f64; 4],
    title_at: Px,
}

/// Each `factor` × `factor` block of an RGB image averaged into one pixel.
fn downsample(big: &[u8], big_w: u32, big_h: u32, factor: u32) -> Vec<u8> {
    let (w, h) = ((big_w / factor) as usize, (big_h / factor) as usize);
    let (f, big_w) = (factor as usize, big_w as usize);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..f {
                    let row = (y * f + dy) * big_w;
                    for dx in 0..f {
                        sum += big[(row + x * f + dx) * 3 + c] as u32;
                    }
                }
                out[(y * w + x) * 3 + c] = ((sum + (f * f / 2) as u32) / (f * f) as u32) as u8;
            }
        }
    }
    out
}

fn rectangle(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Px> {
    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
}

/// The outline of what the map shows: the limb or the map's rectangle, in pixels.
fn outline(view: &View) -> Vec<Px> {
    match view.projection {
        Projection::Orthographic(_) => (0..=360)
            .map(|k| {
                let a = (k as f64).to_radians();
                view.pixel_of((a.cos(), a.sin()))
            })
            .collect(),
        Projection::PlateCarree(_) => {
            let [l, t, r, b] = view.area;
            let mut ring = rectangle(l, t, r, b);
            ring.push((l, t));
            ring
        }
    }
}

/// Natural Earth shapes decoded at most once per scale per drawing.
#[derive(Default)]
struct ShapeCache {
    coarse: Option<Shapes>,
    medium: Option<Shapes>,
}

impl ShapeCache {
    fn get(&mut self, resolution: Resolution) -> Result<&Shapes> {
        let slot = match resolution {
            Resolution::Medium50m => &mut self.medium,
            _ => &mut self.coarse,
        };
        if slot.is_none() {
            *slot = Some(Shapes::load(resolution)?);
        }
        slot.as_ref().ok_or_else(|| Error::Invalid {
            what: "Natural Earth data".into(),
            reason: "not loaded".into(),
        })
    }
}

fn draw_feature(
    f: &Feature,
    view: &View,
    scale: f64,
    canvas: &mut dyn Canvas,
    cache: &mut ShapeCache,
) -> Result<()> {
    if f.kind == FeatureKind::Ocean {
        return canvas.fill(&[outline(view)], f.colour, 1.0);
    }
    let shapes = cache.get(f.resolution.pick(view.degrees_per_pixel() * scale))?;
    let visible = |points: &[[f64; 2]]| match view.projection {
        Projection::PlateCarree(_) => {
            let [x0, x1, y0, y1] = view.plane;
            let [a, b, c, d] = lonlat_bounds(points);
            b >= x0 && a <= x1 && d >= y0 && c <= y1
        }
        Projection::Orthographic(_) => true,
    };
    match f.kind {
        FeatureKind::Land => {
            for polygon in &shapes.land {
                if polygon.first().is_some_and(|outer| visible(outer)) {
                    let rings = view.rings(polygon);
                    if !rings.is_empty() {
                        canvas.fill(&rings, f.colour, 1.0)?;
                    }
                }
            }
        }
        FeatureKind::Coastline | FeatureKind::Borders => {
            let lines = if f.kind == FeatureKind::Coastline {
                &shapes.coastline
            } else {
                &shapes.borders
            };
            for line in lines.iter().filter(|l| visible(l)) {
                for piece in view.lines(line) {
                    canvas.stroke(&piece, f.colour, f.width * scale)?;
                }
            }
        }
        FeatureKind::Ocean => {}
    }
    Ok(())
}

fn draw_graticule(step: f64, view: &View, scale: f64, canvas: &mut dyn Canvas) -> Result<()> {
    let grey = Rgb(0x99, 0x99, 0x99);
    // Counted lines (at most 360 / MIN_GRATICULE_STEP of them), not a float loop.
    let lines = |span: f64| (span / step).floor().min(360.0 / MIN_GRATICULE_STEP) as usize;
    for k in 0..=lines(360.0) {
        let lon = -180.0 + k as f64 * step;
        let meridian: Vec<[f64; 2]> = (0..=180).map(|j| [lon, -90.0 + j as f64]).collect();
        for piece in view.lines(&meridian) {
            canvas.stroke(&piece, grey, scale)?;
        }
    }
    for k in 1..=lines(180.0) {
        let lat = -90.0 + k as f64 * step;
        if lat >= 90.0 {
            break;
        }
        let parallel: Vec<[f64; 2]> = (0..=360).map(|j| [-180.0 + j as f64, lat]).collect();
        for piece in view.lines(&parallel) {
            canvas.stroke(&piece, grey, scale)?;
        }
    }
    Ok(())
}
