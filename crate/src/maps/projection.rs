//! Map projections: longitude/latitude in degrees to plane coordinates and back.
//!
//! Plane coordinates have y growing northwards. [`PlateCarree`] uses degrees
//! directly; [`Orthographic`] uses a unit sphere seen from far away, so the
//! visible hemisphere is the unit disc.

/// A projection a map is drawn in; `Map::projection` takes either kind directly.
///
/// ```
/// use geoxr::maps::{Orthographic, Projection};
/// let p: Projection = Orthographic::new(-55.0, -10.0).into();
/// assert!(p.forward(-55.0, -10.0).is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Projection {
    /// Longitude and latitude as x and y (cartopy's `PlateCarree`).
    PlateCarree(PlateCarree),
    /// The globe seen from far above one point (cartopy's `Orthographic`).
    Orthographic(Orthographic),
}

/// Equirectangular map with an optional extent; without one the map fits its data.
///
/// ```
/// use geoxr::maps::PlateCarree;
/// let andes = PlateCarree::new().extent(-80.0, -60.0, -20.0, 0.0);
/// assert_eq!(andes.bounds(), Some([-80.0, -60.0, -20.0, 0.0]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlateCarree {
    bounds: Option<[f64; 4]>,
}

impl PlateCarree {
    /// A map that fits its data layers (the whole world if it has none).
    pub fn new() -> PlateCarree {
        PlateCarree::default()
    }

    /// Shows longitudes `lon_min..lon_max` and latitudes `lat_min..lat_max`.
    pub fn extent(mut self, lon_min: f64, lon_max: f64, lat_min: f64, lat_max: f64) -> Self {
        self.bounds = Some([lon_min, lon_max, lat_min, lat_max]);
        self
    }

    /// The extent set with [`PlateCarree::extent`], if any.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        self.bounds
    }
}

/// The globe seen from infinitely far above (`lon0`, `lat0`): the whole visible
/// hemisphere and its limb.
///
/// ```
/// use geoxr::maps::Orthographic;
/// let globe = Orthographic::new(-55.0, -10.0);
/// let (x, y) = globe.forward(-55.0, -10.0).unwrap();
/// assert!(x.abs() < 1e-12 && y.abs() < 1e-12);
/// assert!(globe.forward(125.0, 10.0).is_none()); // the antipode is hidden
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orthographic {
    /// Longitude of the centre, degrees.
    pub lon0: f64,
    /// Latitude of the centre, degrees.
    pub lat0: f64,
}

/// Unit vector of a point on the sphere.
pub(crate) fn unit_vector(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

impl Orthographic {
    /// The globe centred on `lon0`, `lat0` (degrees).
    pub fn new(lon0: f64, lat0: f64) -> Orthographic {
        Orthographic { lon0, lat0 }
    }

    /// The unit vector pointing at the viewer: points with a positive dot product
    /// are on the visible side.
    pub(crate) fn centre(&self) -> [f64; 3] {
        unit_vector(self.lon0, self.lat0)
    }

    /// Plane coordinates of a visible point; `None` on the far side. Points on the
    /// limb (90° from the centre) are visible.
    pub fn forward(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let cos_c = self.cos_distance(lon, lat);
        if cos_c < -1e-12 {
            return None;
        }
        Some(self.forward_unchecked(lon, lat))
    }

    /// Cosine of the angular distance from the centre (> 0 on the visible side).
    pub(crate) fn cos_distance(&self, lon: f64, lat: f64) -> f64 {
        let (phi0, phi) = (self.lat0.to_radians(), lat.to_radians());
        let dlon = (lon - self.lon0).to_radians();
        phi0.sin() * phi.sin() + phi0.cos() * phi.cos() * dlon.cos()
    }

    /// Plane coordinates whichever side the point is on.
    pub(crate) fn forward_unchecked(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (phi0, phi) = (self.lat0.to_radians(), lat.to_radians());
        let dlon = (lon - self.lon0).to_radians();
        let x = phi.cos() * dlon.sin();
        let y = phi0.cos() * phi.sin() - phi0.sin() * phi.cos() * dlon.cos();
        (x, y)
    }

    /// Longitude and latitude of a point of the plane; `None` outside the disc.
    ///
    /// ```
    /// use geoxr::maps::Orthographic;
    /// let globe = Orthographic::new(-55.0, -10.0);
    /// let (x, y) = globe.forward(-70.0, 5.0).unwrap();
    /// let (lon, lat) = globe.inverse(x, y).unwrap();
    /// assert!((lon + 70.0).abs() < 1e-9 && (lat - 5.0).abs() < 1e-9);
    /// ```
    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let rho = x.hypot(y);
        if rho > 1.0 + 1e-12 {
            return None;
        }
        if rho < 1e-15 {
            return Some((self.lon0, self.lat0));
        }
        let c = rho.min(1.0).asin();
        let phi0 = self.lat0.to_radians();
        let (sin_c, cos_c) = c.sin_cos();
        let lat = (cos_c * phi0.sin() + y * sin_c * phi0.cos() / rho)
            .clamp(-1.0, 1.0)
            .asin();
        let lon = self.lon0.to_radians()
            + (x * sin_c).atan2(rho * cos_c * phi0.cos() - y * sin_c * phi0.sin());
        Some((wrap_longitude(lon.to_degrees()), lat.to_degrees()))
    }
}

