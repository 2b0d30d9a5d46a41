//! Spectral clustering with scikit-learn's semantics (exact) and dask-ml's Nyström
//! approximation, on labelled arrays.
//!
//! Exact: RBF affinity, normalised as scipy's Laplacian does; the `n_clusters`
//! leading eigenvectors of `M = D^-1/2 A D^-1/2` (see `affinity`) by block Krylov
//! with thick restart (`krylov`) on `M`, or on `(σI − M)^-1` when the first cycle
//! shows eigenvalues crowding against 1 (`cholesky`, `envelope`); rows divided by
//! `sqrt(degree)`, each vector's sign fixed so its largest entry is positive; k-means
//! on the rows. The fitted model keeps the solver's name, iterations, every
//! eigenvalue and residual and whether it converged, and says when the
//! problem is ill-posed (a nearly empty graph, no spectral gap after `n_clusters`).
//!
//! Nyström (Fowlkes et al., as dask-ml does it): `n_components` random samples; their
//! exact affinity block `A` and the block `B` to the others; approximate degrees;
//! the eigen-decomposition of the small normalised block; an embedding of every
//! sample, rows normalised to unit length; k-means. The n × n matrix is never built.

use std::fmt;

use linfa_linalg::eigh::EighInto;
use ndarray::{Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use super::affinity::{normalised_affinity, Matrix, Sparse};
use super::cholesky::{cholesky, diagonal_blocks, solve, upper_symmetric_product};
use super::envelope::EnvelopeCholesky;
use super::krylov::{leading_eigenpairs, Eigenpairs, Settings};

/// Smallest block of the eigen-solver.
const BLOCK: usize = 16;
/// Blocks in the solver's basis before a restart.
const BASIS_BLOCKS: usize = 6;
/// Shift-and-invert works on `(1 + SHIFT) I − M`: eigenvalues within about `SHIFT`
/// of 1 map near 1, those 10 · SHIFT away near 0.1, the bulk near `SHIFT`. Smaller
/// shifts separate more but make `σI − M` worse conditioned (condition about
/// 2 / SHIFT), and each solve then loses digits the residuals need (1e-7 left
/// residuals stuck near the 1e-9 tolerance).
const SHIFT: f64 = 1e-5;
/// Largest envelope factorisation tried (flops); beyond it the Krylov method runs on
/// the matrix itself.
const MAX_FACTOR_FLOPS: f64 = 2e10;
/// A dense spectrum is packed when the eigenvalue after the wanted ones is this
/// close to 1 at the end of a Krylov cycle: shift-and-invert then takes over.
const PACKED: f64 = 0.01;
const KRYLOV: &str = "block Krylov with thick restart";
const SHIFT_INVERT_ENVELOPE: &str = "shift-and-invert block Krylov (envelope Cholesky)";
const SHIFT_INVERT_DENSE: &str = "shift-and-invert block Krylov (dense Cholesky)";

/// Rayleigh quotients `uᵀ M u` and residuals `|M u − λ u|` of unit columns, given
/// `M u`.
fn rayleigh(u: ndarray::ArrayView2<f64>, mu: &Array2<f64>) -> Vec<(f64, f64)> {
    (0..u.ncols())
        .map(|c| {
            let lambda = u.column(c).dot(&mu.column(c));
            let r = &mu.column(c) - &(&u.column(c) * lambda);
            (lambda, r.dot(&r).sqrt())
        })
        .collect()
}

/// Block Krylov on `SHIFT · (σI − M)^-1` (`σ = 1 + SHIFT`) given its solve, then
/// eigenvalues as Rayleigh quotients of `M` and residuals `|M u − λ u|`, with `M`
/// given by its product.
fn inverted_pairs(
    solve: impl Fn(ndarray::ArrayView2<f64>) -> Array2<f64>,
    product: impl Fn(ndarray::ArrayView2<f64>) -> Array2<f64>,
    start: Array2<f64>,
    settings: Settings,
) -> Result<Eigenpairs> {
    let mut found = leading_eigenpairs(
        |v| solve(v) * SHIFT,
        start,
        settings,
        |_, u, _| {
            rayleigh(u, &product(u))
                .into_iter()
                .map(|(_, r)| r)
                .collect()
        },
    )?;
    let exact = rayleigh(found.vectors.view(), &product(found.vectors.view()));
    found.values = exact.iter().map(|(l, _)| *l).collect();
    found.residuals = exact.iter().map(|(_, r)| *r).collect();
    Ok(found)
}

/// Shift-and-invert on a dense `M`, factorised in place: its strict upper triangle
/// still gives the products with `M` afterwards.
fn dense_shift_invert(
    mut m: Array2<f64>,
    start: Array2<f64>,
    settings: Settings,
) -> Result<Eigenpairs> {
    let sigma = 1.0 + SHIFT;
    m.mapv_inplace(|v| -v);
    for i in 0..m.nrows() {
        m[[i, i]] += sigma;
    }
    let diag = diagonal_blocks(&m);
    cholesky(&mut m)?;
    inverted_pairs(
        |v| solve(&m, v),
        |u| upper_symmetric_product(&m, &diag, u, -1.0),
        start,
        settings,
    )
}

/// Shift-and-invert on a sparse `M` when its envelope factor is cheap enough
/// (`None` otherwise).
fn sparse_shift_invert(
    sparse: &Sparse,
    matrix: &Matrix,
    start: Array2<f64>,
    settings: Settings,
) -> Result<Option<Eigenpairs>> {
    let rows = sparse.rows();
    let n = rows.len();
    let (order, entries, flops) = EnvelopeCholesky::cost(&rows);
    if flops > MAX_FACTOR_FLOPS || entries > n * n / 4 {
        return Ok(None);
    }
    let negated: Vec<Vec<(usize, f64)>> = rows
        .into_iter()
        .map(|r| r.into_iter().map(|(j, v)| (j, -v)).collect())
        .collect();
    let Ok(factor) = EnvelopeCholesky::factor(&vec![1.0 + SHIFT; n], &negated, order) else {
        return Ok(None);
    };
    drop(negated);
    inverted_pairs(|v| factor.solve(v), |u| matrix.matmul(u), start, settings).map(Some)
}

use super::kmeans::{kmeans_matrix, sizes, KMeansStart};
use super::matrix::samples;
use crate::error::{Error, Result};
use crate::model::DataArray;

/// Exact (full affinity) or approximate (Nyström) spectral clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectralMethod {
    /// scikit-learn's `SpectralClustering`.
    Exact,
    /// dask-ml's `SpectralClustering` (Nyström approximation).
    Nystrom,
}

