//! `cargo xtask naturalearth`: turns Natural Earth's TopoJSON (npm package
//! `world-atlas`) into the compact files `geoxr` draws maps from.
//!
//! The TopoJSON shapes are drawn for a sphere: a few rings cross the antimeridian
//! and Antarctica winds around the South Pole. Maps in `geoxr` work on plain
//! longitude/latitude polygons, so this step cuts every ring at ±180°, closes
//! pole-encircling rings along the pole, and keeps the artificial cut edges out
//! of the coastline. Output format (little-endian), read by `geoxr::maps`:
//!
//! ```text
//! b"GXNE" u32 version=1
//! land:      u32 polygons, each: u32 rings, each: u32 points, points × (f32 lon, f32 lat)
//! coastline: u32 lines, each: u32 points, points × (f32 lon, f32 lat)
//! borders:   u32 lines, each: u32 points, points × (f32 lon, f32 lat)
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{say, setup, Paths, Result};

/// The package version the committed files were made from.
pub const WORLD_ATLAS: &str = "world-atlas@2.0.2";

type Point = (f64, f64);
type Ring = Vec<Point>;

/// Downloads `world-atlas` with npm and rewrites `data/naturalearth/*.bin`.
pub fn convert(paths: &Paths) -> Result<()> {
    let work = paths.root.join("target").join("naturalearth");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    say(format!(
        "downloading {WORLD_ATLAS} from the npm registry (npm pack)"
    ));
    setup::run(
        Command::new("npm")
            .args(["pack", WORLD_ATLAS, "--pack-destination"])
            .arg(&work),
    )?;
    setup::run(
        Command::new("tar")
            .arg("xzf")
            .arg(work.join("world-atlas-2.0.2.tgz"))
            .arg("-C")
            .arg(&work),
    )?;
    let package = work.join("package");
    let out = paths.root.join("data").join("naturalearth");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for scale in ["110m", "50m"] {
        let land = read_topology(&package.join(format!("land-{scale}.json")))?;
        let countries = read_topology(&package.join(format!("countries-{scale}.json")))?;
        let compact = Compact::from_topologies(&land, &countries)?;
        let file = out.join(format!("ne_{scale}.bin"));
        std::fs::write(&file, compact.encode())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        say(format!(
            "wrote {} ({} land polygons, {} coastline lines, {} border lines)",
            file.display(),
            compact.land.len(),
            compact.coastline.len(),
            compact.borders.len()
        ));
    }
    Ok(())
}

/// A decoded TopoJSON topology: absolute arcs plus the raw objects.
struct Topology {
    arcs: Vec<Ring>,
    objects: Value,
}

fn read_topology(file: &Path) -> Result<Topology> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let bad = |what: &str| format!("{}: {what}", file.display());
    let number = |v: &Value| v.as_f64().ok_or_else(|| bad("a number expected"));
    let transform = &json["transform"];
    let (sx, sy) = (
        number(&transform["scale"][0])?,
        number(&transform["scale"][1])?,
    );
    let (tx, ty) = (
        number(&transform["translate"][0])?,
        number(&transform["translate"][1])?,
    );
    let mut arcs = Vec::new();
    for arc in json["arcs"].as_array().ok_or_else(|| bad("no arcs"))? {
        let (mut x, mut y) = (0.0, 0.0);
        let mut points = Vec::new();
        for delta in arc.as_array().ok_or_else(|| bad("an arc is not a list"))? {
            x += number(&delta[0])?;
            y += number(&delta[1])?;
            points.push((x * sx + tx, y * sy + ty));
        }
        arcs.push(points);
    }
    Ok(Topology {
        arcs,
        objects: json["objects"].clone(),
    })
}

impl Topology {
    /// Arc `i` in TopoJSON's numbering (`!i` = arc `i` reversed).
    fn arc(&self, index: i64) -> Ring {
        if index >= 0 {
            self.arcs[index as usize].clone()
        } else {
            let mut arc = self.arcs[(!index) as usize].clone();
            arc.reverse();
            arc
        }
    }

    fn ring(&self, indices: &Value) -> Ring {
        let mut ring: Ring = Vec::new();
        for index in indices.as_array().into_iter().flatten() {
            let arc = self.arc(index.as_i64().unwrap_or(0));
            let skip = usize::from(!ring.is_empty());
            ring.extend(arc.into_iter().skip(skip));
        }
        ring
    }

    /// Polygons (lists of rings) of every geometry in `object`.
    fn polygons(&self, object: &str) -> Vec<Vec<Ring>> {
        let mut polygons = Vec::new();
        for geometry in self.geometries(object) {
            for polygon in polygon_arcs(geometry) {
                let rings = polygon.as_array().into_iter().flatten();
                polygons.push(rings.map(|r| self.ring(r)).collect());
            }
        }
        polygons
    }

