//! A dense symmetric matrix kept as its upper triangle in row blocks: half the
//! memory of the full square (155 MB instead of 303 MB at n = 6157).
//!
//! Block `b` holds rows `b·R .. b·R + r` from column `b·R` to the end, its diagonal
//! square whole (both halves, so rows of the square are contiguous). An entry
//! below the diagonal, `(i, j)` with `j` in an earlier block, is read as `(j, i)`
//! from that block. Products are computed per output row block, each as matrix
//! products in a fixed order: the same bits for any number of threads.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

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
        let shapes_ok = blocks.iter().enumerate().all(|(b, m)| {
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
    pub(crate) fn matmul(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((self.n, x.ncols()));
        out.axis_chunks_iter_mut(Axis(0), ROWS)
            .into_par_iter()
            .zip(&self.blocks)
            .enumerate()
            .for_each(|(b, (mut rows, block))| {
                let r0 = b * ROWS;
                let r1 = r0 + rows.nrows();
                // Columns of earlier blocks, transposed, then this block's own rows.
                for (c, earlier) in self.blocks[..b].iter().enumerate() {
                    let c0 = c * ROWS;
                    let part = earlier.slice(s![.., r0 - c0..r1 - c0]);
                    let xs = x.slice(s![c0..c0 + earlier.nrows(), ..]);
                    ndarray::linalg::general_mat_mul(1.0, &part.t(), &xs, 1.0, &mut rows);
                }
                ndarray::linalg::general_mat_mul(
                    1.0,
                    block,
                    &x.slice(s![r0.., ..]),
                    1.0,
                    &mut rows,
                );
            });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_products_match_the_full_matrix() {
        // Three blocks, the last one short.
        let n = 2 * ROWS + 37;
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
