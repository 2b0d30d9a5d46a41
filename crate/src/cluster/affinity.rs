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
use super::packed::ROWS;
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

/// Bytes of the packed dense matrix (the upper triangle in row blocks), checked
/// against the memory the machine has free (with a margin for the rest of the fit).
fn dense_bytes(n: usize) -> Result<usize> {
    let what = format!("the {n} × {n} affinity matrix of spectral clustering");
    let bytes = n
        .checked_add(ROWS)
        .and_then(|w| w.checked_mul(n))
        .and_then(|e| e.checked_mul(4))
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

/// Above this size the packed dense affinity is not built before the matrix is
/// known to need it: the kernel is computed twice, once for the degrees and once
/// for the normalised entries, and a sparse matrix is collected block by block.
const ONE_PASS_BYTES: usize = 256 << 20;

/// The RBF kernel of the rows of `x`, block `b` of its upper triangle in row blocks
/// (rows `start..start + rows`, columns from `start` on; diagonal zero, the
/// diagonal square symmetric), and a sample of its squared distances.
struct Kernel<'a> {
    x: &'a Array2<f64>,
    norms: Vec<f64>,
    gamma: f64,
}

/// One pair in this many has its squared distance kept for the median.
const SAMPLE_EVERY: usize = 97;

impl Kernel<'_> {
    fn block(&self, start: usize, rows: usize) -> (Array2<f64>, Vec<f64>) {
        let (x, norms, n) = (self.x, &self.norms, self.x.nrows());
        let block = x.slice(s![start..start + rows, ..]);
        let rest = x.slice(s![start.., ..]);
        let mut tile = Array2::<f64>::zeros((rows, n - start));
        ndarray::linalg::general_mat_mul(1.0, &block, &rest.t(), 0.0, &mut tile);
        let mut sample = Vec::new();
        for (bi, mut row) in tile.outer_iter_mut().enumerate() {
            let i = start + bi;
            // Pairs (i, j) with (i·31 + j) a multiple of SAMPLE_EVERY: the first j
            // after i + 1, then every SAMPLE_EVERY-th.
            let first = i + 1;
            let mut next = first + (SAMPLE_EVERY - (i * 31 + first) % SAMPLE_EVERY) % SAMPLE_EVERY;
            let ni = norms[i];
            for (c, v) in row.iter_mut().enumerate().skip(bi + 1) {
                let j = start + c;
                let d2 = (ni + norms[j] - 2.0 * *v).max(0.0);
                if j == next {
                    sample.push(d2);
                    next += SAMPLE_EVERY;
                }
                *v = (-self.gamma * d2).exp();
            }
            row[bi] = 0.0;
        }
        for i in 0..rows {
            for j in 0..i {
                tile[[i, j]] = tile[[j, i]];
            }
        }
        (tile, sample)
    }
}

/// Row sums of one block of the packed symmetric matrix (its own rows) and the
/// column sums of its part right of the diagonal square (what it adds to later rows).
fn block_sums(block: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let rows: Vec<f64> = block.outer_iter().map(|r| r.sum()).collect();
    let right = block.slice(s![.., block.nrows()..]);
    (rows, right.sum_axis(Axis(0)).to_vec())
}

/// The degrees from every block's [`block_sums`], added in block order.
fn degrees(parts: &[(Vec<f64>, Vec<f64>)]) -> Vec<f64> {
    let mut degrees: Vec<f64> = parts.iter().flat_map(|(r, _)| r.iter().copied()).collect();
    let mut offset = 0;
    for (rows, cols) in parts {
        offset += rows.len();
        for (d, c) in degrees[offset..].iter_mut().zip(cols) {
            *d += c;
        }
    }
    degrees
}

/// Divides block entries by `sqrt(d_i d_j)` in place; returns the entries of at
/// least [`KEEP`] it stands for in the full matrix (those right of the diagonal
/// square twice).
fn normalise_block(start: usize, block: &mut Array2<f64>, sqrt_degree: &[f64]) -> usize {
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
}

/// The entries of at least [`KEEP`] of one normalised block strictly right of the
/// diagonal, row by row: each row's count, then columns and values.
struct UpperRows {
    counts: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f64>,
}

fn upper_rows(start: usize, block: &Array2<f64>) -> UpperRows {
    let mut out = UpperRows {
        counts: Vec::with_capacity(block.nrows()),
        columns: Vec::new(),
        values: Vec::new(),
    };
    for (bi, row) in block.outer_iter().enumerate() {
        let before = out.columns.len();
        for (c, v) in row.iter().enumerate().skip(bi + 1) {
            if *v >= KEEP {
                out.columns.push((start + c) as u32);
                out.values.push(*v);
            }
        }
        out.counts.push(out.columns.len() - before);
    }
    out
}

