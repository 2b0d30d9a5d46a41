//! The normalised RBF affinity `M = D^-1/2 A D^-1/2` of scikit-learn's spectral
//! clustering, and its product with a block of vectors.
//!
//! `A_ij = exp(-gamma |x_i - x_j|^2)` off the diagonal (scipy's Laplacian ignores
//! self-loops); `d_i = sum_j A_ij`. The kernel is computed once, for the upper
//! triangle in tiles (half the distance products), mirrored, normalised in place.
//! When most normalised entries are below [`KEEP`] (a nearly empty graph, as gamma =
//! 1/n_features gives on rainfall) the matrix is kept in compressed rows without
//! them: every dropped entry is below `KEEP`, so each row loses less than `n * KEEP`
//! and no eigenvalue moves by more than that (for n = 6157: under 1e-8). Otherwise
//! it stays dense and nothing is dropped.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Normalised entries below this are dropped from a sparse matrix.
pub(crate) const KEEP: f64 = 1e-12;
/// Rows per tile of the kernel and per task of a product.
const ROWS_PER_BLOCK: usize = 128;
/// Above this fraction of entries kept, the dense form is faster to multiply.
const SPARSE_BELOW: f64 = 0.15;

/// A symmetric sparse matrix in compressed rows.
#[derive(Debug, Clone)]
pub(crate) struct Sparse {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

impl Sparse {
    /// Each row's `(column, value)` pairs.
    pub(crate) fn rows(&self) -> Vec<Vec<(usize, f64)>> {
        (0..self.indptr.len() - 1)
            .map(|i| {
                (self.indptr[i]..self.indptr[i + 1])
                    .map(|k| (self.indices[k] as usize, self.values[k]))
                    .collect()
            })
            .collect()
    }
}

impl Sparse {
    /// Order of the matrix.
    pub(crate) fn order(&self) -> usize {
        self.indptr.len() - 1
    }
    /// Stored entries.
    pub(crate) fn stored(&self) -> usize {
        self.indices.len()
    }
}

/// Binary exponent buckets of [`sparsified`]: every positive finite `f64` falls in
/// one (its biased exponent), subnormals in bucket 0.
const BUCKETS: usize = 2048;

fn bucket(v: f64) -> usize {
    ((v.to_bits() >> 52) & 0x7ff) as usize
}

/// The largest entries of a symmetric non-negative `m`, such that every row loses
/// at most `mass` of its sum: row `i` may drop its entries below a threshold
/// `t_i` (a power of two, the largest for which they sum to at most `mass`), and
/// an entry is kept when it reaches the smaller threshold of its row and column,
/// so the kept pattern is symmetric. The dropped part `E` has non-negative entries
/// and row sums at most `mass`, so `|E|₂ ≤ mass`: no eigenvalue moves by more.
/// `None` when more than `max_stored` entries would be kept.
pub(crate) fn sparsified(m: &Matrix, mass: f64, max_stored: usize) -> Option<Sparse> {
    let n = m.order();
    let thresholds: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut sums = vec![0.0f64; BUCKETS];
            m.visit_row(i, |_, v| {
                if v > 0.0 {
                    sums[bucket(v)] += v;
                }
            });
            let mut dropped = 0.0;
            for (b, s) in sums.iter().enumerate() {
                if dropped + s > mass {
                    // Entries of bucket b are at least 2^(b - 1023) (0 for b = 0).
                    return f64::from_bits((b as u64) << 52);
                }
                dropped += s;
            }
            f64::INFINITY
        })
        .collect();
    let keep = |i: usize, j: usize, v: f64| v > 0.0 && v >= thresholds[i].min(thresholds[j]);
    let stored: usize = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut count = 0;
            m.visit_row(i, |j, v| count += usize::from(keep(i, j, v)));
            count
        })
        .sum();
    if stored > max_stored {
        return None;
    }
    let rows: Vec<Vec<(u32, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut row = Vec::new();
            m.visit_row(i, |j, v| {
                if keep(i, j, v) {
                    row.push((j as u32, v));
                }
            });
            row
        })
        .collect();
    Some(from_rows(rows, n))
}

