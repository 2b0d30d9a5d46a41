//! Where a map is drawn: a pixel canvas (plotters' bitmap backend over an RGB
//! buffer) or a vector canvas (an SVG document we write ourselves: plotters' SVG
//! backend fills with the non-zero rule and cannot embed an image without a second
//! `image` crate version). Coordinates are pixels from the top-left corner.
//!
//! Polygons on the pixel canvas are filled by our own scanline pass (even-odd
//! rule, pixel centres), which handles holes and many-thousand-point rings
//! exactly; the spans, lines and text go through plotters.

use plotters::prelude::BitMapBackend;
use plotters::prelude::{Color, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, FontTransform, IntoFont, RGBAColor, TextStyle};
use plotters_backend::BackendColor;

use super::colormap::Rgb;
use crate::error::{Error, Result};

/// A point in pixels.
pub(crate) type Px = (f64, f64);

/// Horizontal placement of text relative to its point.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Align {
    Left,
    Centre,
}

/// What the renderer draws on.
pub(crate) trait Canvas {
    /// Fills rings together with the even-odd rule.
    fn fill(&mut self, rings: &[Vec<Px>], colour: Rgb, opacity: f64) -> Result<()>;
    /// Draws a polyline.
    fn stroke(&mut self, line: &[Px], colour: Rgb, width: f64) -> Result<()>;
    /// Sets one pixel (pixel canvases only; vector canvases ignore it).
    fn pixel(&mut self, x: u32, y: u32, colour: Rgb) -> Result<()>;
    /// Writes text with its vertical centre at `at`; `vertical` turns it to read
    /// upwards.
    fn text(
        &mut self,
        text: &str,
        at: Px,
        size: f64,
        align: Align,
        colour: Rgb,
        vertical: bool,
    ) -> Result<()>;
    /// The SVG canvas behind this one, if it is one (for embedded images).
    fn as_vector(&mut self) -> Option<&mut VectorCanvas> {
        None
    }
}

/// Width in pixels of `text` at `size` in DejaVu Sans, which both canvases write.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    ("sans-serif", size)
        .into_font()
        .box_size(text)
        .map_or(size * 0.6 * text.len() as f64, |(w, _)| w as f64)
}

fn drawing_error(e: impl std::fmt::Display) -> Error {
    Error::Invalid {
        what: "map drawing".into(),
        reason: e.to_string(),
    }
}

/// PNG bytes of 8-bit pixels, row after row, in `colour` (`Rgb` or `Rgba`): the one
/// encoder behind a figure's PNG and the images inside its SVG.
pub(crate) fn png_bytes(
    pixels: &[u8],
    width: u32,
    height: u32,
    colour: png::ColorType,
) -> Result<Vec<u8>> {
    let failed = |e: png::EncodingError| Error::Invalid {
        what: "PNG encoding".into(),
        reason: e.to_string(),
    };
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}

fn colour(c: Rgb, opacity: f64) -> RGBAColor {
    RGBAColor(c.0, c.1, c.2, opacity)
}

/// Makes DejaVu Sans the `sans-serif` font. Fonts live in a static, and every
/// evcxr cell has its own copy of our statics, so this runs at every draw.
pub(crate) fn register_fonts() -> Result<()> {
    register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| drawing_error("the built-in DejaVu Sans font did not load"))
}

fn text_style(size: f64, align: Align, c: Rgb, vertical: bool) -> TextStyle<'static> {
    let h = match align {
        Align::Left => HPos::Left,
        Align::Centre => HPos::Center,
    };
    let style = ("sans-serif", size)
        .into_font()
        .color(&colour(c, 1.0))
        .pos(Pos::new(h, VPos::Center));
    if vertical {
        style.transform(FontTransform::Rotate270)
    } else {
        style
    }
}

fn round(p: Px) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// An RGB image drawn through plotters' bitmap backend.
pub(crate) struct PixelCanvas<'a> {
    backend: BitMapBackend<'a>,
    width: u32,
    height: u32,
}