/// The symmetric matrix in compressed rows from the strict upper triangle of every
/// row (blocks in order): row `i` holds its entries left of the diagonal (from the
/// rows before it, in order) then its own.
fn symmetric_rows(n: usize, parts: &[UpperRows]) -> Sparse {
    let mut lower = vec![0usize; n];
    for part in parts {
        for j in &part.columns {
            lower[*j as usize] += 1;
        }
    }
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let mut i = 0;
    for part in parts {
        for count in &part.counts {
            let last = indptr[indptr.len() - 1];
            indptr.push(last + lower[i] + count);
            i += 1;
        }
    }
    let total = indptr[indptr.len() - 1];
    let mut indices = vec![0u32; total];
    let mut values = vec![0.0f64; total];
    // Next free slot of each row's left part.
    let mut next: Vec<usize> = indptr[..n].to_vec();
    let mut i = 0;
    for part in parts {
        let mut k = 0;
        for count in &part.counts {
            // Row i's own part starts after its left part.
            let own = indptr[i] + lower[i];
            let columns = &part.columns[k..k + count];
            let kept = &part.values[k..k + count];
            for (slot, (j, v)) in (own..).zip(columns.iter().zip(kept)) {
                indices[slot] = *j;
                values[slot] = *v;
                let j = *j as usize;
                indices[next[j]] = i as u32;
                values[next[j]] = *v;
                next[j] += 1;
            }
            k += count;
            i += 1;
        }
    }
    Sparse {
        indptr,
        indices,
        values,
    }
}

/// Builds the normalised RBF affinity of the rows of `x`.
///
/// Up to [`ONE_PASS_BYTES`] the kernel is built once in packed blocks, normalised
/// in place, then kept dense or compressed. Beyond, a first pass over the blocks
/// only sums them (the degrees), and a second one normalises each block as it is
/// computed and keeps its entries of at least [`KEEP`]; only when those are too
/// many for sparse storage is the packed dense matrix built (a third pass).
pub(crate) fn normalised_affinity(x: &Array2<f64>, gamma: f64) -> Result<Affinity> {
    let n = x.nrows();
    let one_pass = n.saturating_mul(n + ROWS).saturating_mul(4) <= ONE_PASS_BYTES;
    build(x, gamma, one_pass)
}

/// [`normalised_affinity`] in one pass (the packed kernel kept) or in two.
fn build(x: &Array2<f64>, gamma: f64, one_pass: bool) -> Result<Affinity> {
    let n = x.nrows();
    let kernel = Kernel {
        x,
        norms: x.outer_iter().map(|r| r.dot(&r)).collect(),
        gamma,
    };
    let blocks = n.div_ceil(ROWS);
    let sparse_limit = (SPARSE_BELOW * (n as f64) * (n as f64)) as usize;
    let shape_error =
        || Error::invalid("spectral clustering", "affinity blocks of the wrong shape");
    // First pass: the kernel (kept only in one-pass mode), block sums, samples.
    if one_pass {
        dense_bytes(n)?;
    }
    type First = (Option<Array2<f64>>, (Vec<f64>, Vec<f64>), Vec<f64>);
    let first: Vec<First> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let r0 = b * ROWS;
            let (tile, sample) = kernel.block(r0, ROWS.min(n - r0));
            let sums = block_sums(&tile);
            (one_pass.then_some(tile), sums, sample)
        })
        .collect();
    let mut sample: Vec<f64> = first.iter().flat_map(|f| f.2.iter().copied()).collect();
    sample.sort_by(f64::total_cmp);
    let median_sq_distance = sample.get(sample.len() / 2).copied().unwrap_or(f64::NAN);
    drop(sample);
    let sums: Vec<(Vec<f64>, Vec<f64>)> = first.iter().map(|f| f.1.clone()).collect();
    let degrees = degrees(&sums);
    drop(sums);
    let sqrt_degree: Vec<f64> = degrees
        .iter()
        .map(|d| if *d > 0.0 { d.sqrt() } else { 1.0 })
        .collect();
    let min_degree = degrees.iter().copied().fold(f64::INFINITY, f64::min);
    let (matrix, stored) = if one_pass {
        let tiles: Vec<Array2<f64>> = first.into_iter().filter_map(|f| f.0).collect();
        let mut a = Packed::new(n, tiles).ok_or_else(shape_error)?;
        let stored: usize = a
            .blocks_mut()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(start, block)| normalise_block(start, block, &sqrt_degree))
            .sum();
        if stored < sparse_limit {
            let parts: Vec<UpperRows> = a
                .blocks()
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|(start, block)| upper_rows(start, block))
                .collect();
            drop(a);
            (Matrix::Sparse(symmetric_rows(n, &parts)), stored)
        } else {
            (Matrix::Dense(a), stored)
        }
    } else {
        drop(first);
        // Second pass: each block normalised and its kept entries taken, until
        // more than sparse storage allows have been seen.
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let parts: Option<Vec<UpperRows>> = (0..blocks)
            .into_par_iter()
            .map(|b| {
                if seen.load(std::sync::atomic::Ordering::Relaxed) >= sparse_limit {
                    return None;
                }
                let r0 = b * ROWS;
                let (mut tile, _) = kernel.block(r0, ROWS.min(n - r0));
                normalise_block(r0, &mut tile, &sqrt_degree);
                let part = upper_rows(r0, &tile);
                let total = seen
                    .fetch_add(2 * part.values.len(), std::sync::atomic::Ordering::Relaxed)
                    + 2 * part.values.len();
                (total < sparse_limit).then_some(part)
            })
            .collect();
        match parts {
            Some(parts) => {
                let stored = 2 * parts.iter().map(|p| p.values.len()).sum::<usize>();
                (Matrix::Sparse(symmetric_rows(n, &parts)), stored)
            }
            None => {
                dense_bytes(n)?;
                let mut a = Packed::from_blocks(n, |_, r0, rows| kernel.block(r0, rows).0)
                    .ok_or_else(shape_error)?;
                let stored: usize = a
                    .blocks_mut()
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|(start, block)| normalise_block(start, block, &sqrt_degree))
                    .sum();
                (Matrix::Dense(a), stored)
            }
        }
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