/// The spectral clustering estimator.
///
/// ```no_run
/// # let x: geoxr::DataArray = unimplemented!();
/// use geoxr::SpectralClustering;
/// let model = SpectralClustering::exact(8).random_state(0).fit(&x)?;
/// let regimes = model.labels().unstack("z")?;
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralClustering {
    method: SpectralMethod,
    n_clusters: usize,
    gamma: Option<f64>,
    random_state: u64,
    n_init: usize,
    n_components: usize,
    max_iter: usize,
    tol: f64,
    persist_embedding: bool,
    drop_nonfinite: bool,
}

impl SpectralClustering {
    fn new(method: SpectralMethod, n_clusters: usize) -> SpectralClustering {
        SpectralClustering {
            method,
            n_clusters,
            gamma: None,
            random_state: 0,
            n_init: 10,
            n_components: 100,
            max_iter: 1000,
            tol: 1e-9,
            persist_embedding: false,
            drop_nonfinite: false,
        }
    }

    /// scikit-learn's spectral clustering into `n_clusters` clusters.
    pub fn exact(n_clusters: usize) -> SpectralClustering {
        SpectralClustering::new(SpectralMethod::Exact, n_clusters)
    }

    /// dask-ml's Nyström approximation, with 100 sampled rows by default.
    pub fn approximate(n_clusters: usize) -> SpectralClustering {
        SpectralClustering::new(SpectralMethod::Nystrom, n_clusters)
    }

