//! A dense symmetric matrix kept as its upper triangle in row blocks: half the
//! memory of the full square (155 MB instead of 303 MB at n = 6157).
//!
//! Block `b` holds rows `b·R .. b·R + r` from column `b·R` to the end, its diagonal
//! square whole (both halves, so rows of the square are contiguous). An entry
//! below the diagonal, `(i, j)` with `j` in an earlier block, is read as `(j, i)`
//! from that block. Products are computed per output row block, each as matrix
//! products in a fixed order: the same bits for any number of threads.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::cholesky::Real;
use super::thin::{add_product, Tile, LANES};

/// Rows per block.
pub(crate) const ROWS: usize = 128;

/// The upper triangle of a symmetric (or upper triangular) `n × n` matrix in row
/// blocks, in `f64` or (for a Cholesky factor that only preconditions) `f32`.
#[derive(Debug, Clone)]
pub(crate) struct Packed<T = f64> {
    pub(crate) n: usize,
    pub(crate) blocks: Vec<Array2<T>>,
}

impl<T: Copy + Send + Sync> Packed<T> {
    /// The matrix whose block `b` (rows `b·ROWS..`, columns from `b·ROWS` on) is
    /// `block(b, first_row, rows)`; each block must have shape
    /// `(rows, n − first_row)`, a symmetric diagonal square and is computed in
    /// parallel. Blocks of another shape are an error.
    pub(crate) fn from_blocks(
        n: usize,
        block: impl Fn(usize, usize, usize) -> Array2<T> + Sync,
    ) -> Option<Packed<T>> {
        let blocks: Vec<Array2<T>> = (0..n.div_ceil(ROWS))
            .into_par_iter()
            .map(|b| {
                let r0 = b * ROWS;
                block(b, r0, ROWS.min(n - r0))
            })
            .collect();
        Packed::new(n, blocks)
    }

    /// The matrix of these row blocks (block `b` of shape `(rows, n − b·ROWS)`);
    /// `None` when a block has another shape or blocks are missing.
    /// Blocks are kept in standard (row-major) layout.
    pub(crate) fn new(n: usize, blocks: Vec<Array2<T>>) -> Option<Packed<T>> {
        let blocks: Vec<Array2<T>> = blocks
            .into_iter()
            .map(|m| {
                if m.is_standard_layout() {
                    m
                } else {
                    m.as_standard_layout().into_owned()
                }
            })
            .collect();
        let shapes_ok = blocks.len() == n.div_ceil(ROWS)
            && blocks.iter().enumerate().all(|(b, m)| {
                let r0 = b * ROWS;
                m.dim() == (ROWS.min(n - r0), n - r0)
            });
        shapes_ok.then_some(Packed { n, blocks })
    }

    /// Order of the matrix.
    pub(crate) fn order(&self) -> usize {
        self.n
    }

    /// The row blocks, each with its first row.
    pub(crate) fn blocks(&self) -> impl Iterator<Item = (usize, &Array2<T>)> {
        self.blocks.iter().enumerate().map(|(b, m)| (b * ROWS, m))
    }

    /// The row blocks for changing in place (in parallel), each with its first row.
    pub(crate) fn blocks_mut(
        &mut self,
    ) -> impl IndexedParallelIterator<Item = (usize, &mut Array2<T>)> {
        self.blocks
            .par_iter_mut()
            .enumerate()
            .map(|(b, m)| (b * ROWS, m))
    }

    /// Calls `f(j, value)` for every entry of row `i`, by increasing `j`.
    pub(crate) fn visit_row(&self, i: usize, mut f: impl FnMut(usize, T)) {
        let own = i / ROWS;
        let Some(block) = self.blocks.get(own) else {
            return;
        };
        for (c, earlier) in self.blocks[..own].iter().enumerate() {
            let r0 = c * ROWS;
            for (r, v) in earlier.column(i - r0).iter().enumerate() {
                f(r0 + r, *v);
            }
        }
        let r0 = own * ROWS;
        for (c, v) in block.row(i - r0).iter().enumerate() {
            f(r0 + c, *v);
        }
    }
}

