//! k-means on labelled arrays: k-means++ (scikit-learn's default) or k-means||
//! (dask-ml's) starts, Lloyd iterations, the best of `n_init` runs by inertia.
//!
//! Written here rather than taken from linfa-clustering, whose k-means|| draws from
//! one generator per rayon task (so labels changed from run to run with a fixed seed)
//! and which panics on empty input and on values whose squares overflow. Every
//! random draw here comes from one seeded generator in a fixed order; sums over
//! samples run over fixed chunks merged in order, so labels are the same bit for bit
//! whatever the number of threads. Values are scaled by a power of two (exact)
//! before any distance is squared.

use std::fmt;

use ndarray::{Array2, ArrayView1, Axis};
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

use super::matrix::samples;
use crate::error::{Error, Result};
use crate::model::DataArray;

/// How k-means picks its first centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KMeansStart {
    /// k-means++ (scikit-learn's default).
    PlusPlus,
    /// k-means|| (dask-ml's default), the parallel variant of k-means++.
    Parallel,
}

/// k-means result on a plain matrix.
pub(crate) struct KMeansFit {
    pub labels: Vec<usize>,
    pub centroids: Array2<f64>,
    pub inertia: f64,
}

/// Samples per chunk of the parallel assignment step (fixed, so that partial sums
/// merge in the same order on any number of threads).
const CHUNK: usize = 256;

/// Squared distance between two rows.
fn sq_dist(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// A power of two bringing the largest magnitude of `m` near 1 (exact scaling).
fn power_of_two_scale(m: &Array2<f64>) -> f64 {
    let largest = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if largest > 0.0 && largest.is_finite() {
        let e = largest.log2().ceil().clamp(-1000.0, 1000.0) as i32;
        2f64.powi(e)
    } else {
        1.0
    }
}

/// Runs k-means on the rows of `matrix`.
pub(crate) fn kmeans_matrix(
    matrix: &Array2<f64>,
    k: usize,
    n_init: usize,
    max_iter: u64,
    seed: u64,
    start: KMeansStart,
) -> Result<KMeansFit> {
    let (n, f) = matrix.dim();
    let what = || format!("k-means with {k} clusters");
    if k == 0 {
        return Err(Error::invalid(what(), "needs at least 1 cluster"));
    }
    if n < k {
        return Err(Error::invalid(
            what(),
            format!("needs at least {k} samples; got {n}"),
        ));
    }
    if f == 0 {
        return Err(Error::invalid(
            what(),
            "the samples have no features (the second dimension is empty)",
        ));
    }
    if matrix.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            what(),
            "the matrix holds NaN or infinite values",
        ));
    }
    let scale = power_of_two_scale(matrix);
    let x = matrix / scale;
    // scikit-learn's tolerance: relative to the mean variance of the features.
    let variance = x.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
    let tol = 1e-4 * variance;
    let mut seeds = Xoshiro256Plus::seed_from_u64(seed);
    let mut best: Option<KMeansFit> = None;
    for _ in 0..n_init.max(1) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seeds.next_u64());
        let init = match start {
            KMeansStart::PlusPlus => plus_plus(&x, None, k, &mut rng),
            KMeansStart::Parallel => parallel_start(&x, k, &mut rng),
        };
        let fit = lloyd(&x, init, max_iter.max(1), tol);
        if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
            best = Some(fit);
        }
    }
    let mut fit = best.ok_or_else(|| Error::invalid(what(), "no run"))?;
    fit.centroids *= scale;
    fit.inertia *= scale * scale;
    Ok(fit)
}