    /// RBF `gamma`. When not set, `1 / n_features`: what `gamma=None` means in
    /// scikit-learn's RBF kernel, and what the tutorial ran.
    pub fn gamma(mut self, gamma: f64) -> SpectralClustering {
        self.gamma = Some(gamma);
        self
    }
    /// Seed of every random choice (samples, starts of k-means, solver start).
    pub fn random_state(mut self, seed: u64) -> SpectralClustering {
        self.random_state = seed;
        self
    }
    /// k-means starts on the embedding.
    pub fn n_init(mut self, n: usize) -> SpectralClustering {
        self.n_init = n.max(1);
        self
    }
    /// Sampled rows of the Nyström approximation.
    pub fn n_components(mut self, n: usize) -> SpectralClustering {
        self.n_components = n;
        self
    }
    /// Most iterations (block products) of the eigen-solver (exact method).
    pub fn max_iter(mut self, n: usize) -> SpectralClustering {
        self.max_iter = n.max(1);
        self
    }
    /// Largest eigen-residual `|M v − λ v|` accepted (exact method; default 1e-9,
    /// `M` has norm 1).
    pub fn tol(mut self, tol: f64) -> SpectralClustering {
        self.tol = tol;
        self
    }
    /// Keep the embedding in the fitted model.
    pub fn persist_embedding(mut self, yes: bool) -> SpectralClustering {
        self.persist_embedding = yes;
        self
    }
    /// Leave out samples with NaN or infinite values (label -1) instead of failing.
    pub fn drop_nonfinite(mut self, yes: bool) -> SpectralClustering {
        self.drop_nonfinite = yes;
        self
    }

    /// Clusters the rows (first dimension) of a 2-D array.
    pub fn fit(&self, x: &DataArray) -> Result<SpectralModel> {
        let s = samples(x, self.drop_nonfinite)?;
        let (n, f) = s.matrix.dim();
        let k = self.n_clusters;
        if k < 1 || n < k {
            return Err(Error::invalid(
                format!("spectral clustering into {k} clusters"),
                format!("needs at least {k} samples (and 1 cluster); got {n}"),
            ));
        }
        if f == 0 {
            return Err(Error::invalid(
                format!("spectral clustering into {k} clusters"),
                "the samples have no features (the second dimension is empty)",
            ));
        }
        let gamma = self.gamma.unwrap_or(1.0 / f as f64);
        if !(gamma > 0.0 && gamma.is_finite()) {
            return Err(Error::invalid(
                format!("spectral clustering with gamma = {gamma}"),
                "gamma must be positive and finite",
            ));
        }
        if let Some(i) = s.matrix.outer_iter().position(|r| !r.dot(&r).is_finite()) {
            return Err(Error::invalid(
                format!("spectral clustering of `{}`", x.name().unwrap_or("array")),
                format!(
                    "sample {i} is so large that its squared norm overflows; scale the features"
                ),
            ));
        }
        if self.tol.is_nan() || self.tol <= 0.0 {
            return Err(Error::invalid(
                format!("spectral clustering with tol = {}", self.tol),
                "the tolerance must be positive",
            ));
        }
        let (embedding, spectrum) = match self.method {
            SpectralMethod::Exact => self.exact_embedding(&s.matrix, gamma)?,
            SpectralMethod::Nystrom => self.nystrom_embedding(&s.matrix, gamma)?,
        };
        let start = match self.method {
            SpectralMethod::Exact => KMeansStart::PlusPlus,
            SpectralMethod::Nystrom => KMeansStart::Parallel,
        };
        let fit = kmeans_matrix(&embedding, k, self.n_init, 300, self.random_state, start)?;
        let labels = first_appearance_order(&fit.labels);
        Ok(SpectralModel {
            params: self.clone(),
            gamma,
            labels: s.to_labels(&labels, "labels")?,
            sizes: sizes(&labels.iter().map(|l| *l as usize).collect::<Vec<_>>(), k),
            inertia: fit.inertia,
            embedding: self.persist_embedding.then_some(embedding),
            spectrum,
        })
    }

