//! A toy rainfall climate for South America, good enough that clustering the daily
//! series finds regions: a wet Amazon and wetter eastern Andean slopes, a bone-dry
//! Pacific coast and a dry Altiplano with a summer rainy season, the ITCZ north of
//! the equator, a semi-arid north-east of Brazil, opposite wet seasons north and
//! south of the equator. Each day draws wet/dry and amounts from smooth random
//! fields (storms are spatially coherent and persist from day to day), with many
//! exact zeros and a heavy tail of wet days.

use super::random::Rng;

/// The IMERG 0.1° grid of the South-American box: cell centres computed in float32,
/// as the subsetter does.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// 550 longitudes, -84.95 .. -30.05.
    pub lon: Vec<f32>,
    /// 501 latitudes, -35.05 .. 14.95.
    pub lat: Vec<f32>,
}

impl Grid {
    /// The tutorial's grid.
    pub fn south_america() -> Grid {
        let axis = |start: f32, n: usize| (0..n).map(|i| start + i as f32 * 0.1f32).collect();
        Grid {
            lon: axis(-84.95, 550),
            lat: axis(-35.05, 501),
        }
    }
}

/// The longitude of the Andes crest at a latitude (a rough polyline).
fn andes_crest(lat: f64) -> f64 {
    const POINTS: [(f64, f64); 9] = [
        (-36.0, -70.5),
        (-25.0, -68.5),
        (-18.0, -69.0),
        (-15.0, -71.5),
        (-10.0, -76.5),
        (-5.0, -79.0),
        (0.0, -78.5),
        (5.0, -76.0),
        (15.0, -72.0),
    ];
    if lat <= POINTS[0].0 {
        return POINTS[0].1;
    }
    for w in POINTS.windows(2) {
        let ((a, x0), (b, x1)) = (w[0], w[1]);
        if lat <= b {
            return x0 + (x1 - x0) * (lat - a) / (b - a);
        }
    }
    POINTS[POINTS.len() - 1].1
}

fn bump(lon: f64, lat: f64, lon0: f64, lat0: f64, wlon: f64, wlat: f64) -> f64 {
    (-((lon - lon0) / wlon).powi(2) - ((lat - lat0) / wlat).powi(2)).exp()
}

/// Annual mean rainfall (mm/day) and the amplitude of its seasonal cycle (positive:
/// wettest in January) at one point.
pub(crate) fn climatology(lon: f64, lat: f64) -> (f64, f64) {
    let east_of_crest = lon - andes_crest(lat);
    let mut mean = 0.8
        + 6.5 * bump(lon, lat, -63.0, -4.0, 15.0, 11.0)
        + 5.5 * bump(lon, lat, -45.0, 6.0, 30.0, 3.5)
        + 3.5 * bump(lon, lat, -48.0, -21.0, 9.0, 7.0)
        + 2.0 * bump(lon, lat, -55.0, -30.0, 10.0, 5.0);
    mean *= 1.0 - 0.75 * bump(lon, lat, -39.5, -8.0, 5.0, 4.5);
    if east_of_crest < 0.0 {
        // Windward of nothing: the Pacific side is dry south of the equator and very
        // wet in the Chocó to the north.
        mean *= if lat < -2.0 {
            0.04 + 0.1 * (east_of_crest / 1.5).exp()
        } else {
            1.6
        };
    } else if east_of_crest < 2.5 && lat < 2.0 && lat > -13.0 {
        mean *= 1.9; // eastern slopes catch the trade winds
    }
    let altiplano = lat > -23.0 && lat < -13.5 && east_of_crest > -0.5 && east_of_crest < 3.5;
    if altiplano {
        mean *= 0.35;
    }
    // Southern tropics: wet Dec-Mar; northern: wet Jun-Sep; blend across the equator.
    let south = ((-lat - 2.0) / 8.0).clamp(-1.0, 1.0);
    let mut amplitude = 0.75 * south;
    if altiplano {
        amplitude = 0.95;
    }
    (mean, amplitude)
}

