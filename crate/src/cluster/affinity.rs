//! The normalised RBF affinity `D^-1/2 A D^-1/2` of scikit-learn's spectral
//! clustering, built without ever holding the dense n × n matrix.
//!
//! `A_ij = exp(-gamma |x_i - x_j|^2)` off the diagonal (scipy's Laplacian ignores
//! self-loops); `d_i = sum_j A_ij`. Pass one computes the degrees exactly; pass two
//! keeps the normalised entries of at least [`KEEP`]. Every dropped entry is below
//! `KEEP`, so each row loses less than `n * KEEP` and the eigenvalues move by less
//! than that (for n = 6157: under 1e-8, against eigenvalue gaps of 1e-6 and more).

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Normalised entries below this are dropped.
pub(crate) const KEEP: f64 = 1e-12;
const ROWS_PER_BLOCK: usize = 128;

/// A symmetric sparse matrix in compressed rows.
#[derive(Debug, Clone)]
pub(crate) struct Sparse {
    pub n: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

impl Sparse {
    /// `self · x` for a block of column vectors.
    pub(crate) fn matmul(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((self.n, x.ncols()));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                for k in self.indptr[i]..self.indptr[i + 1] {
                    let (j, v) = (self.indices[k] as usize, self.values[k]);
                    row.scaled_add(v, &x.row(j));
                }
            });
        out
    }

    /// Stored entries.
    pub(crate) fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Number of connected components of the graph (isolated nodes count as one
    /// each).
    pub(crate) fn components(&self) -> usize {
        count_components(self.n, |i, visit| {
            for k in self.indptr[i]..self.indptr[i + 1] {
                visit(self.indices[k] as usize);
            }
        })
    }

    /// The dense form (tests and small problems only).
    #[cfg(test)]
    pub(crate) fn to_dense(&self) -> Array2<f64> {
        let mut d = Array2::zeros((self.n, self.n));
        for i in 0..self.n {
            for k in self.indptr[i]..self.indptr[i + 1] {
                d[[i, self.indices[k] as usize]] = self.values[k];
            }
        }
        d
    }
}

/// The normalised affinity and what it says about the graph.
pub(crate) struct Affinity {
    pub matrix: Sparse,
    /// `sqrt(d_i)`, with 1 for isolated samples (scipy's convention).
    pub sqrt_degree: Vec<f64>,
    pub min_degree: f64,
    pub median_sq_distance: f64,
}

/// Squared distances between the rows `rows` of `x` and every row.
fn sq_distances(x: &Array2<f64>, norms: &[f64], rows: std::ops::Range<usize>) -> Array2<f64> {
    let block = x.slice(s![rows.clone(), ..]);
    let mut d = block.dot(&x.t());
    for (bi, mut row) in d.axis_iter_mut(Axis(0)).enumerate() {
        let ni = norms[rows.start + bi];
        for (j, v) in row.iter_mut().enumerate() {
            *v = (ni + norms[j] - 2.0 * *v).max(0.0);
        }
    }
    d
}