    fn exact_embedding(&self, x: &Array2<f64>, gamma: f64) -> Result<(Array2<f64>, Spectrum)> {
        let n = x.nrows();
        let k = self.n_clusters;
        let aff = normalised_affinity(x, gamma)?;
        // A block wider than the clusters wanted: clustered eigenvalues converge in a
        // wide block, and the next eigenvalues tell whether there is a gap.
        let block = BLOCK.max(k + 4).min(n);
        let mut rng = Xoshiro256Plus::seed_from_u64(self.random_state);
        let start = Array2::from_shape_fn((n, block), |_| rng.gen::<f64>() - 0.5);
        let settings = Settings {
            wanted: k,
            returned: (k + 3).min(n),
            basis: block * BASIS_BLOCKS,
            tol: self.tol,
            max_products: self.max_iter.saturating_mul(block),
            stop_if_packed: None,
        };
        let (leading, solver, storage) = match aff.matrix {
            matrix @ Matrix::Sparse(_) => {
                let found = match &matrix {
                    Matrix::Sparse(sp) => {
                        sparse_shift_invert(sp, &matrix, start.clone(), settings)?
                    }
                    Matrix::Dense(_) => None,
                };
                match found {
                    Some(found) => (found, SHIFT_INVERT_ENVELOPE, "sparse"),
                    None => (
                        leading_eigenpairs(|v| matrix.matmul(v), start, settings, |_, _, r| r)?,
                        KRYLOV,
                        "sparse",
                    ),
                }
            }
            Matrix::Dense(dense) => {
                let matrix = Matrix::Dense(dense);
                let probe = Settings {
                    stop_if_packed: Some(PACKED),
                    ..settings
                };
                let found =
                    leading_eigenpairs(|v| matrix.matmul(v), start.clone(), probe, |_, _, r| r)?;
                let packed =
                    !found.converged && found.values.get(k).is_some_and(|t| *t >= 1.0 - PACKED);
                match (packed, matrix) {
                    (true, Matrix::Dense(dense)) => (
                        dense_shift_invert(dense, start, settings)?,
                        SHIFT_INVERT_DENSE,
                        "dense",
                    ),
                    _ => (found, KRYLOV, "dense"),
                }
            }
        };
        let mut embedding = Array2::zeros((n, k));
        for c in 0..k {
            let mut v: Array1<f64> = leading.vectors.column(c).to_owned();
            for (value, d) in v.iter_mut().zip(&aff.sqrt_degree) {
                *value /= d;
            }
            // Deterministic sign: the entry of largest magnitude is positive.
            let biggest = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if biggest < 0.0 {
                v.mapv_inplace(|x| -x);
            }
            embedding.column_mut(c).assign(&v);
        }
        let spectrum = Spectrum {
            solver: format!("{solver} on the {storage} normalised affinity"),
            iterations: leading.products.div_ceil(block),
            restarts: leading.cycles - 1,
            eigenvalues: leading.values,
            residuals: leading.residuals,
            converged: leading.converged,
            min_degree: Some(aff.min_degree),
            median_sq_distance: Some(aff.median_sq_distance),
            components: Some(aff.components),
            stored: Some(aff.stored),
            n,
        };
        Ok((embedding, spectrum))
    }

