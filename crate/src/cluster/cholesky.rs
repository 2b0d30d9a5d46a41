//! Dense Cholesky factors for shift-and-invert when the affinity graph is dense but
//! its leading eigenvalues crowd against 1.
//!
//! The factor is upper triangular, `S = Uᵀ U`, and takes the place of `S` in the
//! packed row blocks of [`Packed`] (half the memory of a square). It is computed
//! in blocks: the diagonal square by hand, the row panel right of it by column
//! chunks in parallel, the later blocks by matrix products in parallel. Each entry
//! is computed by the same sequence of operations whatever the number of threads.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::packed::{padded_rows, Packed, ROWS};
use super::thin::{add_product, Tile};
use crate::error::{Error, Result};

/// Entries of the factor (and of the matrix factored) smaller than this are set to
/// zero. Beside a diagonal near 1 they change nothing in either precision, and
/// products of such entries underflow into subnormal numbers, which the processor
/// handles about a hundred times slower: with them the single-precision factor of
/// the tutorial's box took 80 s instead of a few.
pub(crate) const FLUSH: f64 = 1e-15;

/// `v` in `T`, or zero when it is below [`FLUSH`].
pub(crate) fn flushed<T: Real>(v: f64) -> T {
    if v.abs() < FLUSH {
        T::zero()
    } else {
        T::from_f64(v)
    }
}

/// Columns per task of the panel solve.
const PANEL_COLS: usize = 256;
/// Columns per task of the updates of later row blocks in [`cholesky`].
const UPDATE_COLS: usize = 512;
/// Rows per task of the updates in [`solve`].
const SOLVE_ROWS: usize = 512;

/// The float types the factorisation runs in: `f64`, or `f32` for a factor that
/// only preconditions (half the memory, twice the vector width).
pub(crate) trait Real:
    ndarray::LinalgScalar + PartialOrd + Send + Sync + std::fmt::Debug
{
    fn sqrt(self) -> Self;
    fn is_finite(self) -> bool;
    /// The nearest value of this type.
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// `self · a + b`, rounded once.
    fn mul_add(self, a: Self, b: Self) -> Self;
}

impl Real for f64 {
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn mul_add(self, a: f64, b: f64) -> f64 {
        f64::mul_add(self, a, b)
    }
}

