//! Products of a matrix tile with a thin block of vectors, `out += A · X`, where
//! `X` has a few columns (the eigen-solver's block, 8 to 24) and `A` is a tile of a
//! packed matrix, read in place either way round.
//!
//! A general matrix product copies (packs) both operands into its own layout first;
//! for a thin `X` that copy of `A` costs as much as the product, and `A` (the whole
//! affinity, or the whole factor) is read once per product anyway. Here `A` is read
//! where it lies: four of its rows at a time against eight columns of `X`, the
//! partial sums in registers, each one summed over `A`'s columns in order. The
//! result does not depend on how the caller splits the work between threads. On
//! processors with AVX2 and FMA the same code is compiled for them (fused
//! multiply-adds; a machine without them gets the plain sums, so its last bits may
//! differ, never from one run to the next).

use super::cholesky::Real;

/// Columns of `X` per pass: the width of the register tiles.
pub(crate) const LANES: usize = 8;
/// Rows of `A` per register tile.
const ROWS: usize = 4;

/// A tile of a row-major matrix: entry `(i, p)` is `data[i * row_step + p * col_step]`,
/// for `i < rows`, `p < depth`. `col_step = 1` reads a block as it is stored,
/// `row_step = 1` reads it transposed.
#[derive(Clone, Copy)]
pub(crate) struct Tile<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub depth: usize,
    pub row_step: usize,
    pub col_step: usize,
}

impl<T> Tile<'_, T> {
    /// Whether every entry lies inside `data`.
    fn fits(&self) -> bool {
        if self.rows == 0 || self.depth == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_step)
            .zip((self.depth - 1).checked_mul(self.col_step))
            .and_then(|(a, b)| a.checked_add(b));
        last.is_some_and(|l| l < self.data.len())
    }
}

/// `out += A · X` for `X` (`depth × width`, rows of `width` entries, `width` a
/// multiple of [`LANES`]) and `out` (`rows × width`, the same layout). Returns
/// `false` (and changes nothing) when the shapes do not agree.
pub(crate) fn add_product<T: Real>(a: Tile<T>, x: &[T], width: usize, out: &mut [T]) -> bool {
    let ok =
        width % LANES == 0 && a.fits() && x.len() >= a.depth * width && out.len() >= a.rows * width;
    if !ok {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the processor has the features the function is compiled for.
            unsafe { add_product_fma(a, x, width, out) };
            return true;
        }
    }
    add_product_with::<T, false>(a, x, width, out);
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn add_product_fma<T: Real>(a: Tile<T>, x: &[T], width: usize, out: &mut [T]) {
    add_product_with::<T, true>(a, x, width, out);
}

#[inline(always)]
fn add_product_with<T: Real, const FMA: bool>(a: Tile<T>, x: &[T], width: usize, out: &mut [T]) {
    let mut i = 0;
    while i + ROWS <= a.rows {
        tile_rows::<T, ROWS, FMA>(a, i, x, width, out);
        i += ROWS;
    }
    while i < a.rows {
        tile_rows::<T, 1, FMA>(a, i, x, width, out);
        i += 1;
    }
}

/// Rows `i0..i0 + R` of `out += A · X`, [`LANES`] columns at a time.
#[inline(always)]
fn tile_rows<T: Real, const R: usize, const FMA: bool>(
    a: Tile<T>,
    i0: usize,
    x: &[T],
    width: usize,
    out: &mut [T],
) {
    for c0 in (0..width).step_by(LANES) {
        let mut acc = [[T::zero(); LANES]; R];
        for p in 0..a.depth {
            let xs: &[T; LANES] = match x[p * width + c0..p * width + c0 + LANES].try_into() {
                Ok(row) => row,
                Err(_) => return,
            };
            for (r, lane) in acc.iter_mut().enumerate() {
                let v = a.data[(i0 + r) * a.row_step + p * a.col_step];
                for (s, xv) in lane.iter_mut().zip(xs) {
                    *s = if FMA {
                        v.mul_add(*xv, *s)
                    } else {
                        *s + v * *xv
                    };
                }
            }
        }
        for (r, lane) in acc.iter().enumerate() {
            let row = &mut out[(i0 + r) * width + c0..(i0 + r) * width + c0 + LANES];
            for (o, s) in row.iter_mut().zip(lane) {
                *o = *o + *s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_a_plain_loop_both_ways_round() {
        // 7 × 5 stored row-major (row length 9, so columns 5..9 are outside the tile).
        let (rows, depth, stride, width) = (7, 5, 9, 16);
        let data: Vec<f64> = (0..rows * stride)
            .map(|v| (v as f64 * 0.37).sin())
            .collect();
        let x: Vec<f64> = (0..depth.max(rows) * width)
            .map(|v| (v as f64 * 0.11).cos())
            .collect();
        let tile = Tile {
            data: &data,
            rows,
            depth,
            row_step: stride,
            col_step: 1,
        };
        let mut out = vec![1.0; rows * width];
        assert!(add_product(tile, &x, width, &mut out));
        for i in 0..rows {
            for c in 0..width {
                let want: f64 = 1.0
                    + (0..depth)
                        .map(|p| data[i * stride + p] * x[p * width + c])
                        .sum::<f64>();
                assert!((out[i * width + c] - want).abs() < 1e-12);
            }
        }
        // Transposed: entry (i, p) is data[p * stride + i], i < 5, p < 7.
        let t = Tile {
            data: &data,
            rows: depth,
            depth: rows,
            row_step: 1,
            col_step: stride,
        };
        let mut out = vec![0.0; depth * width];
        assert!(add_product(t, &x, width, &mut out));
        for i in 0..depth {
            for c in 0..width {
                let want: f64 = (0..rows)
                    .map(|p| data[p * stride + i] * x[p * width + c])
                    .sum();
                assert!((out[i * width + c] - want).abs() < 1e-12);
            }
        }
        // A tile reaching outside its data, or a width that is not whole lanes, is refused.
        let bad = Tile { rows: 8, ..tile };
        assert!(!add_product(bad, &x, width, &mut vec![0.0; 8 * width]));
        assert!(!add_product(tile, &x, 12, &mut vec![0.0; rows * 12]));
    }
}
