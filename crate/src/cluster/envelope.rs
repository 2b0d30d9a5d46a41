//! Cholesky factors of sparse symmetric positive definite matrices in envelope
//! (skyline) form, after a reverse Cuthill–McKee ordering, for shift-and-invert on
//! nearly empty affinity graphs.
//!
//! When gamma leaves most samples unrelated (gamma = 1/n_features on rainfall), the
//! leading eigenvalues of the normalised affinity crowd against 1 (gaps of 1e-6)
//! and no Krylov method on the matrix itself resolves them in reasonable time. The
//! same graphs are sparse and mostly link neighbouring pixels, so after reverse
//! Cuthill–McKee each row's envelope (from its first non-zero to the diagonal) is
//! short and `σI − M` factors in a fraction of a second; `(σI − M)^-1` then maps the
//! crowded eigenvalues far apart. The factorisation runs in one thread, in a fixed
//! order: the same bits on any machine thread count.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

/// A lower Cholesky factor `P S Pᵀ = L Lᵀ` in envelope form.
pub(crate) struct EnvelopeCholesky {
    /// `order[new] = old`: the permutation.
    order: Vec<usize>,
    /// First stored column of each (permuted) row.
    first: Vec<usize>,
    /// Row `i` holds `L[i, first[i]..=i]` at `start[i]..start[i + 1]`.
    start: Vec<usize>,
    values: Vec<f64>,
}

/// Reverse Cuthill–McKee: breadth first from a low-degree node of each piece,
/// neighbours by increasing degree, the whole order reversed.
fn reverse_cuthill_mckee(n: usize, rows: &[Vec<(usize, f64)>]) -> Vec<usize> {
    let degree: Vec<usize> = rows.iter().map(Vec::len).collect();
    let mut by_degree: Vec<usize> = (0..n).collect();
    by_degree.sort_by_key(|i| (degree[*i], *i));
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for &root in &by_degree {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut head = order.len();
        order.push(root);
        while head < order.len() {
            let i = order[head];
            head += 1;
            let mut next: Vec<usize> = rows[i]
                .iter()
                .map(|(j, _)| *j)
                .filter(|j| !seen[*j])
                .collect();
            next.sort_by_key(|j| (degree[*j], *j));
            next.dedup();
            for j in next {
                if !seen[j] {
                    seen[j] = true;
                    order.push(j);
                }
            }
        }
    }
    order.reverse();
    order
}

impl EnvelopeCholesky {
    /// Entries the factor would hold for the matrix with off-diagonal pattern `rows`
    /// (each row's `(column, value)` pairs), and the flops to compute it, without
    /// factorising: the caller decides whether it is worth it.
    pub(crate) fn cost(rows: &[Vec<(usize, f64)>]) -> (Vec<usize>, usize, f64) {
        let n = rows.len();
        let order = reverse_cuthill_mckee(n, rows);
        let mut position = vec![0; n];
        for (new, old) in order.iter().enumerate() {
            position[*old] = new;
        }
        let mut entries = 0usize;
        let mut flops = 0.0;
        for (new, old) in order.iter().enumerate() {
            let first = rows[*old]
                .iter()
                .map(|(j, _)| position[*j])
                .filter(|j| *j < new)
                .min()
                .unwrap_or(new);
            let width = new - first + 1;
            entries += width;
            flops += (width * width) as f64;
        }
        (order, entries, flops)
    }

