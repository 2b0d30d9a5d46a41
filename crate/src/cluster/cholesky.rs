//! Dense Cholesky factors for shift-and-invert when the affinity graph is dense but
//! its leading eigenvalues crowd against 1, and the product with the symmetric
//! matrix whose strict upper triangle the factorisation leaves in place.
//!
//! The factor is computed in blocks: the diagonal block by hand, the panel below it
//! row by row in parallel, the trailing update as matrix products by column tiles in
//! parallel. Each entry is computed by the same sequence of operations whatever the
//! number of threads.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};

const BLOCK: usize = 96;
/// Columns per task of the trailing update: each task's matrix product packs the
/// panel below its tile again, so wide tiles pack less.
const TILE: usize = 384;

/// The float types the factorisation runs in: `f64`, or `f32` for a factor that
/// only preconditions (half the memory, twice the vector width).
pub(crate) trait Real:
    ndarray::LinalgScalar + PartialOrd + Send + Sync + std::fmt::Debug
{
    fn sqrt(self) -> Self;
    fn is_finite(self) -> bool;
}

impl Real for f64 {
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

impl Real for f32 {
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

/// `Σ a_i b_i` in eight interleaved partial sums (so that it vectorises), added in a
/// fixed order.
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] = lanes[l] + x[l] * y[l];
        }
    }
    let mut sum = T::zero();
    for (x, y) in ra.iter().zip(rb) {
        sum = sum + *x * *y;
    }
    lanes.iter().fold(sum, |s, v| s + *v)
}

/// In-place lower Cholesky factor of a symmetric positive definite matrix in
/// standard (row-major) layout; only the lower triangle is read and written, the
/// strict upper triangle is left as it was.
pub(crate) fn cholesky<T: Real>(a: &mut Array2<T>) -> Result<()> {
    let n = a.nrows();
    if !a.is_standard_layout() {
        return Err(Error::invalid(
            "shift-invert",
            "the factorisation needs a matrix in row-major layout",
        ));
    }
    for k in (0..n).step_by(BLOCK) {
        let kb = BLOCK.min(n - k);
        // 1. Factor the diagonal block, row by row (row i at d[i * kb..]).
        let mut d: Vec<T> = a.slice(s![k..k + kb, k..k + kb]).iter().copied().collect();
        for i in 0..kb {
            let (done, rest) = d.split_at_mut(i * kb);
            let r = &mut rest[..kb];
            for j in 0..i {
                let lj = &done[j * kb..j * kb + kb];
                r[j] = (r[j] - dot(&r[..j], &lj[..j])) / lj[j];
            }
            let v = r[i] - dot(&r[..i], &r[..i]);
            if !(v > T::zero() && v.is_finite()) {
                return Err(Error::invalid(
                    "shift-invert",
                    "the shifted matrix is not positive definite",
                ));
            }
            r[i] = v.sqrt();
        }
        let diag = Array2::from_shape_vec((kb, kb), d)
            .map_err(|e| Error::invalid("shift-invert", e.to_string()))?;
        a.slice_mut(s![k..k + kb, k..k + kb])
            .indexed_iter_mut()
            .filter(|((i, j), _)| j <= i)
            .for_each(|((i, j), v)| *v = diag[[i, j]]);
        if k + kb == n {
            break;
        }
        // 2. Panel below it: rows solve against the diagonal block, independently.
        let rows: Vec<&[T]> = diag
            .outer_iter()
            .map(|r| r.to_slice())
            .collect::<Option<_>>()
            .ok_or_else(|| Error::invalid("shift-invert", "a diagonal block is not contiguous"))?;
        a.slice_mut(s![k + kb.., k..k + kb])
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .for_each(|mut row| {
                let mut r = row.to_vec();
                for (j, lj) in rows.iter().enumerate() {
                    r[j] = (r[j] - dot(&r[..j], &lj[..j])) / lj[j];
                }
                row.assign(&ndarray::ArrayView1::from(&r[..]));
            });
        // 3. Trailing update A22 -= P Pᵀ, by column tiles in parallel.
        let panel = a.slice(s![k + kb.., k..k + kb]).to_owned();
        let mut trailing = a.slice_mut(s![k + kb.., k + kb..]);
        let minus_one = T::zero() - T::one();
        trailing
            .axis_chunks_iter_mut(Axis(1), TILE)
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut tile)| {
                let c0 = t * TILE;
                let cols = tile.ncols();
                let rhs = panel.slice(s![c0..c0 + cols, ..]);
                // Below the tile's diagonal square, whole; in it, the lower triangle
                // only (the strict upper triangle is never written).
                let mut below = tile.slice_mut(s![c0 + cols.., ..]);
                let lhs = panel.slice(s![c0 + cols.., ..]);
                ndarray::linalg::general_mat_mul(minus_one, &lhs, &rhs.t(), T::one(), &mut below);
                let square = rhs.dot(&rhs.t());
                let mut part = tile.slice_mut(s![c0..c0 + cols, ..]);
                for i in 0..cols {
                    for j in 0..=i {
                        part[[i, j]] = part[[i, j]] - square[[i, j]];
                    }
                }
            });
    }
    Ok(())
}