/// A random field on a coarse lattice, sampled with bilinear interpolation: smooth
/// structure of a chosen scale.
#[derive(Debug, Clone)]
pub(crate) struct SmoothField {
    lon0: f64,
    lat0: f64,
    spacing: f64,
    nx: usize,
    ny: usize,
    values: Vec<f64>,
}

impl SmoothField {
    pub(crate) fn new(grid: &Grid, spacing: f64, rng: &mut Rng) -> SmoothField {
        let lon0 = grid.lon[0] as f64 - spacing;
        let lat0 = grid.lat[0] as f64 - spacing;
        let span_x = grid.lon[grid.lon.len() - 1] as f64 - lon0;
        let span_y = grid.lat[grid.lat.len() - 1] as f64 - lat0;
        let nx = (span_x / spacing).ceil() as usize + 3;
        let ny = (span_y / spacing).ceil() as usize + 3;
        let values = (0..nx * ny).map(|_| rng.normal()).collect();
        SmoothField {
            lon0,
            lat0,
            spacing,
            nx,
            ny,
            values,
        }
    }

    /// `a * self + b * other` (same lattice), for day-to-day persistence.
    pub(crate) fn blend(&self, a: f64, other: &SmoothField, b: f64) -> SmoothField {
        let values = self
            .values
            .iter()
            .zip(&other.values)
            .map(|(x, y)| a * x + b * y)
            .collect();
        SmoothField {
            values,
            ..self.clone()
        }
    }

    pub(crate) fn at(&self, lon: f64, lat: f64) -> f64 {
        let fx = ((lon - self.lon0) / self.spacing).clamp(0.0, (self.nx - 2) as f64);
        let fy = ((lat - self.lat0) / self.spacing).clamp(0.0, (self.ny - 2) as f64);
        let (ix, iy) = (fx.floor() as usize, fy.floor() as usize);
        let (tx, ty) = (fx - ix as f64, fy - iy as f64);
        // Smoothstep weights hide the lattice.
        let (tx, ty) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
        let v = |x: usize, y: usize| self.values[y * self.nx + x];
        let top = v(ix, iy) * (1.0 - tx) + v(ix + 1, iy) * tx;
        let bottom = v(ix, iy + 1) * (1.0 - tx) + v(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    }
}

/// One day's fields, each `lon`-major (`lon` outer, `lat` inner) as the files store them.
#[derive(Debug, Clone)]
pub(crate) struct DayFields {
    pub precipitation_cal: Vec<f32>,
    pub hq_precipitation: Vec<f32>,
    pub random_error: Vec<f32>,
    pub precipitation_cal_cnt: Vec<i16>,
    pub hq_precipitation_cnt: Vec<i16>,
}

/// A small patch with no retrieval on one day (the microwave sensors' swaths leave
/// such holes). Patches fall in the far south-east and north-east of the grid, well
/// away from the tutorial's study box, so its pixel series stay complete.
struct RetrievalGap {
    lon: f64,
    lat: f64,
    radius: f64,
}

impl RetrievalGap {
    /// On every fifth day (the third, eighth, ...), one patch of about one degree.
    fn of_day(seed: u64, day: u64) -> Vec<RetrievalGap> {
        let mut rng = Rng::stream(seed, day, 3);
        if day % 5 != 2 {
            return Vec::new();
        }
        let (lon, lat) = if rng.uniform() < 0.5 {
            (-45.0 + 10.0 * rng.uniform(), -33.0 + 5.0 * rng.uniform())
        } else {
            (-40.0 + 8.0 * rng.uniform(), 6.0 + 6.0 * rng.uniform())
        };
        vec![RetrievalGap {
            lon,
            lat,
            radius: 0.4 + 0.6 * rng.uniform(),
        }]
    }

