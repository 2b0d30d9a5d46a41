//! Natural Earth land, coastlines and borders at 1:110m and 1:50m.
//!
//! The shapes come from the npm package `world-atlas` 2.0.2 (Natural Earth, public
//! domain), converted by `cargo xtask naturalearth` into `data/naturalearth/*.bin`
//! (format described in `kernel/src/naturalearth.rs`) and compiled into the crate.
//! Polygons are already cut at ±180° and closed along the South Pole, so they are
//! plain longitude/latitude rings.

use crate::error::{Error, Result};

static NE_110M: &[u8] = include_bytes!("../../../data/naturalearth/ne_110m.bin");
static NE_50M: &[u8] = include_bytes!("../../../data/naturalearth/ne_50m.bin");

/// Which Natural Earth scale to draw.
///
/// ```
/// use geoxr::maps::{coastline, Resolution};
/// let fine = coastline().resolution(Resolution::Medium50m);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// 1:50m for maps of regions, 1:110m for the whole world (chosen by the map's
    /// degrees per pixel).
    #[default]
    Auto,
    /// 1:110m: coarse, for whole-world maps.
    Coarse110m,
    /// 1:50m: medium, for continents and regions.
    Medium50m,
}

impl Resolution {
    /// The scale to use on a map showing `degrees_per_pixel`.
    pub(crate) fn pick(self, degrees_per_pixel: f64) -> Resolution {
        match self {
            Resolution::Auto if degrees_per_pixel < 0.25 => Resolution::Medium50m,
            Resolution::Auto => Resolution::Coarse110m,
            fixed => fixed,
        }
    }
}

/// A ring or line: (lon, lat) pairs in degrees.
pub(crate) type Line = Vec<[f64; 2]>;

/// One scale of Natural Earth, decoded.
pub(crate) struct Shapes {
    /// Land polygons, each a list of rings filled together with the even-odd rule.
    pub land: Vec<Vec<Line>>,
    pub coastline: Vec<Line>,
    pub borders: Vec<Line>,
}

impl Shapes {
    /// Decodes the compiled-in data of `resolution` (Auto counts as 1:110m).
    pub fn load(resolution: Resolution) -> Result<Shapes> {
        let bytes = match resolution {
            Resolution::Medium50m => NE_50M,
            _ => NE_110M,
        };
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != b"GXNE" || reader.u32()? != 1 {
            return Err(reader.broken());
        }
        let mut land = Vec::new();
        for _ in 0..reader.u32()? {
            let rings = reader.u32()?;
            land.push((0..rings).map(|_| reader.line()).collect::<Result<_>>()?);
        }
        let coastline = reader.lines()?;
        let borders = reader.lines()?;
        Ok(Shapes {
            land,
            coastline,
            borders,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn broken(&self) -> Error {
        Error::Invalid {
            what: "compiled-in Natural Earth data".into(),
            reason: format!("unreadable at byte {}", self.at),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.broken())?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<Line> {
        let n = self.u32()? as usize;
        let raw = self.take(n.saturating_mul(8))?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| {
                let lon = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                let lat = f32::from_le_bytes([c[4], c[5], c[6], c[7]]);
                [lon as f64, lat as f64]
            })
            .collect())
    }

    fn lines(&mut self) -> Result<Vec<Line>> {
        let n = self.u32()?;
        (0..n).map(|_| self.line()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scales_decode_inside_the_globe() {
        for resolution in [Resolution::Coarse110m, Resolution::Medium50m] {
            let shapes = Shapes::load(resolution).unwrap();
            assert!(shapes.land.len() > 100 && shapes.borders.len() > 300);
            let all = shapes.land.iter().flatten().chain(&shapes.coastline);
            for p in all.flatten() {
                assert!(p[0].abs() <= 180.0 && p[1].abs() <= 90.0, "{p:?}");
            }
        }
        assert_eq!(Resolution::Auto.pick(0.05), Resolution::Medium50m);
        assert_eq!(Resolution::Auto.pick(0.6), Resolution::Coarse110m);
    }
}