/// Connected components of the graph of entries of at least [`KEEP`] (isolated
/// nodes count as one each).
fn components(m: &Matrix) -> usize {
    match m {
        Matrix::Dense(d) => {
            // Union–find over the upper triangle, read block by block in order,
            // until everything is joined (a connected graph is known to be one
            // piece after its first rows, most of a dense matrix unread).
            let mut parent: Vec<usize> = (0..d.order()).collect();
            let mut pieces = d.order();
            fn root(parent: &mut [usize], mut i: usize) -> usize {
                while parent[i] != i {
                    parent[i] = parent[parent[i]];
                    i = parent[i];
                }
                i
            }
            for (start, block) in d.blocks() {
                for (bi, row) in block.outer_iter().enumerate() {
                    if pieces <= 1 {
                        return pieces;
                    }
                    for (c, v) in row.iter().enumerate().skip(bi + 1) {
                        if *v >= KEEP {
                            let (a, b) =
                                (root(&mut parent, start + bi), root(&mut parent, start + c));
                            if a != b {
                                parent[a.max(b)] = a.min(b);
                                pieces -= 1;
                            }
                        }
                    }
                }
            }
            pieces
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_and_two_passes_build_the_same_matrix() {
        // Three row blocks, the last one short; a wide gamma (dense) and a narrow
        // one (most entries below KEEP: sparse).
        let n = 2 * ROWS + 45;
        let x = Array2::from_shape_fn((n, 6), |(i, j)| {
            ((i * 13 + j * 7) % 29) as f64 * 0.3 + (i / 40) as f64
        });
        for (gamma, sparse) in [(0.01, false), (3.0, true)] {
            let one = build(&x, gamma, true).unwrap();
            let two = build(&x, gamma, false).unwrap();
            assert_eq!(
                matches!(one.matrix, Matrix::Sparse(_)),
                sparse,
                "gamma {gamma}"
            );
            assert_eq!(
                matches!(two.matrix, Matrix::Sparse(_)),
                sparse,
                "gamma {gamma}"
            );
            assert_eq!(one.sqrt_degree, two.sqrt_degree);
            assert_eq!(one.stored, two.stored);
            assert_eq!(one.components, two.components);
            assert_eq!(one.median_sq_distance, two.median_sq_distance);
            for i in 0..n {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                one.matrix.visit_row(i, |j, v| a.push((j, v)));
                two.matrix.visit_row(i, |j, v| b.push((j, v)));
                assert_eq!(a, b, "row {i}, gamma {gamma}");
                // The stored rows are those of the symmetric matrix.
                for (j, v) in a {
                    let mut back = None;
                    one.matrix.visit_row(j, |k, w| {
                        if k == i {
                            back = Some(w);
                        }
                    });
                    if sparse || v != 0.0 {
                        assert_eq!(back, Some(v), "entry ({i}, {j})");
                    }
                }
            }
        }
    }

    /// The dense count stops once the graph is one piece, and still counts every
    /// piece of a graph that is not: the same answers as the sparse count.
    #[test]
    fn dense_and_sparse_graphs_have_the_same_pieces() {
        let n = 2 * ROWS + 45;
        // Three chains (i joined to i + 3) that cross every row block; bridged,
        // the last three indices join them.
        let chain = |i: usize, j: usize| {
            if i % 3 == j % 3 && i.abs_diff(j) == 3 {
                0.5
            } else {
                0.0
            }
        };
        for (bridged, pieces) in [(false, 3), (true, 1)] {
            let value = |i: usize, j: usize| {
                let bridge = bridged && i.min(j) == n - 3 && i.max(j) >= n - 2;
                if bridge {
                    0.5
                } else {
                    chain(i, j)
                }
            };
            let dense = Packed::from_blocks(n, |_, r0, rows| {
                Array2::from_shape_fn((rows, n - r0), |(r, c)| value(r0 + r, r0 + c))
            })
            .unwrap();
            let rows: Vec<Vec<(u32, f64)>> = (0..n)
                .map(|i| {
                    (0..n)
                        .filter(|j| value(i.min(*j), i.max(*j)) != 0.0)
                        .map(|j| (j as u32, 0.5))
                        .collect()
                })
                .collect();
            assert_eq!(
                components(&Matrix::Dense(dense)),
                pieces,
                "bridged {bridged}"
            );
            assert_eq!(
                components(&Matrix::Sparse(from_rows(rows, n))),
                pieces,
                "bridged {bridged}"
            );
        }
    }
}