/// Index drawn with probability proportional to `weights` (uniform when they sum to 0).
fn draw(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    if total.is_nan() || total <= 0.0 || total.is_infinite() {
        return rng.gen_range(0..weights.len());
    }
    let target = rng.gen::<f64>() * total;
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if acc > target {
            return i;
        }
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Greedy k-means++ (as scikit-learn: 2 + ln k candidates per step, the one that
/// lowers the potential most), optionally on weighted points.
fn plus_plus(
    x: &Array2<f64>,
    weights: Option<&[f64]>,
    k: usize,
    rng: &mut impl Rng,
) -> Array2<f64> {
    let n = x.nrows();
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Vec::with_capacity(k);
    let first = draw(&(0..n).map(w).collect::<Vec<_>>(), rng);
    centres.push(first);
    let mut closest: Vec<f64> = (0..n).map(|i| sq_dist(x.row(i), x.row(first))).collect();
    while centres.len() < k {
        let weighted: Vec<f64> = closest.iter().enumerate().map(|(i, d)| d * w(i)).collect();
        let mut pick: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let c = draw(&weighted, rng);
            let updated: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(sq_dist(x.row(i), x.row(c))))
                .collect();
            let potential: f64 = updated.iter().enumerate().map(|(i, d)| d * w(i)).sum();
            if pick.as_ref().is_none_or(|(p, _, _)| potential < *p) {
                pick = Some((potential, c, updated));
            }
        }
        if let Some((_, c, updated)) = pick {
            centres.push(c);
            closest = updated;
        }
    }
    x.select(Axis(0), &centres)
}
/// k-means|| (Bahmani et al., as dask-ml runs it): a few rounds that each add
/// every sample as a candidate with probability `2k · d² / cost`, then weighted
/// k-means++ on the candidates (weights: the samples nearest to each). The draws
/// are made sample by sample from one generator, in index order.
fn parallel_start(x: &Array2<f64>, k: usize, rng: &mut impl Rng) -> Array2<f64> {
    const ROUNDS: usize = 5;
    let n = x.nrows();
    let oversample = 2.0 * k as f64;
    let mut candidates = vec![rng.gen_range(0..n)];
    let mut closest: Vec<f64> = (0..n)
        .map(|i| sq_dist(x.row(i), x.row(candidates[0])))
        .collect();
    let mut nearest = vec![0usize; n];
    for _ in 0..ROUNDS {
        let cost: f64 = closest.iter().sum();
        if cost.is_nan() || cost <= 0.0 {
            break;
        }
        let fresh: Vec<usize> = (0..n)
            .filter(|i| rng.gen::<f64>() < oversample * closest[*i] / cost)
            .collect();
        for c in fresh {
            let id = candidates.len();
            candidates.push(c);
            let row = x.row(c);
            let update: Vec<(usize, f64)> = (0..n)
                .into_par_iter()
                .map(|i| (i, sq_dist(x.row(i), row)))
                .filter(|(i, d)| *d < closest[*i])
                .collect();
            for (i, d) in update {
                closest[i] = d;
                nearest[i] = id;
            }
        }
    }
    if candidates.len() <= k {
        // Too few distinct candidates: fill up with k-means++ on all samples.
        return plus_plus(x, None, k, rng);
    }
    let mut weights = vec![0.0; candidates.len()];
    for c in &nearest {
        weights[*c] += 1.0;
    }
    let points = x.select(Axis(0), &candidates);
    plus_plus(&points, Some(&weights), k, rng)
}

/// Per-chunk partial sums of one assignment step.
struct Partial {
    sums: Array2<f64>,
    counts: Vec<usize>,
    inertia: f64,
}

/// Nearest centroid of every sample and the squared distance to it.
fn assign(
    x: &Array2<f64>,
    centroids: &Array2<f64>,
    labels: &mut [usize],
    dists: &mut [f64],
) -> Vec<Partial> {
    let (k, f) = centroids.dim();
    labels
        .par_chunks_mut(CHUNK)
        .zip(dists.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, (labels, dists))| {
            let mut part = Partial {
                sums: Array2::zeros((k, f)),
                counts: vec![0; k],
                inertia: 0.0,
            };
            for (o, (l, d)) in labels.iter_mut().zip(dists.iter_mut()).enumerate() {
                let row = x.row(c * CHUNK + o);
                let (mut best, mut best_d) = (0, f64::INFINITY);
                for (j, centre) in centroids.outer_iter().enumerate() {
                    let dj = sq_dist(row, centre);
                    if dj < best_d {
                        (best, best_d) = (j, dj);
                    }
                }
                (*l, *d) = (best, best_d);
                part.sums.row_mut(best).scaled_add(1.0, &row);
                part.counts[best] += 1;
                part.inertia += best_d;
            }
            part
        })
        .collect()
}

/// Lloyd iterations from `centroids` until the centroids move less than `tol`
/// (squared, summed) or `max_iter` steps.
fn lloyd(x: &Array2<f64>, mut centroids: Array2<f64>, max_iter: u64, tol: f64) -> KMeansFit {
    let (n, f) = x.dim();
    let k = centroids.nrows();
    let mut labels = vec![0usize; n];
    let mut dists = vec![0.0; n];
    for _ in 0..max_iter {
        let parts = assign(x, &centroids, &mut labels, &mut dists);
        let mut sums = Array2::<f64>::zeros((k, f));
        let mut counts = vec![0usize; k];
        for p in &parts {
            sums += &p.sums;
            for (c, m) in counts.iter_mut().zip(&p.counts) {
                *c += m;
            }
        }
        let mut next = centroids.clone();
        let mut taken: Vec<usize> = Vec::new();
        for (j, count) in counts.iter().enumerate() {
            if *count > 0 {
                next.row_mut(j).assign(&(&sums.row(j) / *count as f64));
            } else {
                // An empty cluster moves to the sample farthest from its centroid.
                let far = (0..n).filter(|i| !taken.contains(i)).fold(
                    None,
                    |m: Option<usize>, i| match m {
                        Some(b) if dists[b] >= dists[i] => Some(b),
                        _ => Some(i),
                    },
                );
                if let Some(i) = far {
                    taken.push(i);
                    next.row_mut(j).assign(&x.row(i));
                }
            }
        }
        let shift: f64 = (&next - &centroids).iter().map(|d| d * d).sum();
        centroids = next;
        if shift <= tol {
            break;
        }
    }
    // Labels and inertia of the final centroids.
    let parts = assign(x, &centroids, &mut labels, &mut dists);
    let inertia = parts.iter().map(|p| p.inertia).sum();
    KMeansFit {
        labels,
        centroids,
        inertia,
    }
}