impl<'a> PixelCanvas<'a> {
    /// A canvas over `buffer` (3 bytes per pixel, row by row).
    pub fn new(buffer: &'a mut [u8], width: u32, height: u32) -> Result<PixelCanvas<'a>> {
        let backend = BitMapBackend::with_buffer_and_format(buffer, (width, height))
            .map_err(drawing_error)?;
        Ok(PixelCanvas {
            backend,
            width,
            height,
        })
    }

    fn span(&mut self, y: u32, x0: u32, x1: u32, style: &RGBAColor) -> Result<()> {
        let (y, x0, x1) = (y as i32, x0 as i32, x1 as i32 - 1);
        self.backend
            .draw_line((x0, y), (x1, y), style)
            .map_err(drawing_error)
    }
}

impl Canvas for PixelCanvas<'_> {
    fn fill(&mut self, rings: &[Vec<Px>], c: Rgb, opacity: f64) -> Result<()> {
        let style = colour(c, opacity);
        let mut spans = Vec::new();
        scanline_spans(rings, self.width, self.height, |y, x0, x1| {
            spans.push((y, x0, x1))
        });
        for (y, x0, x1) in spans {
            self.span(y, x0, x1, &style)?;
        }
        Ok(())
    }

    fn stroke(&mut self, line: &[Px], c: Rgb, width: f64) -> Result<()> {
        let style = colour(c, 1.0).stroke_width(width.round().max(1.0) as u32);
        for pair in line.windows(2) {
            let (a, b) = (round(pair[0]), round(pair[1]));
            if a != b || line.len() == 2 {
                self.backend
                    .draw_line(a, b, &style)
                    .map_err(drawing_error)?;
            }
        }
        Ok(())
    }

    fn pixel(&mut self, x: u32, y: u32, c: Rgb) -> Result<()> {
        let colour = BackendColor {
            alpha: 1.0,
            rgb: (c.0, c.1, c.2),
        };
        self.backend
            .draw_pixel((x as i32, y as i32), colour)
            .map_err(drawing_error)
    }

    fn text(
        &mut self,
        text: &str,
        at: Px,
        size: f64,
        align: Align,
        c: Rgb,
        vertical: bool,
    ) -> Result<()> {
        let style = text_style(size, align, c, vertical);
        self.backend
            .draw_text(text, &style, round(at))
            .map_err(drawing_error)
    }
}

/// An SVG document, written directly: shapes as paths filled with the even-odd
/// rule (so holes such as the Caspian stay open), lines as polylines, text as
/// text in DejaVu Sans (any sans-serif where it is missing), and dense rasters as
/// one embedded PNG image.
pub(crate) struct VectorCanvas {
    svg: String,
    width: u32,
    height: u32,
}

fn xy(p: Px) -> String {
    format!("{:.1},{:.1}", p.0, p.1)
}

impl VectorCanvas {
    /// An empty document of `width` × `height` pixels.
    pub fn new(width: u32, height: u32) -> VectorCanvas {
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\">\n"
        );
        VectorCanvas { svg, width, height }
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.svg.push_str("</svg>\n");
        self.svg
    }

    /// Places an RGBA image (`w` × `h` pixels) over the whole canvas.
    pub fn image(&mut self, rgba: &[u8], w: u32, h: u32) -> Result<()> {
        use base64::Engine;
        let png = png_bytes(rgba, w, h, png::ColorType::Rgba)?;
        let data = base64::engine::general_purpose::STANDARD.encode(png);
        self.svg.push_str(&format!(
            "<image x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" href=\"data:image/png;base64,{data}\"/>\n",
            self.width, self.height
        ));
        Ok(())
    }

    /// Canvas size in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

impl Canvas for VectorCanvas {
    fn fill(&mut self, rings: &[Vec<Px>], c: Rgb, opacity: f64) -> Result<()> {
        let mut d = String::new();
        for ring in rings.iter().filter(|r| r.len() >= 3) {
            d.push('M');
            d.push_str(&ring.iter().map(|&p| xy(p)).collect::<Vec<_>>().join("L"));
            d.push('Z');
        }
        if !d.is_empty() {
            let alpha = if opacity < 1.0 {
                format!(" fill-opacity=\"{opacity:.2}\"")
            } else {
                String::new()
            };
            self.svg.push_str(&format!(
                "<path d=\"{d}\" fill=\"{}\"{alpha} fill-rule=\"evenodd\"/>\n",
                c.to_hex()
            ));
        }
        Ok(())
    }