/// Solves `L Lᵀ X = B` for a block of right-hand sides, with `L` from [`cholesky`].
pub(crate) fn solve<T: Real>(l: &Array2<T>, b: ArrayView2<T>) -> Array2<T> {
    let n = l.nrows();
    let mut x = b.to_owned();
    let minus_one = T::zero() - T::one();
    // Forward: L Y = B, in row blocks (the block below uses a matrix product).
    for k in (0..n).step_by(BLOCK) {
        let kb = BLOCK.min(n - k);
        if k > 0 {
            let done = x.slice(s![..k, ..]).to_owned();
            let mut rows = x.slice_mut(s![k..k + kb, ..]);
            ndarray::linalg::general_mat_mul(
                minus_one,
                &l.slice(s![k..k + kb, ..k]),
                &done,
                T::one(),
                &mut rows,
            );
        }
        for i in k..k + kb {
            for p in k..i {
                let f = l[[i, p]];
                let (upper, mut lower) = x.view_mut().split_at(Axis(0), i);
                lower.row_mut(0).scaled_add(T::zero() - f, &upper.row(p));
            }
            let d = l[[i, i]];
            x.row_mut(i).mapv_inplace(|v| v / d);
        }
    }
    // Backward: Lᵀ X = Y.
    let mut k_end = n;
    while k_end > 0 {
        let k = k_end.saturating_sub(BLOCK);
        if k_end < n {
            let done = x.slice(s![k_end.., ..]).to_owned();
            let mut rows = x.slice_mut(s![k..k_end, ..]);
            ndarray::linalg::general_mat_mul(
                minus_one,
                &l.slice(s![k_end.., k..k_end]).t(),
                &done,
                T::one(),
                &mut rows,
            );
        }
        for i in (k..k_end).rev() {
            for p in i + 1..k_end {
                let f = l[[p, i]];
                let (mut upper, lower) = x.view_mut().split_at(Axis(0), i + 1);
                upper
                    .row_mut(i)
                    .scaled_add(T::zero() - f, &lower.row(p - i - 1));
            }
            let d = l[[i, i]];
            x.row_mut(i).mapv_inplace(|v| v / d);
        }
        k_end = k;
    }
    x
}

/// `M · x` for the symmetric `M` with zero diagonal whose strict upper triangle is
/// `sign ·` that of `a`: after [`cholesky`] the lower triangle of `a` holds the
/// factor and the strict upper triangle is untouched. Row blocks in parallel.
pub(crate) fn upper_symmetric_product(
    a: &Array2<f64>,
    x: ArrayView2<f64>,
    sign: f64,
) -> Array2<f64> {
    let n = a.nrows();
    let mut out = Array2::zeros((n, x.ncols()));
    out.axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut rows)| {
            let (r0, r1) = (b * BLOCK, b * BLOCK + rows.nrows());
            // Right of the diagonal block: rows r0..r1 of the upper triangle.
            let right = a.slice(s![r0..r1, r1..]);
            ndarray::linalg::general_mat_mul(sign, &right, &x.slice(s![r1.., ..]), 0.0, &mut rows);
            // Above it: columns r0..r1 of the rows before, transposed.
            let above = a.slice(s![..r0, r0..r1]);
            ndarray::linalg::general_mat_mul(
                sign,
                &above.t(),
                &x.slice(s![..r0, ..]),
                1.0,
                &mut rows,
            );
            // The diagonal block itself, from its upper half.
            for i in r0..r1 {
                for j in r0..r1 {
                    if i != j {
                        let v = a[[i.min(j), i.max(j)]];
                        rows.row_mut(i - r0).scaled_add(sign * v, &x.row(j));
                    }
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_spd_system() {
        let n = 250;
        let m = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0);
        let a = m.dot(&m.t()) + Array2::<f64>::eye(n) * (n as f64);
        let mut l = a.clone();
        cholesky(&mut l).unwrap();
        let b = Array2::from_shape_fn((n, 3), |(i, j)| (i + j) as f64);
        let x = solve(&l, b.view());
        let back = a.dot(&x);
        let err = (&back - &b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-8, "residual {err}");
        let mut bad = -Array2::<f64>::eye(3);
        assert!(cholesky(&mut bad).is_err());
    }

    #[test]
    fn the_upper_triangle_gives_the_symmetric_product() {
        let n = 288;
        let m = Array2::from_shape_fn((n, n), |(i, j)| {
            if i == j {
                0.0
            } else {
                ((i * j + i + j) % 13) as f64 / 13.0
            }
        });
        let m = &m + &m.t();
        let mut a = -&m;
        // The factorisation's writes must not matter.
        for i in 0..n {
            a[[i, i]] += 2.0 * n as f64;
        }
        cholesky(&mut a).unwrap();
        let x = Array2::from_shape_fn((n, 4), |(i, j)| (i as f64 - j as f64).sin());
        let got = upper_symmetric_product(&a, x.view(), -1.0);
        let want = m.dot(&x);
        let err = (&got - &want).iter().fold(0.0f64, |e, v| e.max(v.abs()));
        assert!(err < 1e-11, "{err}");
    }
}
