//! A projection placed on a rectangle of pixels: turns longitude/latitude shapes
//! into pixel shapes, clipped to what the map shows.
//!
//! On the orthographic globe, shapes are clipped on the sphere against the visible
//! hemisphere (Sutherland–Hodgman against the plane facing the viewer), and where a
//! ring leaves the hemisphere and comes back the cut is closed along the limb, in
//! the ring's own direction of travel. On Plate Carrée, shapes are clipped to the
//! map's rectangle.

use super::canvas::Px;
use super::projection::{unit_vector, Orthographic, Projection};

/// Longest edge, in degrees, drawn as a straight segment on the globe.
const MAX_STEP_DEGREES: f64 = 1.0;

/// A projection fitted to a rectangle of the canvas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View {
    pub projection: Projection,
    /// Plane bounds shown: x_min, x_max, y_min, y_max.
    pub plane: [f64; 4],
    /// Pixel rectangle: left, top, right, bottom.
    pub area: [f64; 4],
}

impl View {
    /// Fits `plane` bounds into `area` keeping the aspect ratio, centred.
    pub fn fit(projection: Projection, plane: [f64; 4], area: [f64; 4]) -> View {
        let (pw, ph) = (plane[1] - plane[0], plane[3] - plane[2]);
        let (aw, ah) = (area[2] - area[0], area[3] - area[1]);
        let scale = (aw / pw).min(ah / ph);
        let (w, h) = (pw * scale, ph * scale);
        let left = area[0] + (aw - w) / 2.0;
        let top = area[1] + (ah - h) / 2.0;
        View {
            projection,
            plane,
            area: [left, top, left + w, top + h],
        }
    }

    /// The same view on a canvas `factor` times larger.
    pub fn scaled(&self, factor: f64) -> View {
        View {
            area: self.area.map(|v| v * factor),
            ..*self
        }
    }

    /// Pixels per plane unit.
    pub fn scale(&self) -> f64 {
        (self.area[2] - self.area[0]) / (self.plane[1] - self.plane[0])
    }

    /// Degrees of longitude or latitude per pixel near the centre.
    pub fn degrees_per_pixel(&self) -> f64 {
        match self.projection {
            Projection::PlateCarree(_) => 1.0 / self.scale(),
            Projection::Orthographic(_) => 1.0f64.to_degrees() / self.scale(),
        }
    }

    pub fn pixel_of(&self, (x, y): (f64, f64)) -> Px {
        let s = self.scale();
        (
            self.area[0] + (x - self.plane[0]) * s,
            self.area[1] + (self.plane[3] - y) * s,
        )
    }

    /// Longitude and latitude under a pixel position, if the map shows one there.
    pub fn lonlat_at(&self, (px, py): Px) -> Option<(f64, f64)> {
        let s = self.scale();
        let x = self.plane[0] + (px - self.area[0]) / s;
        let y = self.plane[3] - (py - self.area[1]) / s;
        if x < self.plane[0] || x > self.plane[1] || y < self.plane[2] || y > self.plane[3] {
            return None;
        }
        self.projection.inverse(x, y)
    }

    /// Pixel position of a point, if it is drawn.
    pub fn point(&self, lon: f64, lat: f64) -> Option<Px> {
        let p = self.projection.forward(lon, lat)?;
        let inside = p.0 >= self.plane[0] - 1e-9
            && p.0 <= self.plane[1] + 1e-9
            && p.1 >= self.plane[2] - 1e-9
            && p.1 <= self.plane[3] + 1e-9;
        inside.then(|| self.pixel_of(p))
    }

    /// The rings of one shape (lon/lat, closed or not) as pixel rings, clipped.
    pub fn rings(&self, rings: &[Vec<[f64; 2]>]) -> Vec<Vec<Px>> {
        let mut out = Vec::new();
        for ring in rings {
            let clipped = match &self.projection {
                Projection::PlateCarree(_) => {
                    let plane: Vec<(f64, f64)> = ring.iter().map(|p| (p[0], p[1])).collect();
                    vec![clip_ring_to_box(&plane, self.plane)]
                }
                Projection::Orthographic(o) => clip_ring_to_hemisphere(o, ring),
            };
            for piece in clipped.into_iter().filter(|piece| piece.len() >= 3) {
                out.push(piece.into_iter().map(|p| self.pixel_of(p)).collect());
            }
        }
        out
    }