    fn geometries(&self, object: &str) -> Vec<&Value> {
        let object = &self.objects[object];
        match object["geometries"].as_array() {
            Some(list) => list.iter().collect(),
            None => vec![object],
        }
    }
}

fn polygon_arcs(geometry: &Value) -> Vec<&Value> {
    match geometry["type"].as_str() {
        Some("Polygon") => vec![&geometry["arcs"]],
        Some("MultiPolygon") => geometry["arcs"].as_array().into_iter().flatten().collect(),
        _ => Vec::new(),
    }
}

/// What one `ne_*.bin` file holds.
struct Compact {
    land: Vec<Vec<Ring>>,
    coastline: Vec<Ring>,
    borders: Vec<Ring>,
}

impl Compact {
    fn from_topologies(land: &Topology, countries: &Topology) -> Result<Compact> {
        let mut polygons = Vec::new();
        let mut coastline = Vec::new();
        for polygon in land.polygons("land") {
            let mut pieces = Vec::new();
            for ring in polygon {
                if ring.len() < 4 || ring.iter().all(|p| p.1.abs() > 89.9) {
                    continue; // degenerate, or a tiny ring around a pole
                }
                coastline.extend(natural_lines(&ring));
                pieces.extend(cut_ring(&ring));
            }
            if !pieces.is_empty() {
                polygons.push(pieces);
            }
        }
        let borders = border_arcs(countries)
            .iter()
            .flat_map(|arc| natural_lines(arc))
            .collect();
        if polygons.is_empty() {
            return Err("no land polygons in world-atlas".into());
        }
        Ok(Compact {
            land: polygons,
            coastline,
            borders,
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = b"GXNE".to_vec();
        push_u32(&mut bytes, 1);
        push_u32(&mut bytes, self.land.len());
        for polygon in &self.land {
            push_u32(&mut bytes, polygon.len());
            for ring in polygon {
                push_points(&mut bytes, ring);
            }
        }
        for lines in [&self.coastline, &self.borders] {
            push_u32(&mut bytes, lines.len());
            for line in lines {
                push_points(&mut bytes, line);
            }
        }
        bytes
    }
}

fn push_u32(bytes: &mut Vec<u8>, n: impl TryInto<u32>) {
    let n: u32 = n.try_into().unwrap_or(u32::MAX);
    bytes.extend_from_slice(&n.to_le_bytes());
}

fn push_points(bytes: &mut Vec<u8>, points: &[Point]) {
    push_u32(bytes, points.len());
    for &(lon, lat) in points {
        bytes.extend_from_slice(&(lon as f32).to_le_bytes());
        bytes.extend_from_slice(&(lat as f32).to_le_bytes());
    }
}

/// Arcs shared by two different countries: the land borders.
fn border_arcs(countries: &Topology) -> Vec<Ring> {
    let mut owners: HashMap<usize, Vec<usize>> = HashMap::new();
    for (country, geometry) in countries.geometries("countries").into_iter().enumerate() {
        for polygon in polygon_arcs(geometry) {
            for ring in polygon.as_array().into_iter().flatten() {
                for index in ring.as_array().into_iter().flatten() {
                    let index = index.as_i64().unwrap_or(0);
                    let arc = if index >= 0 { index } else { !index } as usize;
                    let list = owners.entry(arc).or_default();
                    if !list.contains(&country) {
                        list.push(country);
                    }
                }
            }
        }
    }
    let mut shared: Vec<usize> = owners
        .into_iter()
        .filter(|(_, list)| list.len() > 1)
        .map(|(arc, _)| arc)
        .collect();
    shared.sort_unstable();
    shared
        .into_iter()
        .map(|arc| countries.arcs[arc].clone())
        .collect()
}

/// Edges that Natural Earth or this step added where nothing is on the ground:
/// along the antimeridian or along a pole.
fn is_artificial(a: Point, b: Point) -> bool {
    let on_cut = |p: Point| p.0.abs() >= 180.0 - 1e-9;
    (on_cut(a) && on_cut(b)) || (a.1 <= -89.9 && b.1 <= -89.9)
}

/// A ring or arc as lines: cut where it jumps across ±180°, without artificial edges.
fn natural_lines(points: &[Point]) -> Vec<Ring> {
    let mut lines = Vec::new();
    let mut line: Ring = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if is_artificial(a, b) {
            finish(&mut lines, &mut line);
            continue;
        }
        if line.is_empty() {
            line.push(a);
        }
        if (b.0 - a.0).abs() > 180.0 {
            // Crosses the antimeridian: end at the near edge, restart at the far one.
            let edge = 180.0 * a.0.signum();
            let b_unwrapped = b.0 + 360.0 * a.0.signum();
            let t = (edge - a.0) / (b_unwrapped - a.0);
            let lat = a.1 + t * (b.1 - a.1);
            line.push((edge, lat));
            finish(&mut lines, &mut line);
            line.push((-edge, lat));
        }
        line.push(b);
    }
    finish(&mut lines, &mut line);
    lines
}

fn finish(lines: &mut Vec<Ring>, line: &mut Ring) {
    if line.len() >= 2 {
        lines.push(std::mem::take(line));
    } else {
        line.clear();
    }
}

/// Cuts a closed ring into plain lon/lat rings inside [-180, 180].
///
/// The ring is unwrapped to continuous longitudes; a ring that winds once around a
/// pole is closed along that pole; the result is clipped to each 360° window it
/// touches and shifted back.
fn cut_ring(ring: &[Point]) -> Vec<Ring> {
    let mut unwrapped: Ring = Vec::with_capacity(ring.len() + 2);
    let mut shift = 0.0;
    let mut crossings = 0;
    for (i, &(lon, lat)) in ring.iter().enumerate() {
        if i > 0 {
            let previous = ring[i - 1].0;
            if lon - previous > 180.0 {
                shift -= 360.0;
                crossings += 1;
            } else if previous - lon > 180.0 {
                shift += 360.0;
                crossings += 1;
            }
        }
        unwrapped.push((lon + shift, lat));
    }
    if crossings == 0 {
        return vec![ring.to_vec()];
    }
    if shift != 0.0 {
        // Winds around a pole: close along it.
        let mean_lat = ring.iter().map(|p| p.1).sum::<f64>() / ring.len() as f64;
        let pole = if mean_lat < 0.0 { -90.0 } else { 90.0 };
        let (first, last) = (unwrapped[0].0, unwrapped[unwrapped.len() - 1].0);
        unwrapped.push((last, pole));
        unwrapped.push((first, pole));
    }
    let (lo, hi) = unwrapped.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    let mut pieces = Vec::new();
    let mut window = -540.0;
    while window < 540.0 {
        if hi > window && lo < window + 360.0 {
            let clipped = clip_to_strip(&unwrapped, window, window + 360.0);
            if clipped.len() >= 3 {
                let offset = -(window + 180.0);
                pieces.push(clipped.into_iter().map(|(x, y)| (x + offset, y)).collect());
            }
        }
        window += 360.0;
    }
    pieces
}

/// Sutherland–Hodgman clipping of a polygon to `lo <= lon <= hi`.
fn clip_to_strip(ring: &[Point], lo: f64, hi: f64) -> Ring {
    let keep_above = |points: &[Point], edge: f64, above: bool| -> Ring {
        let inside = |p: Point| if above { p.0 >= edge } else { p.0 <= edge };
        let mut out = Vec::with_capacity(points.len());
        for i in 0..points.len() {
            let a = points[i];
            let b = points[(i + 1) % points.len()];
            let crossing = || {
                let t = (edge - a.0) / (b.0 - a.0);
                (edge, a.1 + t * (b.1 - a.1))
            };
            match (inside(a), inside(b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(crossing()),
                (false, true) => {
                    out.push(crossing());
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        out
    };
    let step = keep_above(ring, lo, true);
    keep_above(&step, hi, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_across_the_antimeridian_becomes_two_pieces_inside_the_range() {
        let ring = vec![
            (170.0, 0.0),
            (-170.0, 0.0),
            (-170.0, 10.0),
            (170.0, 10.0),
            (170.0, 0.0),
        ];
        let pieces = cut_ring(&ring);
        assert_eq!(pieces.len(), 2);
        for piece in &pieces {
            assert!(piece.iter().all(|p| p.0.abs() <= 180.0));
        }
        let lons: Vec<f64> = pieces.iter().flatten().map(|p| p.0).collect();
        assert!(lons.contains(&180.0) && lons.contains(&-180.0));
    }

    #[test]
    fn ring_around_the_south_pole_is_closed_along_the_pole() {
        let ring = vec![
            (-180.0, -70.0),
            (0.0, -65.0),
            (179.0, -70.0),
            (-180.0, -70.0),
        ];
        let pieces = cut_ring(&ring);
        let lats: Vec<f64> = pieces.iter().flatten().map(|p| p.1).collect();
        assert!(lats.contains(&-90.0));
        assert!(pieces.iter().flatten().all(|p| p.0.abs() <= 180.0));
    }

    #[test]
    fn coastline_skips_cut_edges_and_splits_at_the_antimeridian() {
        let ring = vec![(179.0, 0.0), (-179.0, 2.0), (-180.0, 2.0), (-180.0, 0.0)];
        let lines = natural_lines(&ring);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], vec![(179.0, 0.0), (180.0, 1.0)]);
        assert_eq!(lines[1], vec![(-180.0, 1.0), (-179.0, 2.0), (-180.0, 2.0)]);
    }
}