    fn stroke(&mut self, line: &[Px], c: Rgb, width: f64) -> Result<()> {
        if line.len() >= 2 {
            let points: Vec<String> = line.iter().map(|&p| xy(p)).collect();
            self.svg.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\" \
                 stroke-linejoin=\"round\"/>\n",
                points.join(" "),
                c.to_hex()
            ));
        }
        Ok(())
    }

    fn pixel(&mut self, _x: u32, _y: u32, _c: Rgb) -> Result<()> {
        Ok(())
    }

    fn text(
        &mut self,
        text: &str,
        at: Px,
        size: f64,
        align: Align,
        c: Rgb,
        vertical: bool,
    ) -> Result<()> {
        let anchor = match align {
            Align::Left => "start",
            Align::Centre => "middle",
        };
        let rotate = if vertical {
            format!(" transform=\"rotate(-90 {:.1} {:.1})\"", at.0, at.1)
        } else {
            String::new()
        };
        self.svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"{size}\" \
             fill=\"{}\" text-anchor=\"{anchor}\" dominant-baseline=\"central\"{rotate}>{}</text>\n",
            at.0,
            at.1,
            c.to_hex(),
            crate::escape(text)
        ));
        Ok(())
    }

    fn as_vector(&mut self) -> Option<&mut VectorCanvas> {
        Some(self)
    }
}

/// Calls `span(y, x0, x1)` for every run of pixels `x0..x1` on row `y` whose centres
/// lie inside the rings (even-odd rule), clipped to the canvas.
pub(crate) fn scanline_spans(
    rings: &[Vec<Px>],
    width: u32,
    height: u32,
    mut span: impl FnMut(u32, u32, u32),
) {
    // Edges as (y_top, y_bottom, x at y_top, dx/dy), skipping horizontal ones.
    let mut edges: Vec<(f64, f64, f64, f64)> = Vec::new();
    for ring in rings {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            if a.1 == b.1 || !(a.1.is_finite() && b.1.is_finite()) {
                continue;
            }
            let (top, bottom) = if a.1 < b.1 { (a, b) } else { (b, a) };
            let slope = (bottom.0 - top.0) / (bottom.1 - top.1);
            edges.push((top.1, bottom.1, top.0, slope));
        }
    }
    if edges.is_empty() {
        return;
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let y_min = edges[0].0;
    let y_max = edges.iter().fold(f64::MIN, |m, e| m.max(e.1));
    let first_row = (y_min - 0.5).ceil().max(0.0) as u32;
    let last_row = ((y_max - 0.5).floor().min(height as f64 - 1.0)).max(-1.0);
    if last_row < first_row as f64 {
        return;
    }
    let mut next = 0;
    let mut active: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut crossings: Vec<f64> = Vec::new();
    for row in first_row..=last_row as u32 {
        let y = row as f64 + 0.5;
        while next < edges.len() && edges[next].0 <= y {
            active.push(edges[next]);
            next += 1;
        }
        active.retain(|e| e.1 > y);
        crossings.clear();
        crossings.extend(
            active
                .iter()
                .filter(|e| e.0 <= y)
                .map(|e| e.2 + (y - e.0) * e.3),
        );
        crossings.sort_by(f64::total_cmp);
        for pair in crossings.chunks_exact(2) {
            // Pixels whose centre x + 0.5 lies in [pair[0], pair[1]).
            let x0 = (pair[0] - 0.5).ceil().max(0.0);
            let x1 = ((pair[1] - 0.5).ceil()).min(width as f64);
            if x1 > x0 {
                span(row, x0 as u32, x1 as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(rings: &[Vec<Px>], w: u32, h: u32) -> Vec<Vec<bool>> {
        let mut grid = vec![vec![false; w as usize]; h as usize];
        scanline_spans(rings, w, h, |y, x0, x1| {
            for x in x0..x1 {
                grid[y as usize][x as usize] = true;
            }
        });
        grid
    }

    #[test]
    fn square_with_a_hole_fills_the_ring_only() {
        let outer = vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        let hole = vec![(3.0, 3.0), (3.0, 7.0), (7.0, 7.0), (7.0, 3.0)];
        let grid = coverage(&[outer, hole], 12, 12);
        assert!(grid[1][1] && grid[9][9] && grid[5][1]);
        assert!(!grid[5][5], "the hole stays empty");
        assert!(!grid[10][10] && !grid[5][11], "nothing outside");
        let filled: usize = grid.iter().flatten().filter(|&&b| b).count();
        assert_eq!(filled, 100 - 16);
    }

    #[test]
    fn shapes_off_the_canvas_are_clipped() {
        let big = vec![(-50.0, -50.0), (50.0, -50.0), (50.0, 50.0), (-50.0, 50.0)];
        let grid = coverage(&[big], 4, 3);
        assert!(grid.iter().flatten().all(|&b| b));
    }
}