/// Cluster sizes, by label.
pub(crate) fn sizes(labels: &[usize], k: usize) -> Vec<usize> {
    let mut counts = vec![0; k];
    for l in labels {
        counts[*l] += 1;
    }
    counts
}

/// The k-means estimator.
///
/// ```
/// use geoxr::{ArrayData, DataArray, KMeans, Variable};
/// use geoxr::ndarray::{ArrayD, IxDyn};
/// let points = vec![0.0, 0.1, 0.2, 0.0, 10.0, 10.1, 10.2, 10.0];
/// let v = Variable::new(["sample", "feature"], ArrayData::from(ArrayD::from_shape_vec(IxDyn(&[4, 2]), points).unwrap()))?;
/// let model = KMeans::new(2).random_state(0).fit(&DataArray::new(None, v, vec![])?)?;
/// let labels = model.labels().to_ndarray::<i64>()?;
/// assert_eq!(labels[0], labels[1]);
/// assert_ne!(labels[0], labels[2]);
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    n_clusters: usize,
    n_init: usize,
    max_iter: u64,
    random_state: u64,
    start: KMeansStart,
    drop_nonfinite: bool,
}

impl KMeans {
    /// k-means with `n_clusters` clusters, 10 starts, at most 300 iterations.
    pub fn new(n_clusters: usize) -> KMeans {
        KMeans {
            n_clusters,
            n_init: 10,
            max_iter: 300,
            random_state: 0,
            start: KMeansStart::PlusPlus,
            drop_nonfinite: false,
        }
    }
    /// Number of starts; the best by inertia is kept.
    pub fn n_init(mut self, n: usize) -> KMeans {
        self.n_init = n.max(1);
        self
    }
    /// Most Lloyd iterations per start.
    pub fn max_iter(mut self, n: u64) -> KMeans {
        self.max_iter = n.max(1);
        self
    }
    /// Seed of the random starts.
    pub fn random_state(mut self, seed: u64) -> KMeans {
        self.random_state = seed;
        self
    }
    /// How the first centroids are picked.
    pub fn start(mut self, start: KMeansStart) -> KMeans {
        self.start = start;
        self
    }
    /// Leave out samples with NaN or infinite values (their label is -1) instead of
    /// failing.
    pub fn drop_nonfinite(mut self, yes: bool) -> KMeans {
        self.drop_nonfinite = yes;
        self
    }

    /// Clusters the rows (first dimension) of a 2-D array.
    pub fn fit(&self, x: &DataArray) -> Result<KMeansModel> {
        let s = samples(x, self.drop_nonfinite)?;
        let fit = kmeans_matrix(
            &s.matrix,
            self.n_clusters,
            self.n_init,
            self.max_iter,
            self.random_state,
            self.start,
        )?;
        let labels = super::spectral::first_appearance_order(&fit.labels);
        let mut centroids = fit.centroids.clone();
        for (old, new) in fit.labels.iter().zip(&labels) {
            centroids
                .row_mut(*new as usize)
                .assign(&fit.centroids.row(*old));
        }
        Ok(KMeansModel {
            params: self.clone(),
            labels: s.to_labels(&labels, "labels")?,
            sizes: sizes(
                &labels.iter().map(|l| *l as usize).collect::<Vec<_>>(),
                self.n_clusters,
            ),
            centroids,
            inertia: fit.inertia,
        })
    }
}

/// A fitted k-means model.
#[derive(Debug, Clone)]
pub struct KMeansModel {
    params: KMeans,
    labels: DataArray,
    sizes: Vec<usize>,
    centroids: Array2<f64>,
    inertia: f64,
}

impl KMeansModel {
    /// The cluster of every sample, labelled like the samples (a cheap copy: the
    /// values are shared).
    pub fn labels(&self) -> DataArray {
        self.labels.clone()
    }
    /// Centroids, one row per cluster.
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }
    /// Sum of squared distances of samples to their centroid.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }
    /// Number of samples in each cluster.
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.sizes
    }
}

impl fmt::Display for KMeans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KMeans(n_clusters={}, n_init={}, max_iter={}, random_state={}, start={:?})",
            self.n_clusters, self.n_init, self.max_iter, self.random_state, self.start
        )
    }
}

impl fmt::Display for KMeansModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} fitted", self.params)?;
        writeln!(f, "cluster sizes: {:?}", self.sizes)?;
        write!(f, "inertia: {:.6e}", self.inertia)
    }
}
