//! Spectral clustering with scikit-learn's semantics (exact) and dask-ml's Nyström
//! approximation, on labelled arrays.
//!
//! Exact: RBF affinity, normalised as scipy's Laplacian does; the `n_clusters`
//! leading eigenvectors of `M = D^-1/2 A D^-1/2` (see `affinity`) by block Krylov
//! with thick restart (`krylov`) on `M`; when the first cycle shows eigenvalues
//! crowding against 1, shift-and-invert in two phases: block Krylov on the inverse
//! of an approximate factor of `σI − M` (a single-precision dense Cholesky, or the
//! envelope Cholesky of a sparsified `M` when the graph is sparse enough), then
//! LOBPCG on `M` in double precision with that factor as preconditioner (`lobpcg`),
//! which brings the residuals to the tolerance in a step or two; rows divided by
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

use super::eigh::symmetric_eigen;
use ndarray::{Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use super::affinity::{normalised_affinity, sparsified, Matrix, Packed};
use super::cholesky::{cholesky, flushed, solve, Real};
use super::envelope::EnvelopeCholesky;
use super::krylov::{leading_eigenpairs, Eigenpairs, Settings};
use super::lobpcg::{lobpcg, Settings as LobpcgSettings};
use super::packed::ROWS;

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
/// The envelope factorisation (one thread, scalar) is tried when it costs at most
/// this fraction of the flops of a dense Cholesky (`n³/3`, parallel matrix products
/// in single precision): on the Amazon box at 1/n_features an envelope of a quarter
/// of those flops took 13.7 s against 3 s for the dense single-precision factor.
const MAX_FACTOR_SHARE: f64 = 1.0 / 32.0;
/// A spectrum is packed when the Ritz value after the wanted ones comes this close
/// to 1 in the probe cycle: shift-and-invert then takes over. On the tutorial's
/// box at gamma = 1/n_features that Ritz value is 0.93 after 5 block products and
/// needs 14 to pass 0.99 (a threshold of 0.01 cost 9 more dense products); at
/// gamma = 1/median(d²), where Krylov converges in 16, it stays below 0.03.
const PACKED: f64 = 0.1;
/// Each row of the sparsified affinity that preconditions shift-and-invert loses at
/// most this much of its sum (see `sparsified_shift_invert`).
const SPARSIFY_MASS: f64 = 1e-7;
/// Most entries per row of the sparsified affinity: beyond, the graph is dense and
/// Krylov methods on the matrix itself converge.
const MAX_SPARSIFIED_PER_ROW: usize = 400;
/// Block solves of the first phase around an approximate factor, at most.
const FIRST_PHASE_BLOCKS: usize = 12;
/// Residual the first phase stops at with a single-precision factor (its own
/// accuracy is about this; LOBPCG then takes over).
const SINGLE_FIRST_TOL: f64 = 1e-6;
const KRYLOV: &str = "block Krylov with thick restart";

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
/// given by its product; also `M u` of the vectors returned.
fn inverted_pairs(
    solve: impl Fn(ndarray::ArrayView2<f64>) -> Array2<f64>,
    product: impl Fn(ndarray::ArrayView2<f64>) -> Array2<f64>,
    start: Array2<f64>,
    settings: Settings,
) -> Result<(Eigenpairs, Array2<f64>)> {
    // The residuals of each cycle need `M u`; the last one is kept for the answer.
    let last = std::cell::RefCell::new(None);
    let mut found = leading_eigenpairs(
        |v| solve(v) * SHIFT,
        start,
        settings,
        |_, u, _| {
            let mu = product(u);
            let r = rayleigh(u, &mu).into_iter().map(|(_, r)| r).collect();
            *last.borrow_mut() = Some(mu);
            r
        },
    )?;
    let count = found.vectors.ncols();
    let mu = match last.into_inner() {
        Some(mu) if mu.nrows() == found.vectors.nrows() && mu.ncols() >= count => {
            mu.slice(ndarray::s![.., ..count]).to_owned()
        }
        _ => product(found.vectors.view()),
    };
    let exact = rayleigh(found.vectors.view(), &mu);
    found.values = exact.iter().map(|(l, _)| *l).collect();
    found.residuals = exact.iter().map(|(_, r)| *r).collect();
    Ok((found, mu))
}

/// How the two-phase shift-and-invert went.
struct TwoPhase {
    found: Eigenpairs,
    /// Block solves of the first phase, LOBPCG steps of the second.
    solves: usize,
    steps: usize,
    factor_seconds: f64,
}

/// The two phases around a factor of (an approximation of) `σI − M` given by its
/// block solve: block Krylov on the inverse (Rayleigh quotients and residuals of
/// `factored`, the matrix factored, or `M` itself when `None`) to `first_tol`, then
/// LOBPCG on `M` itself with the factor as preconditioner to the tolerance of
/// `settings`. Returns what was found, the block solves of the first phase and the
/// LOBPCG steps.
fn two_phase(
    solve: impl Fn(ndarray::ArrayView2<f64>) -> Array2<f64>,
    factored: Option<&Matrix>,
    matrix: &Matrix,
    start: Array2<f64>,
    settings: Settings,
    first_tol: f64,
) -> Result<(Eigenpairs, usize, usize)> {
    let block = start.ncols();
    let (first, mu) = inverted_pairs(
        &solve,
        |u| factored.unwrap_or(matrix).matmul(u),
        start,
        Settings {
            returned: block,
            tol: settings.tol.max(first_tol),
            max_products: settings.max_products.min(FIRST_PHASE_BLOCKS * block),
            ..settings
        },
    )?;
    let solves = first.products.div_ceil(block);
    let mut found = lobpcg(
        |v| matrix.matmul(v),
        solve,
        first.vectors,
        factored.is_none().then_some(mu),
        LobpcgSettings {
            wanted: settings.wanted,
            returned: settings.returned,
            tol: settings.tol,
            max_products: settings.max_products,
        },
    )?;
    let steps = found.cycles - 1;
    found.cycles += first.cycles;
    found.products += first.products;
    Ok((found, solves, steps))
}

/// Shift-and-invert through a dense Cholesky factor of `σI − M` in `T`, polished by
/// LOBPCG on `M` in double precision. In single precision (half the memory and
/// twice the vector width of double) the first phase stops at the factor's own
/// accuracy, [`SINGLE_FIRST_TOL`]; a double-precision factor (the fallback) is
/// accurate enough for the whole tolerance. `None` when the factor does not fit in
/// memory or loses positive definiteness.
fn dense_factor_shift_invert<T: Real>(
    matrix: &Matrix,
    start: Array2<f64>,
    settings: Settings,
) -> Result<Option<TwoPhase>> {
    let n = matrix.order();
    let width = std::mem::size_of::<T>() as u64;
    // The upper triangle only (and the diagonal squares whole).
    let bytes = (n as u64)
        .saturating_mul(n as u64 + ROWS as u64)
        .saturating_mul(width)
        / 2;
    if crate::virtual_memory().is_ok_and(|mem| bytes > mem.available / 10 * 8) {
        return Ok(None);
    }
    let clock = std::time::Instant::now();
    let sigma = T::from_f64(1.0 + SHIFT);
    let shifted = Packed::from_blocks(n, |b, r0, rows| {
        let mut block = match matrix {
            Matrix::Dense(m) => m.blocks[b].mapv(|v| flushed(-v)),
            Matrix::Sparse(_) => {
                let mut block = Array2::<T>::zeros((rows, n - r0));
                for (bi, mut out) in block.outer_iter_mut().enumerate() {
                    matrix.visit_row(r0 + bi, |j, v| {
                        if j >= r0 {
                            out[j - r0] = flushed(-v);
                        }
                    });
                }
                block
            }
        };
        for i in 0..rows {
            block[[i, i]] = sigma;
        }
        block
    });
    let Some(mut l) = shifted else {
        return Ok(None);
    };
    if cholesky(&mut l).is_err() {
        return Ok(None);
    }
    let factor_seconds = clock.elapsed().as_secs_f64();
    let solve_t = |v: ndarray::ArrayView2<f64>| -> Array2<f64> {
        solve(&l, v.mapv(T::from_f64).view()).mapv(T::to_f64)
    };
    let first_tol = if width < 8 {
        SINGLE_FIRST_TOL
    } else {
        settings.tol
    };
    let (found, solves, steps) = two_phase(solve_t, None, matrix, start, settings, first_tol)?;
    Ok(Some(TwoPhase {
        found,
        solves,
        steps,
        factor_seconds,
    }))
}

/// The dense-factor route in single precision, or in double precision when single
/// fails; with the precision that ran.
fn factored(
    matrix: &Matrix,
    start: &Array2<f64>,
    settings: Settings,
) -> Result<Option<(TwoPhase, &'static str)>> {
    if let Some(run) = dense_factor_shift_invert::<f32>(matrix, start.clone(), settings)? {
        return Ok(Some((run, "single")));
    }
    Ok(dense_factor_shift_invert::<f64>(matrix, start.clone(), settings)?.map(|r| (r, "double")))
}

/// What the sparsified route found, with its timings.
struct Sparsified {
    /// Stored entries of the sparsified matrix and of its factor.
    stored: usize,
    factor_entries: usize,
    run: TwoPhase,
}

/// Shift-and-invert on the sparsified `M_s` ([`sparsified`], each row losing at
/// most [`SPARSIFY_MASS`]) through its envelope Cholesky factor, then LOBPCG on `M`
/// itself with that factor as preconditioner: the eigenvectors of `M_s` are within
/// `SPARSIFY_MASS / gap` of those of `M`, and each LOBPCG step cuts the residuals
/// by about `SPARSIFY_MASS / SHIFT`. `None` when the factor would cost too much
/// (a dense graph), when the caller falls back on Krylov methods.
fn sparsified_shift_invert(
    matrix: &Matrix,
    start: Array2<f64>,
    settings: Settings,
) -> Result<Option<Sparsified>> {
    let n = matrix.order();
    let Some(ms) = sparsified(
        matrix,
        SPARSIFY_MASS,
        n.saturating_mul(MAX_SPARSIFIED_PER_ROW),
    ) else {
        return Ok(None);
    };
    let clock = std::time::Instant::now();
    let rows = ms.rows();
    let (order, entries, flops) = EnvelopeCholesky::cost(&rows);
    let dense_flops = (n as f64).powi(3) / 3.0;
    if flops > MAX_FACTOR_SHARE * dense_flops || entries > n * n / 4 {
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
    let factor_seconds = clock.elapsed().as_secs_f64();
    let stored = ms.stored();
    let ms = Matrix::Sparse(ms);
    // Eigenvectors of M_s to the accuracy they can have as eigenvectors of M.
    let (found, solves, steps) = two_phase(
        |v| factor.solve(v),
        Some(&ms),
        matrix,
        start,
        settings,
        10.0 * SPARSIFY_MASS,
    )?;
    Ok(Some(Sparsified {
        stored,
        factor_entries: entries,
        run: TwoPhase {
            found,
            solves,
            steps,
            factor_seconds,
        },
    }))
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
/// let regimes = model.labels().unstack("z");
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
        let (embedding, mut spectrum) = match self.method {
            SpectralMethod::Exact => self.exact_embedding(&s.matrix, gamma)?,
            SpectralMethod::Nystrom => self.nystrom_embedding(&s.matrix, gamma)?,
        };
        let start = match self.method {
            SpectralMethod::Exact => KMeansStart::PlusPlus,
            SpectralMethod::Nystrom => KMeansStart::Parallel,
        };
        let clock = std::time::Instant::now();
        let fit = kmeans_matrix(&embedding, k, self.n_init, 300, self.random_state, start)?;
        if self.method == SpectralMethod::Exact {
            spectrum
                .timings
                .push(("k-means", clock.elapsed().as_secs_f64()));
        }
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
        let clock = std::time::Instant::now();
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
        let storage = match aff.matrix {
            Matrix::Dense(_) => "dense",
            Matrix::Sparse(_) => "sparse",
        };
        let mut timings = vec![("affinity", clock.elapsed().as_secs_f64())];
        let clock = std::time::Instant::now();
        let sparse_route = match &aff.matrix {
            Matrix::Sparse(_) => sparsified_shift_invert(&aff.matrix, start.clone(), settings)?,
            Matrix::Dense(_) => None,
        };
        let (leading, solver) = match (sparse_route, aff.matrix) {
            (Some(sp), _) => {
                timings.push(("factor", sp.run.factor_seconds));
                let solver = format!(
                    "shift-and-invert block Krylov on a sparsified affinity ({} entries, envelope Cholesky of {} entries, {} block solves), then LOBPCG preconditioned by that factor on the {storage} normalised affinity ({} steps)",
                    sp.stored, sp.factor_entries, sp.run.solves, sp.run.steps
                );
                (sp.run.found, solver)
            }
            (None, matrix) => {
                let probe = Settings {
                    stop_if_packed: Some(PACKED),
                    ..settings
                };
                let probe_clock = std::time::Instant::now();
                let found =
                    leading_eigenpairs(|v| matrix.matmul(v), start.clone(), probe, |_, _, r| r)?;
                let packed =
                    !found.converged && found.values.get(k).is_some_and(|t| *t >= 1.0 - PACKED);
                let probe_seconds = probe_clock.elapsed().as_secs_f64();
                timings.push((if packed { "probe" } else { "Krylov" }, probe_seconds));
                if !packed {
                    (
                        found,
                        format!("{KRYLOV} on the {storage} normalised affinity"),
                    )
                } else if let Some((run, precision)) = factored(&matrix, &start, settings)? {
                    timings.push(("factor", run.factor_seconds));
                    let solver = format!(
                        "shift-and-invert block Krylov through a {precision}-precision Cholesky factor ({} block solves), then LOBPCG preconditioned by that factor on the {storage} normalised affinity ({} steps)",
                        run.solves, run.steps
                    );
                    (run.found, solver)
                } else {
                    (
                        found,
                        format!(
                            "{KRYLOV} on the {storage} normalised affinity (too large to factor)"
                        ),
                    )
                }
            }
        };
        timings.push(("eigen-solver", clock.elapsed().as_secs_f64()));
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
            solver,
            iterations: leading.products.div_ceil(block),
            restarts: leading.cycles - 1,
            eigenvalues: leading.values,
            residuals: leading.residuals,
            converged: leading.converged,
            min_degree: Some(aff.min_degree),
            median_sq_distance: Some(aff.median_sq_distance),
            components: Some(aff.components),
            stored: Some(aff.stored),
            timings,
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
        let (values, vectors) = symmetric_eigen(a2.clone()).map_err(|e| {
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
            timings: Vec::new(),
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
    let (values, vectors) = symmetric_eigen(a.clone()).map_err(|e| {
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
    /// Seconds of each stage of the exact fit (affinity; the probe cycle or the
    /// Krylov solve; the factor; the whole eigen-solver; k-means).
    pub timings: Vec<(&'static str, f64)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_double_precision_fallback_finds_a_packed_spectrum() {
        // Six groups linked by affinities near 1e-7: six eigenvalues within 1e-5 of 1.
        let (groups, per) = (6, 30);
        let n = groups * per;
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        let mut a = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..i {
                let v = if i / per == j / per {
                    0.5 + 0.5 * rng.gen::<f64>()
                } else {
                    1e-7 * rng.gen::<f64>()
                };
                a[[i, j]] = v;
                a[[j, i]] = v;
            }
        }
        let d: Vec<f64> = a.rows().into_iter().map(|r| r.sum().sqrt()).collect();
        let m = Array2::from_shape_fn((n, n), |(i, j)| a[[i, j]] / (d[i] * d[j]));
        let (want, _) = symmetric_eigen(m.clone()).unwrap();
        let mut want = want.to_vec();
        want.sort_by(|x, y| y.total_cmp(x));
        assert!(1.0 - want[5] < 1e-5, "{:?}", &want[..6]);
        let start = Array2::from_shape_fn((n, 10), |_| rng.gen::<f64>() - 0.5);
        let settings = Settings {
            wanted: 6,
            returned: 7,
            basis: 40,
            tol: 1e-10,
            max_products: 4000,
            stop_if_packed: None,
        };
        let matrix = Matrix::Dense(
            Packed::from_blocks(n, |_, r0, rows| {
                m.slice(ndarray::s![r0..r0 + rows, r0..]).to_owned()
            })
            .unwrap(),
        );
        let found = dense_factor_shift_invert::<f64>(&matrix, start, settings)
            .unwrap()
            .unwrap()
            .found;
        assert!(found.converged, "{:?}", found.residuals);
        for (got, want) in found.values.iter().zip(&want).take(6) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }
}
