//! The normalised RBF affinity `M = D^-1/2 A D^-1/2` of scikit-learn's spectral
//! clustering, and its product with a block of vectors.
//!
//! `A_ij = exp(-gamma |x_i - x_j|^2)` off the diagonal (scipy's Laplacian ignores
//! self-loops); `d_i = sum_j A_ij`. The kernel is computed once, for the upper
//! triangle only (half the distance products), kept in that form ([`Packed`]: half
//! the memory) and normalised in place.
//! When most normalised entries are below [`KEEP`] (a nearly empty graph, as gamma =
//! 1/n_features gives on rainfall) the matrix is kept in compressed rows without
//! them: every dropped entry is below `KEEP`, so each row loses less than `n * KEEP`
//! and no eigenvalue moves by more than that (for n = 6157: under 1e-8). Otherwise
//! it stays dense and nothing is dropped.

use ndarray::{s, Array2, ArrayView2, Axis};

pub(crate) use super::packed::Packed;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Normalised entries below this are dropped from a sparse matrix.
pub(crate) const KEEP: f64 = 1e-12;
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

    /// `self · x` for a block of column vectors, rows in parallel.
    fn matmul(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((self.order(), x.ncols()));
        // Rows of x as contiguous slices: plain loops the compiler vectorises.
        let nc = x.ncols();
        let xs = x.as_standard_layout();
        let flat = xs.as_slice().unwrap_or_default();
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                let mut acc = vec![0.0f64; nc];
                for k in self.indptr[i]..self.indptr[i + 1] {
                    let v = self.values[k];
                    let j = self.indices[k] as usize;
                    for (a, xv) in acc.iter_mut().zip(&flat[j * nc..j * nc + nc]) {
                        *a += v * xv;
                    }
                }
                row.assign(&ndarray::ArrayView1::from(&acc[..]));
            });
        out
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
    Dense(Packed),
    Sparse(Sparse),
}