/// Compressed rows from each row's `(column, value)` pairs.
fn from_rows(rows: Vec<Vec<(u32, f64)>>, n: usize) -> Sparse {
    let total = rows.iter().map(Vec::len).sum();
    let mut sp = Sparse {
        indptr: Vec::with_capacity(n + 1),
        indices: Vec::with_capacity(total),
        values: Vec::with_capacity(total),
    };
    sp.indptr.push(0);
    for row in rows {
        for (j, v) in row {
            sp.indices.push(j);
            sp.values.push(v);
        }
        sp.indptr.push(sp.indices.len());
    }
    sp
}

/// The normalised affinity, dense or sparse.
#[derive(Debug, Clone)]
pub(crate) enum Matrix {
    Dense(Array2<f64>),
    Sparse(Sparse),
}

impl Matrix {
    /// Order of the (square) matrix.
    pub(crate) fn order(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.nrows(),
            Matrix::Sparse(sp) => sp.order(),
        }
    }

    /// Calls `f(j, value)` for the stored entries of row `i`, by increasing `j`.
    pub(crate) fn visit_row(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        match self {
            Matrix::Dense(m) => m.row(i).iter().enumerate().for_each(|(j, v)| f(j, *v)),
            Matrix::Sparse(sp) => {
                for k in sp.indptr[i]..sp.indptr[i + 1] {
                    f(sp.indices[k] as usize, sp.values[k]);
                }
            }
        }
    }

    /// `self · x` for a block of column vectors, rows in parallel; each entry is
    /// summed in the same order whatever the number of threads.
    pub(crate) fn matmul(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let n = x.nrows();
        let mut out = Array2::zeros((n, x.ncols()));
        match self {
            Matrix::Dense(m) => out
                .axis_chunks_iter_mut(Axis(0), ROWS_PER_BLOCK)
                .into_par_iter()
                .zip(m.axis_chunks_iter(Axis(0), ROWS_PER_BLOCK))
                .for_each(|(mut o, rows)| {
                    ndarray::linalg::general_mat_mul(1.0, &rows, &x, 0.0, &mut o)
                }),
            Matrix::Sparse(sp) => {
                // Rows of x as contiguous slices: plain loops the compiler vectorises.
                let nc = x.ncols();
                let xs = x.as_standard_layout();
                let flat = xs.as_slice().unwrap_or_default();
                out.axis_iter_mut(Axis(0))
                    .into_par_iter()
                    .enumerate()
                    .for_each(|(i, mut row)| {
                        let mut acc = vec![0.0f64; nc];
                        for k in sp.indptr[i]..sp.indptr[i + 1] {
                            let v = sp.values[k];
                            let j = sp.indices[k] as usize;
                            for (a, xv) in acc.iter_mut().zip(&flat[j * nc..j * nc + nc]) {
                                *a += v * xv;
                            }
                        }
                        row.assign(&ndarray::ArrayView1::from(&acc[..]));
                    })
            }
        }
        out
    }
}

/// The normalised affinity and what it says about the graph.
pub(crate) struct Affinity {
    pub matrix: Matrix,
    /// `sqrt(d_i)`, with 1 for isolated samples (scipy's convention).
    pub sqrt_degree: Vec<f64>,
    pub min_degree: f64,
    pub median_sq_distance: f64,
    /// Connected pieces of the graph of entries of at least [`KEEP`].
    pub components: usize,
    /// Entries of at least [`KEEP`] (off the diagonal).
    pub stored: usize,
}

/// Bytes of the dense n × n matrix, checked against the memory the machine has
/// free (with a margin for the rest of the fit).
fn dense_bytes(n: usize) -> Result<usize> {
    let what = format!("the {n} × {n} affinity matrix of spectral clustering");
    let bytes = n
        .checked_mul(n)
        .and_then(|e| e.checked_mul(8))
        .ok_or_else(|| Error::invalid(&what, "its size overflows"))?;
    if let Ok(mem) = crate::virtual_memory() {
        let limit = mem.available / 10 * 8;
        if bytes as u64 > limit {
            return Err(Error::MemoryLimit {
                what: format!(
                    "{what}; use SpectralClustering::approximate (Nyström) for this many samples"
                ),
                needed: bytes as u64,
                limit,
            });
        }
    }
    Ok(bytes)
}

