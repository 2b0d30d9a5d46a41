//! The key beside a raster: a continuous colour bar with ticks, or one block per
//! class for categorical maps.

use super::canvas::{text_width, Align, Canvas, Px};
use super::colormap::Rgb;
use super::raster::Raster;
use crate::error::Result;

const BAR_WIDTH: f64 = 14.0;
const TICK_SIZE: f64 = 11.0;
const LABEL_SIZE: f64 = 12.0;
const GAP: f64 = 4.0;
/// Most class labels written beside a categorical bar.
const MAX_CLASS_LABELS: usize = 12;

/// Room the colour bar of `raster` needs to the right of the map.
pub(crate) fn colorbar_width(raster: &Raster) -> f64 {
    8.0 + BAR_WIDTH + GAP + widest_label(raster) + 2.0 * GAP + LABEL_SIZE + 2.0
}

fn widest_label(raster: &Raster) -> f64 {
    labels(raster)
        .iter()
        .map(|(_, text)| text_width(text, TICK_SIZE))
        .fold(0.0, f64::max)
}

/// Tick positions (0 = bottom, 1 = top) and their texts.
fn labels(raster: &Raster) -> Vec<(f64, String)> {
    let Ok((lo, hi)) = raster.limits() else {
        return Vec::new();
    };
    if raster.colormap().is_categorical() {
        let classes = (hi - lo).ceil().max(1.0) as usize;
        let every = classes.div_ceil(MAX_CLASS_LABELS);
        (0..classes)
            .step_by(every)
            .map(|k| {
                (
                    (k as f64 + 0.5) / classes as f64,
                    format_tick(lo + k as f64),
                )
            })
            .collect()
    } else {
        nice_ticks(lo, hi)
            .into_iter()
            .map(|v| ((v - lo) / (hi - lo), format_tick(v)))
            .collect()
    }
}

/// About five round values between `lo` and `hi`, ends included when round.
pub(crate) fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    if !(raw.is_normal() && magnitude.is_normal() && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    let count = (last - first) as i64;
    // Printed and parsed back so that 3 × 0.2 is 0.6, not 0.6000000000000001.
    let decimals = (2.0 - step.log10().floor()).max(0.0);
    (0..=count.clamp(0, 50))
        .map(|k| {
            let v = (first + k as f64) * step;
            if decimals <= 17.0 {
                let decimals = decimals as usize;
                format!("{v:.decimals$}").parse().unwrap_or(v)
            } else {
                v
            }
        })
        .collect()
}

fn format_tick(v: f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e7 {
        let text = format!("{v:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.2e}")
    }
}

/// Draws the bar in `area` (left, top, right, bottom) with ticks and the label.
pub(crate) fn draw_colorbar(
    raster: &Raster,
    area: [f64; 4],
    canvas: &mut dyn Canvas,
) -> Result<()> {
    let (lo, hi) = raster.limits()?;
    let cmap = raster.colormap();
    let inset = ((area[3] - area[1]) * 0.08).min(20.0);
    let (top, bottom) = (area[1] + inset, area[3] - inset);
    let (left, right) = (area[0], area[0] + BAR_WIDTH);
    let rows = (bottom - top).round().max(1.0) as usize;
    if cmap.is_categorical() {
        let classes = (hi - lo).ceil().max(1.0) as usize;
        for k in 0..classes {
            let y1 = bottom - (bottom - top) * k as f64 / classes as f64;
            let y0 = bottom - (bottom - top) * (k + 1) as f64 / classes as f64;
            canvas.fill(&[rect(left, y0, right, y1)], cmap.class_colour(k), 1.0)?;
        }
    } else {
        for row in 0..rows {
            // The top row shows the upper limit, the bottom row the lower one.
            let t = 1.0 - row as f64 / (rows - 1).max(1) as f64;
            let y = top + row as f64;
            canvas.fill(&[rect(left, y, right, y + 1.0)], cmap.at(t), 1.0)?;
        }
    }
    let black = Rgb(0, 0, 0);
    // The frame sits just outside the colours, so the end rows stay visible.
    let mut frame = rect(left - 1.0, top - 1.0, right, top + rows as f64);
    frame.push((left - 1.0, top - 1.0));
    canvas.stroke(&frame, black, 1.0)?;
    for (t, text) in labels(raster) {
        let y = top + rows as f64 - t * rows as f64;
        canvas.stroke(&[(right, y), (right + 3.0, y)], black, 1.0)?;
        canvas.text(
            &text,
            (right + GAP + 1.0, y),
            TICK_SIZE,
            Align::Left,
            black,
            false,
        )?;
    }
    let widest = widest_label(raster);
    let x = (right + GAP + widest + 2.0 * GAP + LABEL_SIZE / 2.0).min(area[2] - LABEL_SIZE / 2.0);
    canvas.text(
        raster.label(),
        (x, (top + bottom) / 2.0),
        LABEL_SIZE,
        Align::Centre,
        black,
        true,
    )
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Px> {
    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(nice_ticks(0.0, 3.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.13, 0.91), vec![0.2, 0.4, 0.6, 0.8]);
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(format_tick(3.0), "3");
    }
}
