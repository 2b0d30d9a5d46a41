//! Colour maps: continuous ones for measured values, categorical ones for labels.
//!
//! Provenance: `Jet` follows matplotlib's piecewise-linear segments; `Viridis`,
//! `Magma` and `Blues` are matplotlib 3.11's maps sampled at 33 even steps
//! (interpolated linearly between them); `Category10` is matplotlib's `tab10`
//! (the d3/Bokeh "Category10" palette).

use crate::error::{Error, Result};

/// An sRGB colour.
///
/// ```
/// assert_eq!(geoxr::maps::Rgb(255, 127, 14).to_hex(), "#ff7f0e");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn from_hex(hex: u32) -> Rgb {
        Rgb((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
    }

    /// `#rrggbb`, as SVG and HTML write colours.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// A colour map. Continuous maps stretch over `clim`; categorical maps give one
/// colour per whole number from the lower limit up.
///
/// ```
/// use geoxr::maps::{Colormap, Rgb};
/// assert_eq!(Colormap::named("jet")?, Colormap::Jet);
/// assert_eq!(Colormap::Category10.class_colour(1), Rgb(0xff, 0x7f, 0x0e));
/// assert!(Colormap::named("rainbowish").is_err());
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    /// Ten distinct colours for labels (matplotlib `tab10`).
    Category10,
    /// Blue → cyan → yellow → red (matplotlib `jet`).
    Jet,
    /// Perceptually even dark blue → green → yellow (matplotlib `viridis`).
    Viridis,
    /// Black → purple → pale yellow (matplotlib `magma`).
    Magma,
    /// White → dark blue, for amounts such as rainfall (matplotlib `Blues`).
    Blues,
    /// Black → white.
    Greys,
}

const CATEGORY10: [u32; 10] = [
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22,
    0x17becf,
];

const VIRIDIS: [u32; 33] = [
    0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453781, 0x424086, 0x3e4989, 0x3b528b,
    0x375b8d, 0x33638d, 0x2f6b8e, 0x2c728e, 0x297a8e, 0x26828e, 0x23898e, 0x21918c, 0x1f988b,
    0x1fa088, 0x22a785, 0x28ae80, 0x32b67a, 0x3fbc73, 0x4ec36b, 0x5ec962, 0x70cf57, 0x84d44b,
    0x98d83e, 0xaddc30, 0xc2df23, 0xd8e219, 0xece51b, 0xfde725,
];

const MAGMA: [u32; 33] = [
    0x000004, 0x030312, 0x0a0822, 0x130d34, 0x1d1147, 0x29115a, 0x36106b, 0x440f76, 0x51127c,
    0x5d177f, 0x6a1c81, 0x762181, 0x832681, 0x902a81, 0x9c2e7f, 0xaa337d, 0xb73779, 0xc43c75,
    0xd0416f, 0xdc4869, 0xe75263, 0xef5d5e, 0xf56b5c, 0xf9795d, 0xfc8961, 0xfd9869, 0xfea772,
    0xfeb67c, 0xfec488, 0xfed395, 0xfde2a3, 0xfcf0b2, 0xfcfdbf,
];

const BLUES: [u32; 33] = [
    0xf7fbff, 0xf1f7fd, 0xeaf3fb, 0xe4eff9, 0xdeebf7, 0xd8e7f5, 0xd2e3f3, 0xccdff1, 0xc6dbef,
    0xbcd7eb, 0xb2d2e8, 0xa8cee4, 0x9dcae1, 0x91c3de, 0x84bcdb, 0x77b5d9, 0x6aaed6, 0x60a7d2,
    0x56a0ce, 0x4b98ca, 0x4191c6, 0x3989c1, 0x3181bd, 0x2979b9, 0x2070b4, 0x1a68ae, 0x1460a8,
    0x0e58a2, 0x08509b, 0x08488e, 0x084082, 0x083776, 0x08306b,
];

/// matplotlib's `jet` as (position, value) segments per channel.
const JET_RED: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.35, 0.0),
    (0.66, 1.0),
    (0.89, 1.0),
    (1.0, 0.5),
];
const JET_GREEN: &[(f64, f64)] = &[
    (0.0, 0.0),
    (0.125, 0.0),
    (0.375, 1.0),
    (0.64, 1.0),
    (0.91, 0.0),
    (1.0, 0.0),
];
const JET_BLUE: &[(f64, f64)] = &[
    (0.0, 0.5),
    (0.11, 1.0),
    (0.34, 1.0),
    (0.65, 0.0),
    (1.0, 0.0),
];