/// Builds the normalised RBF affinity of the rows of `x`.
pub(crate) fn normalised_affinity(x: &Array2<f64>, gamma: f64) -> Affinity {
    let n = x.nrows();
    let norms: Vec<f64> = x.outer_iter().map(|r| r.dot(&r)).collect();
    let blocks: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(ROWS_PER_BLOCK)
        .map(|s| s..(s + ROWS_PER_BLOCK).min(n))
        .collect();
    // Pass one: exact degrees, and a sample of squared distances for diagnostics.
    let per_block: Vec<(Vec<f64>, Vec<f64>)> = blocks
        .par_iter()
        .map(|rows| {
            let d = sq_distances(x, &norms, rows.clone());
            let mut degrees = Vec::with_capacity(rows.len());
            let mut sample = Vec::new();
            for (bi, row) in d.outer_iter().enumerate() {
                let i = rows.start + bi;
                let mut sum = 0.0;
                for (j, v) in row.iter().enumerate() {
                    if j != i {
                        sum += (-gamma * v).exp();
                    }
                }
                degrees.push(sum);
                sample.extend(
                    row.iter()
                        .enumerate()
                        .filter(|(j, _)| *j > i && (i * 31 + j) % 97 == 0)
                        .map(|(_, v)| *v),
                );
            }
            (degrees, sample)
        })
        .collect();
    let degrees: Vec<f64> = per_block
        .iter()
        .flat_map(|(d, _)| d.iter().copied())
        .collect();
    let mut sample: Vec<f64> = per_block.into_iter().flat_map(|(_, s)| s).collect();
    sample.sort_by(f64::total_cmp);
    let median_sq_distance = sample.get(sample.len() / 2).copied().unwrap_or(f64::NAN);
    let sqrt_degree: Vec<f64> = degrees
        .iter()
        .map(|d| if *d > 0.0 { d.sqrt() } else { 1.0 })
        .collect();
    let min_degree = degrees.iter().copied().fold(f64::INFINITY, f64::min);
    // Pass two: the normalised entries worth keeping.
    let rows: Vec<Vec<(u32, f64)>> = blocks
        .par_iter()
        .flat_map_iter(|rows| {
            let d = sq_distances(x, &norms, rows.clone());
            let sqrt_degree = &sqrt_degree;
            (0..rows.len())
                .map(move |bi| {
                    let i = rows.start + bi;
                    d.row(bi)
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .filter_map(|(j, v)| {
                            let m = (-gamma * v).exp() / (sqrt_degree[i] * sqrt_degree[j]);
                            (m >= KEEP).then_some((j as u32, m))
                        })
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut indptr = Vec::with_capacity(n + 1);
    let (mut indices, mut values) = (Vec::new(), Vec::new());
    indptr.push(0);
    for row in rows {
        for (j, v) in row {
            indices.push(j);
            values.push(v);
        }
        indptr.push(indices.len());
    }
    Affinity {
        matrix: Sparse {
            n,
            indptr,
            indices,
            values,
        },
        sqrt_degree,
        min_degree,
        median_sq_distance,
    }
}

/// The normalised affinity as a dense matrix (for shift-and-invert), with the same
/// degrees and diagnostics as [`normalised_affinity`].
pub(crate) struct DenseAffinity {
    pub matrix: Array2<f64>,
    pub sqrt_degree: Vec<f64>,
    pub min_degree: f64,
    pub median_sq_distance: f64,
}

/// Builds `D^-1/2 A D^-1/2` densely (no entry dropped).
pub(crate) fn dense_normalised_affinity(x: &Array2<f64>, gamma: f64) -> DenseAffinity {
    let n = x.nrows();
    let norms: Vec<f64> = x.outer_iter().map(|r| r.dot(&r)).collect();
    let mut matrix = Array2::<f64>::zeros((n, n));
    let mut sample = Vec::new();
    // Affinities first (rows in parallel), then degrees, then normalisation.
    matrix
        .axis_chunks_iter_mut(Axis(0), ROWS_PER_BLOCK)
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut rows)| {
            let start = b * ROWS_PER_BLOCK;
            let d = sq_distances(x, &norms, start..start + rows.nrows());
            for (bi, (mut out, dist)) in rows.outer_iter_mut().zip(d.outer_iter()).enumerate() {
                let i = start + bi;
                for (j, (o, v)) in out.iter_mut().zip(dist.iter()).enumerate() {
                    *o = if j == i { 0.0 } else { (-gamma * v).exp() };
                }
            }
        });
    for i in (0..n).step_by(97) {
        for j in (i + 1..n).step_by(31) {
            let a = matrix[[i, j]];
            sample.push(if a > 0.0 {
                -a.ln() / gamma
            } else {
                f64::INFINITY
            });
        }
    }
    sample.sort_by(f64::total_cmp);
    let degrees: Vec<f64> = matrix.outer_iter().map(|r| r.sum()).collect();
    let sqrt_degree: Vec<f64> = degrees
        .iter()
        .map(|d| if *d > 0.0 { d.sqrt() } else { 1.0 })
        .collect();
    let min_degree = degrees.iter().copied().fold(f64::INFINITY, f64::min);
    matrix
        .outer_iter_mut()
        .into_par_iter()
        .enumerate()
        .for_each(|(i, mut row)| {
            for (j, v) in row.iter_mut().enumerate() {
                *v /= sqrt_degree[i] * sqrt_degree[j];
            }
        });
    DenseAffinity {
        matrix,
        sqrt_degree,
        min_degree,
        median_sq_distance: sample.get(sample.len() / 2).copied().unwrap_or(f64::NAN),
    }
}

/// Connected components of the graph of entries at least [`KEEP`].
pub(crate) fn dense_components(m: &Array2<f64>) -> usize {
    count_components(m.nrows(), |i, visit| {
        for (j, v) in m.row(i).iter().enumerate() {
            if *v >= KEEP {
                visit(j);
            }
        }
    })
}

/// Connected components of a graph on `n` nodes given each node's neighbours
/// (`neighbours(i, visit)` calls `visit(j)` for every neighbour `j`).
fn count_components(n: usize, neighbours: impl Fn(usize, &mut dyn FnMut(usize))) -> usize {
    let mut seen = vec![false; n];
    let mut count = 0;
    let mut stack = Vec::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        count += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            neighbours(i, &mut |j| {
                if !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            });
        }
    }
    count
}
