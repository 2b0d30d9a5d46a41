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

/// In-place lower Cholesky factor of a symmetric positive definite matrix (only the
/// lower triangle is read and written).
pub(crate) fn cholesky(a: &mut Array2<f64>) -> Result<()> {
    let n = a.nrows();
    for k in (0..n).step_by(BLOCK) {
        let kb = BLOCK.min(n - k);
        // 1. Factor the diagonal block.
        for j in k..k + kb {
            let mut d = a[[j, j]];
            for p in k..j {
                d -= a[[j, p]] * a[[j, p]];
            }
            if d <= 0.0 || !d.is_finite() {
                return Err(Error::invalid(
                    "shift-invert",
                    "the shifted matrix is not positive definite",
                ));
            }
            let d = d.sqrt();
            a[[j, j]] = d;
            for i in j + 1..k + kb {
                let mut v = a[[i, j]];
                for p in k..j {
                    v -= a[[i, p]] * a[[j, p]];
                }
                a[[i, j]] = v / d;
            }
        }
        if k + kb == n {
            break;
        }
        // 2. Panel below it: rows solve against the diagonal block, independently.
        let diag = a.slice(s![k..k + kb, k..k + kb]).to_owned();
        {
            let mut panel = a.slice_mut(s![k + kb.., k..k + kb]);
            panel
                .axis_iter_mut(Axis(0))
                .into_par_iter()
                .for_each(|mut row| {
                    for j in 0..kb {
                        let mut v = row[j];
                        for p in 0..j {
                            v -= row[p] * diag[[j, p]];
                        }
                        row[j] = v / diag[[j, j]];
                    }
                });
        }
        // 3. Trailing update A22 -= P Pᵀ, by column tiles in parallel.
        let panel = a.slice(s![k + kb.., k..k + kb]).to_owned();
        let mut trailing = a.slice_mut(s![k + kb.., k + kb..]);
        trailing
            .axis_chunks_iter_mut(Axis(1), BLOCK)
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut tile)| {
                let c0 = t * BLOCK;
                let cols = tile.ncols();
                // Only rows at or below the tile's first column (lower triangle).
                let mut part = tile.slice_mut(s![c0.., ..]);
                let lhs = panel.slice(s![c0.., ..]);
                let rhs = panel.slice(s![c0..c0 + cols, ..]);
                ndarray::linalg::general_mat_mul(-1.0, &lhs, &rhs.t(), 1.0, &mut part);
            });
    }
    Ok(())
}

/// Solves `L Lᵀ X = B` for a block of right-hand sides, with `L` from [`cholesky`].
pub(crate) fn solve(l: &Array2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut x = b.to_owned();
    // Forward: L Y = B, in row blocks (the block below uses a matrix product).
    for k in (0..n).step_by(BLOCK) {
        let kb = BLOCK.min(n - k);
        if k > 0 {
            let done = x.slice(s![..k, ..]).to_owned();
            let mut rows = x.slice_mut(s![k..k + kb, ..]);
            ndarray::linalg::general_mat_mul(
                -1.0,
                &l.slice(s![k..k + kb, ..k]),
                &done,
                1.0,
                &mut rows,
            );
        }
        for i in k..k + kb {
            for p in k..i {
                let f = l[[i, p]];
                let (upper, mut lower) = x.view_mut().split_at(Axis(0), i);
                lower.row_mut(0).scaled_add(-f, &upper.row(p));
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
                -1.0,
                &l.slice(s![k_end.., k..k_end]).t(),
                &done,
                1.0,
                &mut rows,
            );
        }
        for i in (k..k_end).rev() {
            for p in i + 1..k_end {
                let f = l[[p, i]];
                let (mut upper, lower) = x.view_mut().split_at(Axis(0), i + 1);
                upper.row_mut(i).scaled_add(-f, &lower.row(p - i - 1));
            }
            let d = l[[i, i]];
            x.row_mut(i).mapv_inplace(|v| v / d);
        }
        k_end = k;
    }
    x
}

/// The diagonal blocks of `a` that [`cholesky`] overwrites whole (its trailing
/// updates run by tiles of `BLOCK` columns), kept for [`upper_symmetric_product`].
pub(crate) fn diagonal_blocks(a: &Array2<f64>) -> Vec<Array2<f64>> {
    let n = a.nrows();
    (0..n)
        .step_by(BLOCK)
        .map(|r0| {
            a.slice(s![r0..(r0 + BLOCK).min(n), r0..(r0 + BLOCK).min(n)])
                .to_owned()
        })
        .collect()
}

/// `M · x` for the symmetric `M` with zero diagonal whose strict upper triangle is
/// `sign ·` that of `a`, read outside the diagonal blocks and from `diag` (from
/// [`diagonal_blocks`]) inside them: after [`cholesky`] the rest of `a` holds the
/// factor. Row blocks in parallel.
pub(crate) fn upper_symmetric_product(
    a: &Array2<f64>,
    diag: &[Array2<f64>],
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
            let block = &diag[b];
            for i in r0..r1 {
                for j in r0..r1 {
                    if i != j {
                        let v = block[[i.min(j) - r0, i.max(j) - r0]];
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
        let diag = diagonal_blocks(&a);
        // The factorisation's writes must not matter.
        for i in 0..n {
            a[[i, i]] += 2.0 * n as f64;
        }
        cholesky(&mut a).unwrap();
        let x = Array2::from_shape_fn((n, 4), |(i, j)| (i as f64 - j as f64).sin());
        let got = upper_symmetric_product(&a, &diag, x.view(), -1.0);
        let want = m.dot(&x);
        let err = (&got - &want).iter().fold(0.0f64, |e, v| e.max(v.abs()));
        assert!(err < 1e-11, "{err}");
    }
}