impl Matrix {
    /// Order of the (square) matrix.
    pub(crate) fn order(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.order(),
            Matrix::Sparse(sp) => sp.order(),
        }
    }

    /// Calls `f(j, value)` for the stored entries of row `i`, by increasing `j`.
    pub(crate) fn visit_row(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        match self {
            Matrix::Dense(m) => m.visit_row(i, f),
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
        match self {
            Matrix::Dense(m) => m.matmul(x),
            Matrix::Sparse(sp) => sp.matmul(x),
        }
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
    // Row block `b` against the columns from its own first row on (the upper
    // triangle, half the distance products); the diagonal square mirrored from its
    // upper half so that the matrix is exactly symmetric. A sample of the squared
    // distances for diagnostics.
    let samples = std::sync::Mutex::new(Vec::new());
    let mut a = Packed::from_blocks(n, |b, start, rows| {
        let block = x.slice(s![start..start + rows, ..]);
        let rest = x.slice(s![start.., ..]);
        let mut tile = Array2::<f64>::zeros((rows, n - start));
        ndarray::linalg::general_mat_mul(1.0, &block, &rest.t(), 0.0, &mut tile);
        let mut sample = Vec::new();
        for (bi, mut row) in tile.outer_iter_mut().enumerate() {
            let i = start + bi;
            for (c, v) in row.iter_mut().enumerate().skip(bi + 1) {
                let j = start + c;
                let d2 = (norms[i] + norms[j] - 2.0 * *v).max(0.0);
                if (i * 31 + j) % 97 == 0 {
                    sample.push(d2);
                }
                *v = (-gamma * d2).exp();
            }
            row[bi] = 0.0;
        }
        for i in 0..rows {
            for j in 0..i {
                tile[[i, j]] = tile[[j, i]];
            }
        }
        if let Ok(mut all) = samples.lock() {
            all.push((b, sample));
        }
        tile
    })
    .ok_or_else(|| Error::invalid("spectral clustering", "affinity blocks of the wrong shape"))?;
    let mut samples = samples.into_inner().unwrap_or_default();
    samples.sort_by_key(|(b, _)| *b);
    let mut sample: Vec<f64> = samples.into_iter().flat_map(|(_, s)| s).collect();
    sample.sort_by(f64::total_cmp);
    let median_sq_distance = sample.get(sample.len() / 2).copied().unwrap_or(f64::NAN);
    let degrees = degrees(&a);
    let sqrt_degree: Vec<f64> = degrees
        .iter()
        .map(|d| if *d > 0.0 { d.sqrt() } else { 1.0 })
        .collect();
    let min_degree = degrees.iter().copied().fold(f64::INFINITY, f64::min);
    // Normalise in place, counting the entries kept (those right of a block's
    // square stand for two entries of the full matrix).
    let stored: usize = a
        .blocks_mut()
        .map(|(start, block)| {
            let rows = block.nrows();
            let mut kept = 0;
            for (bi, mut row) in block.outer_iter_mut().enumerate() {
                let si = sqrt_degree[start + bi];
                for (c, (v, sj)) in row.iter_mut().zip(&sqrt_degree[start..]).enumerate() {
                    *v /= si * sj;
                    if *v >= KEEP {
                        kept += if c < rows { 1 } else { 2 };
                    }
                }
            }
            kept
        })
        .sum();
    let sparse = (stored as f64) < SPARSE_BELOW * (n as f64) * (n as f64);
    let matrix = if sparse {
        let m = Matrix::Dense(a);
        Matrix::Sparse(compress(&m))
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

/// Row sums of the symmetric packed matrix: each block's own rows, plus the
/// column sums of the earlier blocks right of their squares, added in block order.
fn degrees(a: &Packed) -> Vec<f64> {
    let parts: Vec<(Vec<f64>, Vec<f64>)> = a
        .blocks()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(_, block)| {
            let rows: Vec<f64> = block.outer_iter().map(|r| r.sum()).collect();
            let right = block.slice(s![.., block.nrows()..]);
            let cols: Vec<f64> = right.sum_axis(Axis(0)).to_vec();
            (rows, cols)
        })
        .collect();
    let mut degrees: Vec<f64> = parts.iter().flat_map(|(r, _)| r.iter().copied()).collect();
    let mut offset = 0;
    for (rows, cols) in &parts {
        offset += rows.len();
        for (d, c) in degrees[offset..].iter_mut().zip(cols) {
            *d += c;
        }
    }
    degrees
}

/// The entries of at least [`KEEP`], in compressed rows.
fn compress(a: &Matrix) -> Sparse {
    let rows: Vec<Vec<(u32, f64)>> = (0..a.order())
        .into_par_iter()
        .map(|i| {
            let mut row = Vec::new();
            a.visit_row(i, |j, v| {
                if v >= KEEP {
                    row.push((j as u32, v));
                }
            });
            row
        })
        .collect();
    from_rows(rows, a.order())
}

/// Connected components of the graph of entries of at least [`KEEP`] (isolated
/// nodes count as one each).
fn components(m: &Matrix) -> usize {
    match m {
        Matrix::Dense(d) => {
            // Union–find over the upper triangle, read block by block in order.
            let mut parent: Vec<usize> = (0..d.order()).collect();
            fn root(parent: &mut [usize], mut i: usize) -> usize {
                while parent[i] != i {
                    parent[i] = parent[parent[i]];
                    i = parent[i];
                }
                i
            }
            for (start, block) in d.blocks() {
                for (bi, row) in block.outer_iter().enumerate() {
                    for (c, v) in row.iter().enumerate().skip(bi + 1) {
                        if *v >= KEEP {
                            let (a, b) =
                                (root(&mut parent, start + bi), root(&mut parent, start + c));
                            if a != b {
                                parent[a.max(b)] = a.min(b);
                            }
                        }
                    }
                }
            }
            (0..parent.len()).filter(|i| parent[*i] == *i).count()
        }
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
