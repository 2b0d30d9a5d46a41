//! Maps: layers composed with `*` as in geoviews, drawn on a projection with
//! plotters, shown inline as PNG or saved as PNG/SVG.
//!
//! ```no_run
//! use geoxr::prelude::*;
//! use geoxr::maps::{borders, coastline, land, ocean, Colormap, Orthographic};
//! # fn demo(regimes: &DataArray) -> geoxr::Result<()> {
//! let map = ocean()
//!     * land()
//!     * regimes.plot().cmap(Colormap::Category10).clim(0.0, 8.0)
//!     * coastline()
//!     * borders();
//! let figure = map.projection(Orthographic::new(-55.0, -10.0)).size(500, 300).draw()?;
//! figure.save("regimes.png")?;
//! # Ok(()) }
//! ```

mod canvas;
mod colorbar;
mod colormap;
mod figure;
mod naturalearth;
mod projection;
mod raster;
mod render;
mod shapes;
mod view;

#[cfg(test)]
mod tests;

pub use colormap::{Colormap, Rgb};
pub use figure::Figure;
#[cfg(test)]
pub(crate) use figure::HOVER_SCRIPT;
pub use naturalearth::Resolution;
pub use projection::{wrap_longitude, Orthographic, PlateCarree, Projection};
pub use raster::Raster;
pub use render::Map;
pub use shapes::{Bounds, Shape};

use std::ops::Mul;

/// One layer of a map, drawn in the order layers were composed; anything that
/// converts into a `Layer` can follow a `*`.
///
/// ```
/// use geoxr::maps::{land, Layer};
/// assert!(matches!(Layer::from(land()), Layer::Feature(_)));
/// ```
#[derive(Debug, Clone)]
pub enum Layer {
    /// Ocean, land, coastline or borders from Natural Earth.
    Feature(Feature),
    /// A gridded DataArray.
    Raster(Raster),
    /// A polygon, box or points.
    Shape(Shape),
}

/// A Natural Earth layer: see [`ocean`], [`land`], [`coastline`], [`borders`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    pub(crate) kind: FeatureKind,
    pub(crate) resolution: Resolution,
    pub(crate) colour: Rgb,
    pub(crate) width: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureKind {
    Ocean,
    Land,
    Coastline,
    Borders,
}

/// The sea: everything the map shows, painted water-blue (put it first; land
/// and the other layers go on top of it).
///
/// ```
/// use geoxr::maps::{borders, coastline, land, ocean, Orthographic};
/// let basemap = (ocean() * land() * coastline() * borders()).projection(Orthographic::new(0.0, 0.0));
/// assert_eq!(basemap.layers().len(), 4);
/// ```
pub fn ocean() -> Feature {
    Feature::new(FeatureKind::Ocean, Rgb(0x98, 0xb7, 0xe2), 0.0)
}

/// Land polygons, pale beige.
pub fn land() -> Feature {
    Feature::new(FeatureKind::Land, Rgb(0xf0, 0xf0, 0xdc), 0.0)
}

/// The outline of the land, black.
pub fn coastline() -> Feature {
    Feature::new(FeatureKind::Coastline, Rgb(0x20, 0x20, 0x20), 1.0)
}

/// Land borders between countries, grey.
pub fn borders() -> Feature {
    Feature::new(FeatureKind::Borders, Rgb(0x60, 0x60, 0x60), 1.0)
}

impl Feature {
    fn new(kind: FeatureKind, colour: Rgb, width: f64) -> Feature {
        Feature {
            kind,
            resolution: Resolution::Auto,
            colour,
            width,
        }
    }

    /// Natural Earth scale (default: chosen by the map's scale).
    ///
    /// ```
    /// use geoxr::maps::{land, Resolution};
    /// let detailed = land().resolution(Resolution::Medium50m);
    /// ```
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = resolution;
        self
    }

    /// Fill or line colour.
    pub fn colour(mut self, colour: Rgb) -> Self {
        self.colour = colour;
        self
    }

    /// Line width in pixels (coastline and borders).
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }
}

impl From<Feature> for Layer {
    fn from(f: Feature) -> Layer {
        Layer::Feature(f)
    }
}

impl From<Raster> for Layer {
    fn from(r: Raster) -> Layer {
        Layer::Raster(r)
    }
}

impl From<Shape> for Layer {
    fn from(s: Shape) -> Layer {
        Layer::Shape(s)
    }
}

impl<L: Into<Layer>> From<L> for Map {
    /// A map of one layer: `Map::from(land())`.
    fn from(layer: L) -> Map {
        Map::new().with_layer(layer.into())
    }
}

impl<R: Into<Layer>> Mul<R> for Map {
    type Output = Map;

    /// Adds a layer on top.
    fn mul(self, rhs: R) -> Map {
        self.with_layer(rhs.into())
    }
}

macro_rules! layers_compose {
    ($($t:ty),*) => {$(
        impl<R: Into<Layer>> Mul<R> for $t {
            type Output = Map;

            /// Starts a map with this layer below `rhs`.
            fn mul(self, rhs: R) -> Map {
                Map::new().with_layer(self.into()).with_layer(rhs.into())
            }
        }
    )*};
}
layers_compose!(Feature, Raster, Shape);