    fn nystrom_embedding(&self, x: &Array2<f64>, gamma: f64) -> Result<(Array2<f64>, Spectrum)> {
        let (n, k, l) = (x.nrows(), self.n_clusters, self.n_components);
        if l >= n {
            return Err(Error::invalid(
                format!("Nyström with n_components = {l}"),
                format!("must be smaller than the number of samples ({n})"),
            ));
        }
        if l < k {
            return Err(Error::invalid(
                format!("Nyström with n_components = {l}"),
                format!("must be at least n_clusters ({k})"),
            ));
        }
        let mut rng = Xoshiro256Plus::seed_from_u64(self.random_state);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut keep = order[..l].to_vec();
        let mut rest = order[l..].to_vec();
        keep.sort_unstable();
        rest.sort_unstable();
        let xk = x.select(Axis(0), &keep);
        let xr = x.select(Axis(0), &rest);
        let rbf = |a: &Array2<f64>, b: &Array2<f64>| -> Array2<f64> {
            let na: Vec<f64> = a.outer_iter().map(|r| r.dot(&r)).collect();
            let nb: Vec<f64> = b.outer_iter().map(|r| r.dot(&r)).collect();
            let mut g = a.dot(&b.t());
            for ((i, j), v) in g.indexed_iter_mut() {
                *v = (-gamma * (na[i] + nb[j] - 2.0 * *v).max(0.0)).exp();
            }
            g
        };
        let a = rbf(&xk, &xk);
        let b = rbf(&xk, &xr);
        let a_inv = pinv(&a)?;
        let b_rows = b.sum_axis(Axis(1));
        let d1: Array1<f64> = (&a.sum_axis(Axis(0)) + &b_rows).mapv(|v| 1.0 / v.sqrt());
        let d2: Array1<f64> =
            (&b.sum_axis(Axis(0)) + &b.t().dot(&a_inv.dot(&b_rows))).mapv(|v| 1.0 / v.sqrt());
        let a2 = &a * &d1.view().insert_axis(Axis(1)) * d1.view().insert_axis(Axis(0));
        let b2 = &b * &d1.view().insert_axis(Axis(1)) * d2.view().insert_axis(Axis(0));
        // A2 is symmetric: its SVD is its eigen-decomposition (by magnitude).
        let (values, vectors) = a2.clone().eigh_into().map_err(|e| {
            Error::invalid(
                "Nyström",
                format!("eigen-decomposition of the sampled block: {e}"),
            )
        })?;
        let mut idx: Vec<usize> = (0..values.len()).collect();
        idx.sort_by(|i, j| values[*j].abs().total_cmp(&values[*i].abs()));
        let top: Vec<usize> = idx[..k].to_vec();
        let u = vectors.select(Axis(1), &top);
        let scale: Array1<f64> = top.iter().map(|i| 1.0 / values[*i].abs().sqrt()).collect();
        let stacked = ndarray::concatenate(Axis(0), &[a2.view(), b2.t()])
            .map_err(|e| Error::invalid("Nyström", e.to_string()))?;
        let mut v2 =
            stacked.dot(&u) * scale.view().insert_axis(Axis(0)) * ((l as f64) / (n as f64)).sqrt();
        for mut row in v2.outer_iter_mut() {
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                row /= norm;
            }
        }
        // Back to the samples' own order.
        let mut embedding = Array2::zeros((n, k));
        for (pos, sample) in keep.iter().chain(&rest).enumerate() {
            embedding.row_mut(*sample).assign(&v2.row(pos));
        }
        let eigenvalues: Vec<f64> = top.iter().map(|i| values[*i]).collect();
        // Approximate degrees (without self-loops) and typical distances, from the
        // sampled rows, for the same diagnostics as the exact method.
        // d1 counts each sampled row's own affinity (1); d2 does not.
        let min_degree = d1
            .iter()
            .map(|d| 1.0 / (d * d) - 1.0)
            .chain(d2.iter().map(|d| 1.0 / (d * d)))
            .fold(f64::INFINITY, f64::min)
            .max(0.0);
        let mut sq: Vec<f64> = a
            .indexed_iter()
            .filter(|((i, j), _)| i < j)
            .map(|(_, v)| -v.max(f64::MIN_POSITIVE).ln() / gamma)
            .collect();
        sq.sort_by(f64::total_cmp);
        let spectrum = Spectrum {
            solver: "Nyström: eigen-decomposition of the sampled block".to_string(),
            iterations: 0,
            restarts: 0,
            residuals: Vec::new(),
            eigenvalues,
            converged: true,
            min_degree: Some(min_degree),
            median_sq_distance: sq.get(sq.len() / 2).copied(),
            components: None,
            stored: None,
            n,
        };
        Ok((embedding, spectrum))
    }
}

