//! Vector layers given by the user: polygons, boxes and points in lon/lat.

use super::canvas::Canvas;
use super::colormap::Rgb;
use super::view::{lonlat_bounds, View};
use crate::error::{Error, Result};
use ndarray::Array2;

/// A polygon, box or set of points drawn over the map.
///
/// ```
/// use geoxr::maps::Shape;
/// use geoxr::ndarray::array;
/// let bbox = array![[-74.1, -15.4], [-61.0, -15.4], [-61.0, -10.7], [-74.1, -10.7]];
/// let outline = Shape::polygon(&bbox)?;
/// let same = Shape::bbox(-74.1, -61.0, -15.4, -10.7);
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Shape {
    kind: ShapeKind,
    points: Vec<[f64; 2]>,
    colour: Rgb,
    fill_opacity: f64,
    width: f64,
}

/// A longitude/latitude box, both ends included. As a selection it keeps the
/// `lon` and `lat` labels inside the box:
///
/// ```
/// use geoxr::prelude::*;
/// # fn demo(imerg: &Dataset) -> geoxr::Result<()> {
/// let area = Shape::bbox(-74.1, -61.0, -15.4, -10.7);
/// let subset = imerg.sel(area.bounds())?; // same as sel([("lon", ..), ("lat", ..)])
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Westmost longitude, degrees.
    pub lon_min: f64,
    /// Eastmost longitude, degrees.
    pub lon_max: f64,
    /// Southmost latitude, degrees.
    pub lat_min: f64,
    /// Northmost latitude, degrees.
    pub lat_max: f64,
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lon {} .. {}, lat {} .. {}",
            self.lon_min, self.lon_max, self.lat_min, self.lat_max
        )
    }
}

impl crate::IntoSelection<crate::Selector> for Bounds {
    fn into_selection(self) -> Vec<(String, crate::Selector)> {
        vec![
            ("lon".to_owned(), (self.lon_min..=self.lon_max).into()),
            ("lat".to_owned(), (self.lat_min..=self.lat_max).into()),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ShapeKind {
    Polygon,
    Points,
}

fn check_points(points: &Array2<f64>, what: &str) -> Result<Vec<[f64; 2]>> {
    if points.ncols() != 2 || points.nrows() == 0 {
        return Err(Error::Invalid {
            what: format!("{what} of shape {:?}", points.shape()),
            reason: "expected rows of (lon, lat)".into(),
        });
    }
    let rows: Vec<[f64; 2]> = points.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    let on_earth = |p: &[f64; 2]| p[0].abs() <= 540.0 && p[1].abs() <= 90.0;
    if let Some(bad) = rows.iter().position(|p| !on_earth(p)) {
        return Err(Error::Invalid {
            what: format!("{what} row {bad}: ({}, {})", rows[bad][0], rows[bad][1]),
            reason: "longitude and latitude must be finite, with |lat| <= 90".into(),
        });
    }
    Ok(rows)
}

impl Shape {
    /// A closed polygon from rows of (lon, lat), outlined and lightly filled.
    pub fn polygon(corners: &Array2<f64>) -> Result<Shape> {
        let points = check_points(corners, "polygon")?;
        if points.len() < 3 {
            return Err(Error::Invalid {
                what: format!("polygon with {} corners", points.len()),
                reason: "a polygon needs at least 3 corners".into(),
            });
        }
        Ok(Shape {
            kind: ShapeKind::Polygon,
            points,
            colour: Rgb(0xd6, 0x27, 0x28),
            fill_opacity: 0.25,
            width: 2.0,
        })
    }

    /// The box `lon_min..lon_max` × `lat_min..lat_max`, drawn as a polygon (its
    /// edges follow lines of longitude and latitude on any projection).
    pub fn bbox(lon_min: f64, lon_max: f64, lat_min: f64, lat_max: f64) -> Shape {
        let mut points = Vec::new();
        let steps = 16;
        for k in 0..steps {
            points.push([
                lon_min + (lon_max - lon_min) * k as f64 / steps as f64,
                lat_min,
            ]);
        }
        for k in 0..steps {
            points.push([
                lon_max,
                lat_min + (lat_max - lat_min) * k as f64 / steps as f64,
            ]);
        }
        for k in 0..steps {
            points.push([
                lon_max - (lon_max - lon_min) * k as f64 / steps as f64,
                lat_max,
            ]);
        }
        for k in 0..steps {
            points.push([
                lon_min,
                lat_max - (lat_max - lat_min) * k as f64 / steps as f64,
            ]);
        }
        Shape {
            kind: ShapeKind::Polygon,
            points,
            colour: Rgb(0xd6, 0x27, 0x28),
            fill_opacity: 0.25,
            width: 2.0,
        }
    }

    /// Points (rows of lon, lat), drawn as small squares.
    pub fn points(points: &Array2<f64>) -> Result<Shape> {
        Ok(Shape {
            kind: ShapeKind::Points,
            points: check_points(points, "points")?,
            colour: Rgb(0, 0, 0),
            fill_opacity: 1.0,
            width: 5.0,
        })
    }

    /// Outline (and point) colour.
    pub fn colour(mut self, colour: Rgb) -> Self {
        self.colour = colour;
        self
    }

    /// Opacity of a polygon's fill, 0 (none) to 1.
    pub fn fill_opacity(mut self, opacity: f64) -> Self {
        self.fill_opacity = opacity.clamp(0.0, 1.0);
        self
    }

    /// Outline width or point size, in pixels.
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    pub(crate) fn extent(&self) -> [f64; 4] {
        lonlat_bounds(&self.points)
    }

    /// The smallest longitude/latitude box holding the shape (`np.min`/`np.max`
    /// of its corners, as in the Python tutorial); pass it to `sel` to cut the data
    /// to the box.
    ///
    /// ```
    /// use geoxr::prelude::*;
    /// let corners = array![[-74.1, -15.4], [-61.0, -15.4], [-61.0, -10.7], [-74.1, -10.7]];
    /// let b = Shape::polygon(&corners)?.bounds();
    /// assert_eq!((b.lon_min, b.lon_max, b.lat_min, b.lat_max), (-74.1, -61.0, -15.4, -10.7));
    /// assert_eq!(b.to_string(), "lon -74.1 .. -61, lat -15.4 .. -10.7");
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn bounds(&self) -> Bounds {
        let [lon_min, lon_max, lat_min, lat_max] = self.extent();
        Bounds {
            lon_min,
            lon_max,
            lat_min,
            lat_max,
        }
    }

    /// Draws the shape; `scale` multiplies its line width and point size.
    pub(crate) fn draw(&self, view: &View, scale: f64, canvas: &mut dyn Canvas) -> Result<()> {
        match self.kind {
            ShapeKind::Polygon => {
                let rings = view.rings(std::slice::from_ref(&self.points));
                if self.fill_opacity > 0.0 {
                    canvas.fill(&rings, self.colour, self.fill_opacity)?;
                }
                let mut closed = self.points.clone();
                closed.push(self.points[0]);
                for line in view.lines(&closed) {
                    canvas.stroke(&line, self.colour, self.width * scale)?;
                }
            }
            ShapeKind::Points => {
                let h = self.width * scale / 2.0;
                for p in &self.points {
                    if let Some((x, y)) = view.point(p[0], p[1]) {
                        let square = vec![
                            (x - h, y - h),
                            (x + h, y - h),
                            (x + h, y + h),
                            (x - h, y + h),
                        ];
                        canvas.fill(&[square], self.colour, 1.0)?;
                    }
                }
            }
        }
        Ok(())
    }
}
