//! The leading eigenvectors of the normalised affinity by shift-and-invert, for
//! problems small enough to hold densely (n ≤ [`DENSE_LIMIT`]).
//!
//! With gamma = 1/n_features on rainfall the leading eigenvalues of `M` crowd
//! against 1 (gaps of 1e-5), and plain iterations on `M` need hundreds of steps.
//! `(σI − M)^-1` with `σ` just above 1 maps them to 1/(σ − λ): 1e7, 1.6e5, 5e4, ...,
//! far apart, so a handful of subspace iterations converge. `σI − M` is symmetric
//! positive definite; its Cholesky factor is computed once, in blocks, on all cores.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Largest problem factorised densely (8 bytes × n² of memory: 512 MB at 8000).
pub(crate) const DENSE_LIMIT: usize = 8000;
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

/// Leading eigenpairs found by shift-and-invert subspace iteration.
pub(crate) struct Eigenpairs {
    /// Eigenvalues of `M`, largest first.
    pub values: Vec<f64>,
    /// Eigenvectors (columns), in the same order.
    pub vectors: Array2<f64>,
    /// Upper bounds of `|M v − λ v|`.
    pub residuals: Vec<f64>,
    pub converged: bool,
}

/// Orthonormal columns spanning those of `x` (modified Gram-Schmidt, twice).
fn orthonormalise(x: &mut Array2<f64>) {
    for _ in 0..2 {
        for j in 0..x.ncols() {
            for p in 0..j {
                let proj = x.column(p).dot(&x.column(j));
                let q = x.column(p).to_owned();
                x.column_mut(j).scaled_add(-proj, &q);
            }
            let norm = x.column(j).dot(&x.column(j)).sqrt();
            if norm > 0.0 {
                x.column_mut(j).mapv_inplace(|v| v / norm);
            }
        }
    }
}

/// The leading eigenpairs of the symmetric `m` (eigenvalues at most 1), as many as
/// `start` has columns, iterating until the first `wanted` meet `tol`. Consumes `m`,
/// which becomes the Cholesky factor of `(1 + shift) I − m`.
pub(crate) fn leading_eigenpairs(
    mut m: Array2<f64>,
    start: Array2<f64>,
    shift: f64,
    wanted: usize,
    tol: f64,
    max_iter: usize,
) -> Result<Eigenpairs> {
    use linfa_linalg::eigh::EighInto;
    let n = m.nrows();
    let sigma = 1.0 + shift;
    m.mapv_inplace(|v| -v);
    for i in 0..n {
        m[[i, i]] += sigma;
    }
    cholesky(&mut m)?;
    let mut x = start;
    orthonormalise(&mut x);
    let mut result = None;
    for _ in 0..max_iter {
        let z = solve(&m, x.view());
        // Rayleigh-Ritz on the inverse operator.
        let t = x.t().dot(&z);
        let t = (&t + &t.t()) * 0.5;
        let (theta, v) = t
            .eigh_into()
            .map_err(|e| Error::invalid("shift-invert", e.to_string()))?;
        let mut order: Vec<usize> = (0..theta.len()).collect();
        order.sort_by(|a, b| theta[*b].total_cmp(&theta[*a]));
        let v = v.select(Axis(1), &order);
        let theta: Vec<f64> = order.iter().map(|i| theta[*i]).collect();
        let ritz = x.dot(&v);
        let zv = z.dot(&v);
        // |S^-1 u − θ u| bounds |M u − λ u| by (σ + 1)|…|/θ.
        let residuals: Vec<f64> = (0..theta.len())
            .map(|c| {
                let r = &zv.column(c) - &(&ritz.column(c) * theta[c]);
                (sigma + 1.0) * r.dot(&r).sqrt() / theta[c].abs().max(f64::MIN_POSITIVE)
            })
            .collect();
        let values: Vec<f64> = theta.iter().map(|t| sigma - 1.0 / t).collect();
        let converged = residuals.iter().take(wanted).all(|r| *r < tol);
        result = Some(Eigenpairs {
            values,
            vectors: ritz.clone(),
            residuals,
            converged,
        });
        if converged {
            break;
        }
        x = zv;
        orthonormalise(&mut x);
    }
    result.ok_or_else(|| Error::invalid("shift-invert", "no iteration ran"))
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
}
