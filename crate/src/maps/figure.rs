//! A drawn map: its pixels, PNG encoding and saving.

use std::path::Path;

use image::{ExtendedColorType, ImageEncoder};

use super::colormap::Rgb;
use super::render::Map;
use super::view::View;
use crate::error::{Error, Result};

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
        let (x, y) = self.view.point(lon, lat)?;
        let (x, y) = (x.floor(), y.floor());
        let inside = x >= 0.0 && y >= 0.0 && x < self.width as f64 && y < self.height as f64;
        inside.then_some((x as u32, y as u32))
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