/// A longitude brought into [-180, 180).
///
/// ```
/// assert_eq!(geoxr::maps::wrap_longitude(190.0), -170.0);
/// ```
pub fn wrap_longitude(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

impl Projection {
    /// Plane coordinates of a visible point.
    pub fn forward(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        match self {
            Projection::PlateCarree(_) => Some((lon, lat)),
            Projection::Orthographic(o) => o.forward(lon, lat),
        }
    }

    /// Longitude and latitude of a plane point, if it is on the map.
    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self {
            Projection::PlateCarree(_) => Some((x, y)),
            Projection::Orthographic(o) => o.inverse(x, y),
        }
    }
}

impl From<PlateCarree> for Projection {
    fn from(p: PlateCarree) -> Projection {
        Projection::PlateCarree(p)
    }
}

impl From<Orthographic> for Projection {
    fn from(p: Orthographic) -> Projection {
        Projection::Orthographic(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthographic_known_points() {
        let globe = Orthographic::new(0.0, 0.0);
        let (x, y) = globe.forward(90.0, 0.0).unwrap(); // on the limb: drawn
        assert!((x - 1.0).abs() < 1e-12 && y.abs() < 1e-12);
        let (x, y) = globe.forward(0.0, 90.0).unwrap();
        assert!(x.abs() < 1e-12 && (y - 1.0).abs() < 1e-12);
        let (x, y) = globe.forward(30.0, 0.0).unwrap();
        assert!((x - 0.5).abs() < 1e-12 && y.abs() < 1e-12);
        assert!(globe.forward(90.5, 0.0).is_none());
        assert!(globe.forward(180.0, 0.0).is_none());
        // Seen from above 45°N, the North Pole is at y = cos 45°.
        let tilted = Orthographic::new(10.0, 45.0);
        let (x, y) = tilted.forward(123.0, 90.0).unwrap();
        assert!(x.abs() < 1e-12 && (y - 0.5f64.sqrt()).abs() < 1e-12);
        assert!(tilted.forward(0.0, -50.0).is_none());
    }

    #[test]
    fn orthographic_round_trip_and_outside_the_disc() {
        let globe = Orthographic::new(-55.0, -10.0);
        for &(lon, lat) in &[(-55.0, -10.0), (-80.0, 20.0), (0.0, -40.0), (-120.0, -60.0)] {
            let (x, y) = globe.forward(lon, lat).unwrap();
            let (lon2, lat2) = globe.inverse(x, y).unwrap();
            assert!(
                (lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9,
                "{lon},{lat}"
            );
        }
        assert!(globe.inverse(0.8, 0.7).is_none());
    }

    #[test]
    fn longitudes_wrap_into_range() {
        assert_eq!(wrap_longitude(190.0), -170.0);
        assert_eq!(wrap_longitude(-180.0), -180.0);
        assert_eq!(wrap_longitude(-200.0), 160.0);
    }
}