    fn covers(&self, lon: f64, lat: f64) -> bool {
        (lon - self.lon).powi(2) + (lat - self.lat).powi(2) < self.radius * self.radius
    }
}

/// Value written where a retrieval is missing.
pub(crate) const FILL: f32 = -9999.9;

/// Fast approximately normal noise from a uniform (logistic quantile, scaled).
fn noise(u: f64) -> f64 {
    0.55 * (u / (1.0 - u)).ln()
}

/// The standard normal CDF, through the logistic approximation.
fn phi(z: f64) -> f64 {
    1.0 / (1.0 + (-1.702 * z).exp())
}

/// Rainfall of one day. `storms` is the persistent large-scale field of that day.
pub(crate) fn day_fields(
    grid: &Grid,
    climate: &[(f64, f64)],
    day_of_year: f64,
    storms: &SmoothField,
    seed: u64,
    day_index: u64,
) -> DayFields {
    let mut rng = Rng::stream(seed, day_index, 1);
    let cells = SmoothField::new(grid, 0.7, &mut rng);
    let intensity = SmoothField::new(grid, 1.2, &mut rng);
    let season = (std::f64::consts::TAU * (day_of_year - 15.0) / 365.25).cos();
    let n = grid.lon.len() * grid.lat.len();
    let mut out = DayFields {
        precipitation_cal: Vec::with_capacity(n),
        hq_precipitation: Vec::with_capacity(n),
        random_error: Vec::with_capacity(n),
        precipitation_cal_cnt: Vec::with_capacity(n),
        hq_precipitation_cnt: Vec::with_capacity(n),
    };
    let mut pixel = Rng::stream(seed, day_index, 2);
    let gaps = RetrievalGap::of_day(seed, day_index);
    for (i, &lon) in grid.lon.iter().enumerate() {
        for (j, &lat) in grid.lat.iter().enumerate() {
            let (lon, lat) = (lon as f64, lat as f64);
            let (base, amplitude) = climate[i * grid.lat.len() + j];
            let mean = (base * (1.0 + amplitude * season)).max(0.02);
            let p_wet = (0.06 + 0.6 * mean / (mean + 4.0)).clamp(0.02, 0.85);
            let z = 0.7 * storms.at(lon, lat)
                + 0.55 * cells.at(lon, lat)
                + 0.35 * noise(pixel.uniform());
            let wet = phi(z / 0.85) < p_wet;
            let amount = if wet {
                let s = 0.8 * intensity.at(lon, lat) + 0.45 * noise(pixel.uniform());
                (mean / p_wet * (1.1 * s - 0.6).exp()).min(400.0)
            } else {
                0.0
            };
            let u = pixel.uniform();
            let missing = gaps.iter().any(|g| g.covers(lon, lat));
            let cal = amount as f32;
            let hq = if amount > 0.0 {
                (amount * (0.7 + 0.35 * (u * 7.0).fract())) as f32
            } else {
                0.0
            };
            let count = 2 + (u * 1e6) as i16 % 7;
            out.precipitation_cal.push(if missing { FILL } else { cal });
            out.hq_precipitation.push(if missing { FILL } else { hq });
            out.random_error.push(if missing {
                FILL
            } else {
                0.4 * cal.powf(0.8) + 0.02
            });
            out.precipitation_cal_cnt
                .push(if missing { 0 } else { count });
            out.hq_precipitation_cnt
                .push(if missing { 0 } else { (count - 2).max(0) });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_matches_imerg_box() {
        let g = Grid::south_america();
        assert_eq!((g.lon.len(), g.lat.len()), (550, 501));
        assert!((g.lon[0] + 84.95).abs() < 1e-4 && (g.lon[549] + 30.05).abs() < 1e-4);
        assert!((g.lat[0] + 35.05).abs() < 1e-4 && (g.lat[500] - 14.95).abs() < 1e-4);
    }

    #[test]
    fn climate_has_wet_amazon_and_dry_coast() {
        let (amazon, _) = climatology(-62.0, -4.0);
        let (atacama, _) = climatology(-71.0, -24.0);
        let (altiplano, amp) = climatology(-68.5, -17.0);
        assert!(amazon > 5.0, "{amazon}");
        assert!(atacama < 0.3, "{atacama}");
        assert!(altiplano < 1.5 && amp > 0.9, "{altiplano} {amp}");
    }
}