/// Builds the normalised RBF affinity of the rows of `x`.
pub(crate) fn normalised_affinity(x: &Array2<f64>, gamma: f64) -> Result<Affinity> {
    let n = x.nrows();
    dense_bytes(n)?;
    let norms: Vec<f64> = x.outer_iter().map(|r| r.dot(&r)).collect();
    let mut a = Array2::<f64>::zeros((n, n));
    // Upper triangle by row tiles: tile `b` holds rows `b*R..` against columns from
    // its own first row on. A sample of the squared distances for diagnostics.
    let samples: Vec<Vec<f64>> = a
        .axis_chunks_iter_mut(Axis(0), ROWS_PER_BLOCK)
        .into_par_iter()
        .enumerate()
        .map(|(b, mut rows)| {
            let start = b * ROWS_PER_BLOCK;
            let block = x.slice(s![start..start + rows.nrows(), ..]);
            let rest = x.slice(s![start.., ..]);
            let mut tile = rows.slice_mut(s![.., start..]);
            ndarray::linalg::general_mat_mul(1.0, &block, &rest.t(), 0.0, &mut tile);
            let mut sample = Vec::new();
            for (bi, mut row) in tile.outer_iter_mut().enumerate() {
                let i = start + bi;
                for (c, v) in row.iter_mut().enumerate() {
                    let j = start + c;
                    let d2 = (norms[i] + norms[j] - 2.0 * *v).max(0.0);
                    if j > i && (i * 31 + j) % 97 == 0 {
                        sample.push(d2);
                    }
                    *v = if j > i { (-gamma * d2).exp() } else { 0.0 };
                }
            }
            sample
        })
        .collect();
    mirror_upper(&mut a);
    let mut sample: Vec<f64> = samples.into_iter().flatten().collect();
    sample.sort_by(f64::total_cmp);
    let median_sq_distance = sample.get(sample.len() / 2).copied().unwrap_or(f64::NAN);
    let degrees: Vec<f64> = a
        .axis_iter(Axis(0))
        .into_par_iter()
        .map(|r| r.sum())
        .collect();
    let sqrt_degree: Vec<f64> = degrees
        .iter()
        .map(|d| if *d > 0.0 { d.sqrt() } else { 1.0 })
        .collect();
    let min_degree = degrees.iter().copied().fold(f64::INFINITY, f64::min);
    let stored: usize = a
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let mut kept = 0;
            for (v, sj) in row.iter_mut().zip(&sqrt_degree) {
                *v /= sqrt_degree[i] * sj;
                kept += usize::from(*v >= KEEP);
            }
            kept
        })
        .sum();
    let sparse = (stored as f64) < SPARSE_BELOW * (n as f64) * (n as f64);
    let matrix = if sparse {
        Matrix::Sparse(compress(&a))
    } else {
        Matrix::Dense(a)
    };
    let components = components(&matrix);
    Ok(Affinity {
        matrix,
        sqrt_degree,
        min_degree,
        median_sq_distance,
        components,
        stored,
    })
}

/// Copies the strict upper triangle onto the lower, tile by tile.
fn mirror_upper(a: &mut Array2<f64>) {
    const T: usize = 64;
    let n = a.nrows();
    for i0 in (0..n).step_by(T) {
        for j0 in (0..=i0).step_by(T) {
            for i in i0..(i0 + T).min(n) {
                for j in j0..(j0 + T).min(i) {
                    a[[i, j]] = a[[j, i]];
                }
            }
        }
    }
}

/// The entries of at least [`KEEP`], in compressed rows.
fn compress(a: &Array2<f64>) -> Sparse {
    let rows: Vec<Vec<(u32, f64)>> = a
        .axis_iter(Axis(0))
        .into_par_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .filter(|(_, v)| **v >= KEEP)
                .map(|(j, v)| (j as u32, *v))
                .collect()
        })
        .collect();
    from_rows(rows, a.nrows())
}

/// Connected components of the graph of entries of at least [`KEEP`] (isolated
/// nodes count as one each).
fn components(m: &Matrix) -> usize {
    match m {
        Matrix::Dense(d) => count_components(d.nrows(), |i, visit| {
            for (j, v) in d.row(i).iter().enumerate() {
                if *v >= KEEP {
                    visit(j);
                }
            }
        }),
        Matrix::Sparse(sp) => count_components(sp.indptr.len() - 1, |i, visit| {
            for k in sp.indptr[i]..sp.indptr[i + 1] {
                visit(sp.indices[k] as usize);
            }
        }),
    }
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