impl Real for f32 {
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn mul_add(self, a: f32, b: f32) -> f32 {
        f32::mul_add(self, a, b)
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

/// In place, the lower Cholesky factor of a small symmetric positive definite
/// matrix (`kb × kb`, row-major, lower triangle read and written), row by row.
fn square_cholesky<T: Real>(d: &mut [T], kb: usize) -> Result<()> {
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
    Ok(())
}

/// Row blocks factored together before the rows below them are updated: the
/// update of those rows is then one product of depth `FACTOR_GROUP · ROWS` instead of
/// `FACTOR_GROUP` products of depth `ROWS`, so the trailing rows are read and written
/// `FACTOR_GROUP` times less often.
const FACTOR_GROUP: usize = 2;

/// In place, the upper Cholesky factor `S = Uᵀ U` of the symmetric positive
/// definite `S` given by its upper triangle in row blocks ([`Packed`]). Only the
/// upper triangle of each diagonal square is read and written.
///
/// Right-looking, [`FACTOR_GROUP`] row blocks at a time. Within a group each block in turn
/// has its diagonal square factored by hand, its row panel solved against the
/// square by column chunks in parallel, and the group's later blocks updated by it.
/// Then every row block after the group loses the group's contribution
/// (`S_J −= U_GJᵀ U_G`, [`subtract_products`] on the group's rows stacked).
pub(crate) fn cholesky<T: Real>(a: &mut Packed<T>) -> Result<()> {
    let nb = a.blocks.len();
    for g in (0..nb).step_by(FACTOR_GROUP) {
        let end = (g + FACTOR_GROUP).min(nb);
        for k in g..end {
            let (upto, rest) = a.blocks.split_at_mut(k + 1);
            factor_block(&mut upto[k])?;
            // The group's later blocks lose U_Kᵀ U_K.
            let kb = upto[k].nrows();
            subtract_products(upto[k].slice(s![.., kb..]), &mut rest[..end - k - 1]);
        }
        if end == nb {
            break;
        }
        // The group's rows, from the first column after the group on, stacked.
        let (group, later) = a.blocks[g..].split_at_mut(end - g);
        let from = end * ROWS;
        let width = a.n - from;
        let depth: usize = group.iter().map(|b| b.nrows()).sum();
        let mut stacked = Array2::<T>::zeros((depth, width));
        let mut row = 0;
        for (i, block) in group.iter().enumerate() {
            let first = from - (g + i) * ROWS;
            stacked
                .slice_mut(s![row..row + block.nrows(), ..])
                .assign(&block.slice(s![.., first..]));
            row += block.nrows();
        }
        subtract_products(stacked.view(), later);
    }
    Ok(())
}

/// Row block `J` of `blocks` (columns from `J · ROWS` of `panel` on) loses
/// `panel_Jᵀ panel`: the update that rows already factored, whose part right of
/// their own columns is `panel`, owe the blocks after them. One product per block
/// and chunk of [`UPDATE_COLS`] columns, all in parallel; the chunks are fixed, so
/// the bits do not depend on the number of threads.
fn subtract_products<T: Real>(panel: ArrayView2<T>, blocks: &mut [Array2<T>]) {
    let minus_one = T::zero() - T::one();
    blocks.par_iter_mut().enumerate().for_each(|(jj, block)| {
        let off = jj * ROWS;
        let lhs = panel.slice(s![.., off..off + block.nrows()]);
        let rhs = panel.slice(s![.., off..]);
        block
            .axis_chunks_iter_mut(Axis(1), UPDATE_COLS)
            .into_par_iter()
            .zip(rhs.axis_chunks_iter(Axis(1), UPDATE_COLS))
            .for_each(|(mut out, rhs)| {
                ndarray::linalg::general_mat_mul(minus_one, &lhs.t(), &rhs, T::one(), &mut out);
            });
    });
}

/// Factors one row block whose earlier rows' contributions have been taken off:
/// its diagonal square by hand, then its row panel `U_KKᵀ⁻¹ S_K,rest` by forward
/// substitution on column chunks in parallel.
fn factor_block<T: Real>(uk: &mut Array2<T>) -> Result<()> {
    let kb = uk.nrows();
    // 1. The diagonal square: U_KK = Lᵀ for the lower factor L of its transpose.
    let mut d = vec![T::zero(); kb * kb];
    for i in 0..kb {
        for j in 0..=i {
            d[i * kb + j] = uk[[j, i]];
        }
    }
    square_cholesky(&mut d, kb)?;
    for i in 0..kb {
        for j in 0..=i {
            uk[[j, i]] = flushed(d[i * kb + j].to_f64());
        }
    }
    // 2. The row panel, forward substitution on column chunks.
    let (square, mut panel) = uk.view_mut().split_at(Axis(1), kb);
    let square = square.view();
    panel
        .axis_chunks_iter_mut(Axis(1), PANEL_COLS)
        .into_par_iter()
        .for_each(|mut cols| {
            for i in 0..kb {
                let (done, mut rest) = cols.view_mut().split_at(Axis(0), i);
                let mut row = rest.row_mut(0);
                for p in 0..i {
                    row.scaled_add(T::zero() - square[[p, i]], &done.row(p));
                }
                let d = square[[i, i]];
                row.mapv_inplace(|v| flushed((v / d).to_f64()));
            }
        });
    Ok(())
}

/// Solves `Uᵀ U X = B` for a block of right-hand sides, with `U` from [`cholesky`].
///
/// Both sweeps go block by block: the small triangle on the diagonal by hand, the
/// rest as products with the factor's blocks read in place ([`add_product`]), over
/// fixed chunks of [`SOLVE_ROWS`] rows in parallel (partial sums added in chunk
/// order), so every entry sees the same operations in the same order whatever the
/// number of threads. The right-hand sides are held padded to whole lanes.
pub(crate) fn solve<T: Real>(u: &Packed<T>, b: ArrayView2<T>) -> Array2<T> {
    let (n, nc) = b.dim();
    let failed = || Array2::from_elem((n, nc), T::from_f64(f64::NAN));
    let Some((mut x, w)) = padded_rows(b) else {
        return failed();
    };
    let mut ok = true;
    // Forward: Uᵀ Y = B, from the first block down.
    for (k, uk) in u.blocks.iter().enumerate() {
        let (r0, kb, stride) = (k * ROWS, uk.nrows(), uk.ncols());
        let Some(data) = uk.as_slice() else {
            return failed();
        };
        for i in 0..kb {
            let (done, rest) = x.split_at_mut((r0 + i) * w);
            let row = &mut rest[..w];
            for p in 0..i {
                let f = T::zero() - data[p * stride + i];
                for (v, d) in row.iter_mut().zip(&done[(r0 + p) * w..(r0 + p + 1) * w]) {
                    *v = *v + f * *d;
                }
            }
            let d = data[i * stride + i];
            row.iter_mut().for_each(|v| *v = *v / d);
        }
        let (solved, below) = x.split_at_mut((r0 + kb) * w);
        let minus_yk: Vec<T> = solved[r0 * w..].iter().map(|v| T::zero() - *v).collect();
        ok &= below
            .par_chunks_mut(SOLVE_ROWS * w)
            .enumerate()
            .map(|(c, rows)| {
                let tile = Tile {
                    data: data.get(kb + c * SOLVE_ROWS..).unwrap_or_default(),
                    rows: rows.len() / w,
                    depth: kb,
                    row_step: 1,
                    col_step: stride,
                };
                add_product(tile, &minus_yk, w, rows)
            })
            .reduce(|| true, |a, b| a && b);
    }
    // Backward: U X = Y, from the last block up.
    for (k, uk) in u.blocks.iter().enumerate().rev() {
        let (r0, kb, stride) = (k * ROWS, uk.nrows(), uk.ncols());
        let Some(data) = uk.as_slice() else {
            return failed();
        };
        let (head, solved) = x.split_at_mut((r0 + kb) * w);
        let later = solved.len() / w;
        let parts: Vec<Option<Vec<T>>> = (0..later.div_ceil(SOLVE_ROWS))
            .into_par_iter()
            .map(|c| {
                let c0 = c * SOLVE_ROWS;
                let tile = Tile {
                    data: data.get(kb + c0..).unwrap_or_default(),
                    rows: kb,
                    depth: SOLVE_ROWS.min(later - c0),
                    row_step: stride,
                    col_step: 1,
                };
                let mut part = vec![T::zero(); kb * w];
                add_product(tile, &solved[c0 * w..], w, &mut part).then_some(part)
            })
            .collect();
        let xk = &mut head[r0 * w..];
        for part in parts {
            let Some(part) = part else {
                return failed();
            };
            for (v, p) in xk.iter_mut().zip(&part) {
                *v = *v - *p;
            }
        }
        for i in (0..kb).rev() {
            let (upper, lower) = xk.split_at_mut((i + 1) * w);
            let row = &mut upper[i * w..];
            for p in i + 1..kb {
                let f = T::zero() - data[i * stride + p];
                for (v, d) in row.iter_mut().zip(&lower[(p - i - 1) * w..(p - i) * w]) {
                    *v = *v + f * *d;
                }
            }
            let d = data[i * stride + i];
            row.iter_mut().for_each(|v| *v = *v / d);
        }
    }
    if !ok {
        return failed();
    }
    Array2::from_shape_fn((n, nc), |(i, c)| x[i * w + c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_spd_system() {
        // Several blocks, several panel chunks and several solve chunks; the last
        // block short.
        let n = 2 * SOLVE_ROWS + 77;
        let m = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0);
        let a = m.dot(&m.t()) + Array2::<f64>::eye(n) * (n as f64);
        let mut u =
            Packed::from_blocks(n, |_, r0, rows| a.slice(s![r0..r0 + rows, r0..]).to_owned())
                .unwrap();
        cholesky(&mut u).unwrap();
        let b = Array2::from_shape_fn((n, 3), |(i, j)| (i + j) as f64);
        let x = solve(&u, b.view());
        let back = a.dot(&x);
        let err = (&back - &b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-8, "residual {err}");
        let mut bad = Packed::from_blocks(3, |_, _, _| -Array2::<f64>::eye(3)).unwrap();
        assert!(cholesky(&mut bad).is_err());
    }
}