impl Packed<f64> {
    /// `self · x` for a block of column vectors.
    ///
    /// Each stored entry is read once (the product is limited by reading the
    /// matrix): block `b` gives the products of its own rows, and from the part
    /// right of its diagonal square, read again [`GROUP`] rows at a time while
    /// they are in cache, what it adds to the rows of later blocks. Row block `j`
    /// is then its own products plus what the earlier blocks add, in block order.
    pub(crate) fn matmul(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let nc = x.ncols();
        // Blocks are in standard layout (`new`), so the tiles fit; a tile that did
        // not would give NaN, which the eigen-solver reports as an error.
        let failed = || Array2::from_elem((self.n, nc), f64::NAN);
        let Some((padded, width)) = padded_rows(x) else {
            return failed();
        };
        type Parts = (Vec<f64>, Vec<f64>);
        let parts: Option<Vec<Parts>> = self
            .blocks
            .par_iter()
            .enumerate()
            .map(|(b, block)| {
                let (r0, rows, stride) = (b * ROWS, block.nrows(), block.ncols());
                let data = block.as_slice()?;
                let mut own = vec![0.0; rows * width];
                let mut later = vec![0.0; (stride - rows) * width];
                // Columns in chunks, so that the part of `later` they update stays in
                // cache while every group of rows adds to it.
                for c0 in (0..stride).step_by(CHUNK) {
                    let c1 = (c0 + CHUNK).min(stride);
                    for g in (0..rows).step_by(GROUP) {
                        let h = GROUP.min(rows - g);
                        let tile = Tile {
                            data: data.get(g * stride + c0..)?,
                            rows: h,
                            depth: c1 - c0,
                            row_step: stride,
                            col_step: 1,
                        };
                        let xs = padded.get((r0 + c0) * width..)?;
                        add_product(tile, xs, width, own.get_mut(g * width..)?).then_some(())?;
                        let from = c0.max(rows);
                        if c1 > from {
                            let right = Tile {
                                data: data.get(g * stride + from..)?,
                                rows: c1 - from,
                                depth: h,
                                row_step: 1,
                                col_step: stride,
                            };
                            let xs = padded.get((r0 + g) * width..)?;
                            let out = later.get_mut((from - rows) * width..)?;
                            add_product(right, xs, width, out).then_some(())?;
                        }
                    }
                }
                Some((own, later))
            })
            .collect();
        let Some(parts) = parts else {
            return failed();
        };
        let mut result = Array2::zeros((self.n, nc));
        result
            .axis_chunks_iter_mut(Axis(0), ROWS)
            .into_par_iter()
            .zip(&parts)
            .enumerate()
            .for_each(|(j, (mut rows, (own, _)))| {
                let mut acc = own.clone();
                for (b, (_, later)) in parts[..j].iter().enumerate() {
                    // Block b's later rows start after its own, at (b + 1) · ROWS.
                    let from = (j - b - 1) * ROWS * width;
                    if let Some(add) = later.get(from..from + acc.len()) {
                        for (a, v) in acc.iter_mut().zip(add) {
                            *a += *v;
                        }
                    }
                }
                for (row, src) in rows.outer_iter_mut().zip(acc.chunks_exact(width)) {
                    for (o, v) in row.into_iter().zip(src) {
                        *o = *v;
                    }
                }
            });
        result
    }
}

/// Rows of a block read together by [`Packed::matmul`] (kept in cache between
/// their two uses).
const GROUP: usize = 8;
/// Columns of a block per pass of [`Packed::matmul`]: the part of the transposed
/// products they update (`CHUNK` rows of up to 24 vectors) stays in a core's cache.
const CHUNK: usize = 2048;

/// The rows of `x`, each padded with zeros to a whole number of [`LANES`], in one
/// contiguous buffer, with the padded width.
pub(crate) fn padded_rows<T: Real>(x: ArrayView2<T>) -> Option<(Vec<T>, usize)> {
    let width = x.ncols().div_ceil(LANES).max(1) * LANES;
    let mut padded = vec![T::zero(); x.nrows().checked_mul(width)?];
    for (row, src) in padded.chunks_exact_mut(width).zip(x.outer_iter()) {
        for (d, v) in row.iter_mut().zip(src) {
            *d = *v;
        }
    }
    Some((padded, width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    #[test]
    fn rows_and_products_match_the_full_matrix() {
        // Blocks wider than a column chunk, the last one short.
        let n = CHUNK + 2 * ROWS + 37;
        let full = Array2::from_shape_fn((n, n), |(i, j)| {
            let (a, b) = (i.min(j) as f64, i.max(j) as f64);
            (a * 0.37 + b * 0.11).sin()
        });
        let packed = Packed::from_blocks(n, |_, r0, rows| {
            full.slice(s![r0..r0 + rows, r0..]).to_owned()
        })
        .unwrap();
        for i in [0, 5, ROWS - 1, ROWS, n - 1] {
            let mut row = Vec::new();
            packed.visit_row(i, |j, v| row.push((j, v)));
            assert_eq!(row.len(), n);
            assert!(row.iter().all(|(j, v)| *v == full[[i, *j]]), "row {i}");
        }
        let x = Array2::from_shape_fn((n, 5), |(i, j)| ((i * 3 + j) % 7) as f64 - 3.0);
        let got = packed.matmul(x.view());
        let want = full.dot(&x);
        let err = (&got - &want).iter().fold(0.0f64, |e, v| e.max(v.abs()));
        assert!(err < 1e-10, "{err}");
        // A block of the wrong shape is refused.
        assert!(Packed::from_blocks(n, |_, _, rows| Array2::<f64>::zeros((rows, 3))).is_none());
    }
}