    /// Factors `S = diag + offdiag`: `diag[i]` on the diagonal, `rows[i]` the
    /// off-diagonal entries of row `i` (symmetric), in the order `order` from
    /// [`EnvelopeCholesky::cost`].
    pub(crate) fn factor(
        diag: &[f64],
        rows: &[Vec<(usize, f64)>],
        order: Vec<usize>,
    ) -> Result<EnvelopeCholesky> {
        let n = diag.len();
        let mut position = vec![0; n];
        for (new, old) in order.iter().enumerate() {
            position[*old] = new;
        }
        let mut first = Vec::with_capacity(n);
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        for (new, old) in order.iter().enumerate() {
            let f = rows[*old]
                .iter()
                .map(|(j, _)| position[*j])
                .filter(|j| *j < new)
                .min()
                .unwrap_or(new);
            first.push(f);
            start.push(start[new] + new - f + 1);
        }
        let mut values = vec![0.0; start[n]];
        for (new, old) in order.iter().enumerate() {
            values[start[new] + new - first[new]] = diag[*old];
            for (j, v) in &rows[*old] {
                let pj = position[*j];
                if pj < new {
                    values[start[new] + pj - first[new]] = *v;
                }
            }
        }
        for i in 0..n {
            let (done, row_and_after) = values.split_at_mut(start[i]);
            let row = &mut row_and_after[..=i - first[i]];
            for j in first[i]..i {
                let lo = first[i].max(first[j]);
                let lj = &done[start[j]..start[j + 1]];
                let mut s = row[j - first[i]];
                for k in lo..j {
                    s -= row[k - first[i]] * lj[k - first[j]];
                }
                row[j - first[i]] = s / lj[j - first[j]];
            }
            let d = row[i - first[i]] - row[..i - first[i]].iter().map(|v| v * v).sum::<f64>();
            if !(d > 0.0 && d.is_finite()) {
                return Err(Error::invalid(
                    "shift-and-invert",
                    "the shifted affinity is not positive definite",
                ));
            }
            row[i - first[i]] = d.sqrt();
        }
        Ok(EnvelopeCholesky {
            order,
            first,
            start,
            values,
        })
    }

    /// Solves `S X = B` for a block of right-hand sides.
    pub(crate) fn solve(&self, b: ArrayView2<f64>) -> Array2<f64> {
        let n = self.order.len();
        let mut y = Array2::zeros(b.raw_dim());
        for (new, old) in self.order.iter().enumerate() {
            y.row_mut(new).assign(&b.row(*old));
        }
        let row = |i: usize| &self.values[self.start[i]..self.start[i + 1]];
        // L Y = P B, row by row.
        for i in 0..n {
            let l = row(i);
            let f = self.first[i];
            let (done, mut rest) = y.view_mut().split_at(ndarray::Axis(0), i);
            let mut yi = rest.row_mut(0);
            for (k, v) in l[..i - f].iter().enumerate() {
                yi.scaled_add(-v, &done.row(f + k));
            }
            yi /= l[i - f];
        }
        // Lᵀ X = Y, from the last row: each solved row is pushed into those above.
        for i in (0..n).rev() {
            let l = row(i);
            let f = self.first[i];
            let (mut above, mut rest) = y.view_mut().split_at(ndarray::Axis(0), i);
            let mut xi = rest.row_mut(0);
            xi /= l[i - f];
            for (k, v) in l[..i - f].iter().enumerate() {
                above.row_mut(f + k).scaled_add(-v, &xi);
            }
        }
        let mut x = Array2::zeros(b.raw_dim());
        for (new, old) in self.order.iter().enumerate() {
            x.row_mut(*old).assign(&y.row(new));
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_sparse_spd_system_in_any_order() {
        // A path graph with a few long links, shuffled: RCM must find the band.
        let n = 200;
        let perm: Vec<usize> = (0..n).map(|i| (i * 37) % n).collect();
        let mut rows = vec![Vec::new(); n];
        let mut link = |a: usize, b: usize, v: f64| {
            rows[perm[a]].push((perm[b], v));
            rows[perm[b]].push((perm[a], v));
        };
        for i in 0..n - 1 {
            link(i, i + 1, -0.4);
        }
        link(3, 150, -0.1);
        let diag = vec![1.0; n];
        let (order, entries, _) = EnvelopeCholesky::cost(&rows);
        assert!(entries < n * 40, "envelope of {entries} entries");
        let chol = EnvelopeCholesky::factor(&diag, &rows, order).unwrap();
        let b = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j) % 5) as f64 - 2.0);
        let x = chol.solve(b.view());
        for i in 0..n {
            for c in 0..3 {
                let mut s = diag[i] * x[[i, c]];
                for (j, v) in &rows[i] {
                    s += v * x[[*j, c]];
                }
                assert!(
                    (s - b[[i, c]]).abs() < 1e-12,
                    "row {i}: {s} vs {}",
                    b[[i, c]]
                );
            }
        }
        let (order, _, _) = EnvelopeCholesky::cost(&rows);
        let indefinite = vec![0.1; n];
        assert!(EnvelopeCholesky::factor(&indefinite, &rows, order).is_err());
    }
}