impl Colormap {
    /// The map called `name` (matplotlib's names, any case; `tab10` = `Category10`).
    pub fn named(name: &str) -> Result<Colormap> {
        let map = match name.to_ascii_lowercase().as_str() {
            "category10" | "tab10" => Colormap::Category10,
            "jet" => Colormap::Jet,
            "viridis" => Colormap::Viridis,
            "magma" => Colormap::Magma,
            "blues" => Colormap::Blues,
            "greys" | "grays" => Colormap::Greys,
            _ => {
                return Err(Error::Invalid {
                    what: format!("colour map `{name}`"),
                    reason: "unknown name; known: Category10 (tab10), Jet, Viridis, Magma, \
                             Blues, Greys"
                        .into(),
                })
            }
        };
        Ok(map)
    }

    /// True for maps of labels rather than amounts.
    pub fn is_categorical(self) -> bool {
        matches!(self, Colormap::Category10)
    }

    /// The colour at `t` in [0, 1] (clamped) of a continuous map; for a categorical
    /// map, the colour of the class `t` falls in when the palette spans [0, 1].
    pub fn at(self, t: f64) -> Rgb {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            Colormap::Category10 => {
                let n = CATEGORY10.len();
                self.class_colour(((t * n as f64) as usize).min(n - 1))
            }
            Colormap::Jet => Rgb(
                channel(segment(JET_RED, t)),
                channel(segment(JET_GREEN, t)),
                channel(segment(JET_BLUE, t)),
            ),
            Colormap::Viridis => sample(&VIRIDIS, t),
            Colormap::Magma => sample(&MAGMA, t),
            Colormap::Blues => sample(&BLUES, t),
            Colormap::Greys => {
                let v = channel(t);
                Rgb(v, v, v)
            }
        }
    }

    /// The colour of class `index` of a categorical map (the palette repeats).
    pub fn class_colour(self, index: usize) -> Rgb {
        match self {
            Colormap::Category10 => Rgb::from_hex(CATEGORY10[index % CATEGORY10.len()]),
            other => other.at(index as f64 / 9.0),
        }
    }
}

fn channel(v: f64) -> u8 {
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

fn segment(points: &[(f64, f64)], t: f64) -> f64 {
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        if t <= x1 {
            return y0 + (y1 - y0) * (t - x0) / (x1 - x0);
        }
    }
    points.last().map_or(0.0, |p| p.1)
}

fn sample(table: &[u32], t: f64) -> Rgb {
    let position = t * (table.len() - 1) as f64;
    let i = (position.floor() as usize).min(table.len() - 2);
    let f = position - i as f64;
    let (a, b) = (Rgb::from_hex(table[i]), Rgb::from_hex(table[i + 1]));
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_match_matplotlib() {
        assert_eq!(Colormap::Jet.at(0.0), Rgb(0, 0, 128));
        assert_eq!(Colormap::Jet.at(1.0), Rgb(128, 0, 0));
        assert_eq!(Colormap::Viridis.at(0.0), Rgb(0x44, 0x01, 0x54));
        assert_eq!(Colormap::Viridis.at(1.0), Rgb(0xfd, 0xe7, 0x25));
        // matplotlib: jet(0.25) = (0, 0.5039, 1), jet(0.75) = (1, 0.5817, 0)
        assert_eq!(Colormap::Jet.at(0.25), Rgb(0, 128, 255));
        assert_eq!(Colormap::Jet.at(0.75), Rgb(255, 151, 0));
        assert_eq!(Colormap::Greys.at(2.0), Rgb(255, 255, 255));
    }

    #[test]
    fn names_any_case() {
        assert_eq!(Colormap::named("Viridis").unwrap(), Colormap::Viridis);
        assert_eq!(Colormap::named("tab10").unwrap(), Colormap::Category10);
        let err = Colormap::named("parula").unwrap_err().to_string();
        assert!(err.contains("parula") && err.contains("Jet"), "{err}");
    }
}