    /// A lon/lat polyline as the pixel polylines that are visible.
    pub fn lines(&self, line: &[[f64; 2]]) -> Vec<Vec<Px>> {
        let pieces = match &self.projection {
            Projection::PlateCarree(_) => {
                let plane: Vec<(f64, f64)> = line.iter().map(|p| (p[0], p[1])).collect();
                clip_line_to_box(&plane, self.plane)
            }
            Projection::Orthographic(o) => clip_line_to_hemisphere(o, line),
        };
        pieces
            .into_iter()
            .filter(|piece| piece.len() >= 2)
            .map(|piece| piece.into_iter().map(|p| self.pixel_of(p)).collect())
            .collect()
    }
}

/// Bounds of lon/lat points: lon_min, lon_max, lat_min, lat_max.
pub(crate) fn lonlat_bounds(points: &[[f64; 2]]) -> [f64; 4] {
    points.iter().fold(
        [f64::MAX, f64::MIN, f64::MAX, f64::MIN],
        |[a, b, c, d], p| [a.min(p[0]), b.max(p[0]), c.min(p[1]), d.max(p[1])],
    )
}

/// Signed area in lon/lat (positive = anticlockwise with north up).
fn signed_area(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f64>()
        / 2.0
}

/// Points along a lon/lat polyline, no step longer than [`MAX_STEP_DEGREES`].
fn densify(points: &[[f64; 2]], closed: bool) -> Vec<[f64; 3]> {
    let mut out = Vec::with_capacity(points.len());
    let n = points.len();
    let edges = if closed { n } else { n.saturating_sub(1) };
    if !closed {
        if let Some(p) = points.first() {
            out.push(unit_vector(p[0], p[1]));
        }
    }
    for i in 0..edges {
        let (a, b) = (points[i], points[(i + 1) % n]);
        let span = (b[0] - a[0]).abs().max((b[1] - a[1]).abs());
        // Coordinates are checked before they get here; the cap keeps it safe anyway.
        let steps = (span / MAX_STEP_DEGREES).ceil().clamp(1.0, 720.0) as usize;
        for k in 1..=steps {
            let t = k as f64 / steps as f64;
            out.push(unit_vector(
                a[0] + (b[0] - a[0]) * t,
                a[1] + (b[1] - a[1]) * t,
            ));
        }
    }
    out
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The point where segment a-b meets the limb plane, pushed onto the sphere.
fn limb_crossing(a: [f64; 3], b: [f64; 3], da: f64, db: f64) -> [f64; 3] {
    let t = da / (da - db);
    let p = [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ];
    let norm = dot(p, p).sqrt().max(1e-300);
    [p[0] / norm, p[1] / norm, p[2] / norm]
}

/// Basis of the orthographic plane: east and north at the centre.
fn plane_basis(o: &Orthographic) -> ([f64; 3], [f64; 3]) {
    let (lon0, lat0) = (o.lon0.to_radians(), o.lat0.to_radians());
    let east = [-lon0.sin(), lon0.cos(), 0.0];
    let north = [
        -lat0.sin() * lon0.cos(),
        -lat0.sin() * lon0.sin(),
        lat0.cos(),
    ];
    (east, north)
}

/// The visible part of a ring as closed plane rings (Weiler–Atherton against the
/// limb): the ring's visible stretches, joined along the limb. From each point
/// where a stretch leaves the hemisphere, the limb is followed in the ring's own
/// direction of turning (which keeps the inside of the ring on the same side) to
/// the first point where a stretch comes back.
fn clip_ring_to_hemisphere(o: &Orthographic, ring: &[[f64; 2]]) -> Vec<Vec<(f64, f64)>> {
    let centre = o.centre();
    let (east, north) = plane_basis(o);
    let flat = |p: [f64; 3]| (dot(p, east), dot(p, north));
    let points = densify(ring, true);
    let depth: Vec<f64> = points.iter().map(|&p| dot(p, centre)).collect();
    let Some(hidden) = depth.iter().position(|&d| d < 0.0) else {
        return vec![points.into_iter().map(flat).collect()];
    };
    if depth.iter().all(|&d| d < 0.0) {
        return Vec::new();
    }
    // Visible stretches, walking from a hidden point once round the ring.
    let n = points.len();
    let mut stretches: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for step in 0..n {
        let (i, j) = ((hidden + step) % n, (hidden + step + 1) % n);
        let (a, b, da, db) = (points[i], points[j], depth[i], depth[j]);
        match (da >= 0.0, db >= 0.0) {
            (false, true) => {
                current.push(flat(limb_crossing(a, b, da, db)));
                current.push(flat(b));
            }
            (true, true) => current.push(flat(b)),
            (true, false) => {
                current.push(flat(limb_crossing(a, b, da, db)));
                stretches.push(std::mem::take(&mut current));
            }
            (false, false) => {}
        }
    }
    let angle = |p: (f64, f64)| p.1.atan2(p.0);
    let anticlockwise = signed_area(ring) > 0.0;
    let tau = std::f64::consts::TAU;
    let turn = |from: f64, to: f64| {
        if anticlockwise {
            (to - from).rem_euclid(tau)
        } else {
            (from - to).rem_euclid(tau)
        }
    };
    let mut used = vec![false; stretches.len()];
    let mut loops = Vec::new();
    for first in 0..stretches.len() {
        if used[first] {
            continue;
        }
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut k = first;
        while !used[k] {
            used[k] = true;
            out.extend_from_slice(&stretches[k]);
            let exit = *stretches[k].last().unwrap_or(&(1.0, 0.0));
            let from = angle(exit);
            let next = (0..stretches.len())
                .min_by(|&p, &q| {
                    let dp = turn(from, angle(stretches[p][0]));
                    let dq = turn(from, angle(stretches[q][0]));
                    dp.total_cmp(&dq)
                })
                .unwrap_or(first);
            limb_arc(exit, stretches[next][0], anticlockwise, &mut out);
            k = next;
        }
        loops.push(out);
    }
    loops
}

/// Points along the unit circle from `from` to `to` (both on it), excluding ends.
fn limb_arc(from: (f64, f64), to: (f64, f64), anticlockwise: bool, out: &mut Vec<(f64, f64)>) {
    let start = from.1.atan2(from.0);
    let end = to.1.atan2(to.0);
    let tau = std::f64::consts::TAU;
    let sweep = if anticlockwise {
        (end - start).rem_euclid(tau)
    } else {
        -(start - end).rem_euclid(tau)
    };
    let steps = (sweep.abs() / MAX_STEP_DEGREES.to_radians()).ceil() as usize;
    for k in 1..steps {
        let angle = start + sweep * k as f64 / steps as f64;
        out.push((angle.cos(), angle.sin()));
    }
}

fn clip_line_to_hemisphere(o: &Orthographic, line: &[[f64; 2]]) -> Vec<Vec<(f64, f64)>> {
    let centre = o.centre();
    let (east, north) = plane_basis(o);
    let flat = |p: [f64; 3]| (dot(p, east), dot(p, north));
    let points = densify(line, false);
    let mut pieces = Vec::new();
    let mut piece: Vec<(f64, f64)> = Vec::new();
    for i in 0..points.len() {
        let d = dot(points[i], centre);
        if i > 0 {
            let prev = dot(points[i - 1], centre);
            if (prev >= 0.0) != (d >= 0.0) {
                piece.push(flat(limb_crossing(points[i - 1], points[i], prev, d)));
                if d < 0.0 {
                    pieces.push(std::mem::take(&mut piece));
                }
            }
        }
        if d >= 0.0 {
            piece.push(flat(points[i]));
        }
    }
    pieces.push(piece);
    pieces
}

/// Sutherland–Hodgman against the four sides of a box [x0, x1, y0, y1].
fn clip_ring_to_box(ring: &[(f64, f64)], b: [f64; 4]) -> Vec<(f64, f64)> {
    let sides: [(usize, f64, bool); 4] = [
        (0, b[0], true),
        (0, b[1], false),
        (1, b[2], true),
        (1, b[3], false),
    ];
    let mut points = ring.to_vec();
    for (axis, edge, keep_above) in sides {
        if points.is_empty() {
            break;
        }
        let coord = |p: (f64, f64)| if axis == 0 { p.0 } else { p.1 };
        let inside = |p: (f64, f64)| {
            if keep_above {
                coord(p) >= edge
            } else {
                coord(p) <= edge
            }
        };
        let cross = |a: (f64, f64), b: (f64, f64)| {
            let t = (edge - coord(a)) / (coord(b) - coord(a));
            (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
        };
        let mut out = Vec::with_capacity(points.len());
        for i in 0..points.len() {
            let (a, b) = (points[i], points[(i + 1) % points.len()]);
            match (inside(a), inside(b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cross(a, b)),
                (false, true) => {
                    out.push(cross(a, b));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        points = out;
    }
    points
}

/// A polyline cut to the parts inside a box (Liang–Barsky per segment).
fn clip_line_to_box(line: &[(f64, f64)], b: [f64; 4]) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    let mut piece: Vec<(f64, f64)> = Vec::new();
    for pair in line.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (denominator, numerator) in [
            (-dx, p.0 - b[0]),
            (dx, b[1] - p.0),
            (-dy, p.1 - b[2]),
            (dy, b[3] - p.1),
        ] {
            if denominator == 0.0 {
                if numerator < 0.0 {
                    visible = false;
                }
            } else {
                let t = numerator / denominator;
                if denominator < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        if !visible || t0 > t1 {
            if !piece.is_empty() {
                pieces.push(std::mem::take(&mut piece));
            }
            continue;
        }
        let start = (p.0 + dx * t0, p.1 + dy * t0);
        let end = (p.0 + dx * t1, p.1 + dy * t1);
        if piece.is_empty() || t0 > 0.0 {
            if !piece.is_empty() {
                pieces.push(std::mem::take(&mut piece));
            }
            piece.push(start);
        }
        piece.push(end);
        if t1 < 1.0 {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::PlateCarree;

    fn globe_view(lon0: f64, lat0: f64) -> View {
        View::fit(
            Orthographic::new(lon0, lat0).into(),
            [-1.0, 1.0, -1.0, 1.0],
            [0.0, 0.0, 200.0, 200.0],
        )
    }

    #[test]
    fn ring_across_the_limb_is_closed_along_it() {
        // A square straddling the eastern limb of a globe centred on (0, 0).
        let ring = vec![[80.0, -10.0], [100.0, -10.0], [100.0, 10.0], [80.0, 10.0]];
        let rings = globe_view(0.0, 0.0).rings(&[ring]);
        assert_eq!(rings.len(), 1);
        for &(x, y) in &rings[0] {
            let r = ((x - 100.0).powi(2) + (y - 100.0).powi(2)).sqrt();
            assert!(r <= 100.0 + 1e-6, "point ({x}, {y}) lies off the disc");
        }
        // The closing edge follows the limb: some points sit on it at ±10° latitude.
        let on_limb = rings[0]
            .iter()
            .filter(|&&(x, y)| {
                (((x - 100.0).powi(2) + (y - 100.0).powi(2)).sqrt() - 100.0).abs() < 1e-6
            })
            .count();
        assert!(on_limb >= 3, "{on_limb}");
    }

    #[test]
    fn far_side_shapes_vanish_and_near_ones_stay_whole() {
        let view = globe_view(0.0, 0.0);
        let far = vec![[170.0, -5.0], [175.0, -5.0], [175.0, 5.0]];
        assert!(view.rings(std::slice::from_ref(&far)).is_empty());
        assert!(view.lines(&far).iter().all(|l| l.len() < 2));
        let near = vec![[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0]];
        assert_eq!(view.rings(&[near]).len(), 1);
    }

    #[test]
    fn plate_carree_clips_to_its_box() {
        let view = View::fit(
            PlateCarree::new().into(),
            [-80.0, -60.0, -20.0, 0.0],
            [0.0, 0.0, 100.0, 100.0],
        );
        let ring = vec![
            [-100.0, -10.0],
            [-70.0, -10.0],
            [-70.0, 30.0],
            [-100.0, 30.0],
        ];
        let rings = view.rings(&[ring]);
        for &(x, y) in &rings[0] {
            assert!((0.0..=100.0).contains(&x) && (0.0..=100.0).contains(&y));
        }
        let lines = view.lines(&[[-100.0, -10.0], [-50.0, -10.0]]);
        assert_eq!(lines, vec![vec![(0.0, 50.0), (100.0, 50.0)]]);
    }
}