/// Cluster ids renumbered in order of first appearance along the samples, so that the
/// same partition always gets the same ids.
pub(crate) fn first_appearance_order(labels: &[usize]) -> Vec<i64> {
    let mut map: Vec<Option<i64>> = vec![None; labels.iter().max().map_or(0, |m| m + 1)];
    let mut next = 0;
    labels
        .iter()
        .map(|l| {
            *map[*l].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// Moore-Penrose inverse of a symmetric matrix, through its eigen-decomposition.
fn pinv(a: &Array2<f64>) -> Result<Array2<f64>> {
    let (values, vectors) = a.clone().eigh_into().map_err(|e| {
        Error::invalid(
            "Nyström",
            format!("pseudo-inverse of the sampled block: {e}"),
        )
    })?;
    let cutoff =
        values.iter().fold(0.0f64, |m, v| m.max(v.abs())) * a.nrows() as f64 * f64::EPSILON;
    let inv: Array1<f64> = values.mapv(|v| if v.abs() > cutoff { 1.0 / v } else { 0.0 });
    Ok((&vectors * &inv.view().insert_axis(Axis(0))).dot(&vectors.t()))
}

/// What the eigen-solver found.
#[derive(Debug, Clone)]
pub struct Spectrum {
    /// The eigen-solver that ran.
    pub solver: String,
    /// Its iterations (block products with the operator; 0 for Nyström).
    pub iterations: usize,
    /// Its restarts.
    pub restarts: usize,
    /// Leading eigenvalues of the normalised affinity, largest first (Nyström: of
    /// the sampled block).
    pub eigenvalues: Vec<f64>,
    /// `|M v - λ v|` of each eigenpair (exact method).
    pub residuals: Vec<f64>,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// Smallest degree of the affinity graph (exact method).
    pub min_degree: Option<f64>,
    /// Median squared distance between samples (from a sample of pairs).
    pub median_sq_distance: Option<f64>,
    /// Connected components of the graph after dropping negligible entries.
    pub components: Option<usize>,
    /// Stored entries of the sparse normalised affinity.
    pub stored: Option<usize>,
    n: usize,
}

/// A fitted spectral clustering.
#[derive(Debug, Clone)]
pub struct SpectralModel {
    params: SpectralClustering,
    gamma: f64,
    labels: DataArray,
    sizes: Vec<usize>,
    inertia: f64,
    embedding: Option<Array2<f64>>,
    spectrum: Spectrum,
}

impl SpectralModel {
    /// The cluster of every sample, labelled like the samples (a cheap copy: the
    /// values are shared).
    pub fn labels(&self) -> DataArray {
        self.labels.clone()
    }
    /// Number of samples in each cluster.
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// k-means inertia on the embedding (compare fits by it, not by label agreement).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }
    /// The embedding (samples × clusters), when asked to keep it.
    pub fn embedding(&self) -> Option<&Array2<f64>> {
        self.embedding.as_ref()
    }
    /// Eigenvalues, residuals and graph facts.
    pub fn spectrum(&self) -> &Spectrum {
        &self.spectrum
    }
    /// The `gamma` used.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Warnings about the problem: a graph in pieces, a nearly empty graph, no gap
    /// after `n_clusters` eigenvalues, an unconverged solver. Each with a hint.
    pub fn warnings(&self) -> Vec<String> {
        let s = &self.spectrum;
        let k = self.params.n_clusters;
        let mut out = Vec::new();
        if !s.converged {
            out.push(format!(
                "the eigen-solver stopped before its tolerance (largest residual {:.1e}); raise max_iter or see the hint below",
                s.residuals.iter().take(k).copied().fold(0.0, f64::max)
            ));
        }
        if let Some(c) = s.components.filter(|c| *c > 1) {
            out.push(format!("the affinity graph is not connected ({c} pieces): the embedding may not work as expected"));
        }
        let hint = s
            .median_sq_distance
            .map(|m| format!("scale the features, or pick gamma from the distances, e.g. gamma = 1/median(d²) = {:.3e}", 1.0 / m))
            .unwrap_or_default();
        if let Some(d) = s.min_degree.filter(|d| *d < 1e-6) {
            out.push(format!(
                "the graph is nearly empty: gamma = {:.3e} makes most samples unrelated (smallest degree {d:.1e}); {hint}",
                self.gamma
            ));
        }
        if s.eigenvalues.len() > k {
            let gaps: Vec<f64> = s.eigenvalues.windows(2).map(|w| w[0] - w[1]).collect();
            let after = gaps[k - 1];
            let typical = gaps[..k - 1].iter().copied().fold(0.0, f64::max);
            if k > 1 && after <= typical {
                out.push(format!(
                    "no spectral gap after {k} eigenvalues ({:.2e} against up to {typical:.2e} before): {k} clusters are not well determined; {hint}",
                    after
                ));
            }
        }
        out
    }
}

impl fmt::Display for SpectralClustering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gamma = self
            .gamma
            .map_or("1/n_features".to_string(), |g| format!("{g}"));
        match self.method {
            SpectralMethod::Exact => write!(
                f,
                "SpectralClustering(exact, n_clusters={}, gamma={gamma}, random_state={}, n_init={})",
                self.n_clusters, self.random_state, self.n_init
            ),
            SpectralMethod::Nystrom => write!(
                f,
                "SpectralClustering(Nyström, n_clusters={}, n_components={}, gamma={gamma}, random_state={}, persist_embedding={})",
                self.n_clusters, self.n_components, self.random_state, self.persist_embedding
            ),
        }
    }
}

impl fmt::Display for SpectralModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spectrum;
        writeln!(
            f,
            "{} fitted on {} samples, gamma = {:.4e}",
            self.params, s.n, self.gamma
        )?;
        writeln!(f, "cluster sizes: {:?}", self.sizes)?;
        let ev: Vec<String> = s.eigenvalues.iter().map(|e| format!("{:.6}", e)).collect();
        writeln!(f, "eigenvalues: [{}]", ev.join(", "))?;
        if s.residuals.is_empty() {
            writeln!(f, "solver: {}", s.solver)?;
        } else {
            let r: Vec<String> = s.residuals.iter().map(|r| format!("{r:.1e}")).collect();
            writeln!(
                f,
                "solver: {}, {} iterations, {} restarts, {}",
                s.solver,
                s.iterations,
                s.restarts,
                if s.converged {
                    "converged"
                } else {
                    "NOT converged"
                }
            )?;
            writeln!(f, "residuals: [{}]", r.join(", "))?;
        }
        if let (Some(c), Some(nnz)) = (s.components, s.stored) {
            writeln!(f, "graph: {nnz} stored affinities, {c} connected piece(s)")?;
        }
        write!(f, "k-means inertia on the embedding: {:.6e}", self.inertia)?;
        for w in self.warnings() {
            write!(f, "\nwarning: {w}")?;
        }
        Ok(())
    }
}
