//! k-means on labelled arrays, built on `linfa-clustering` (k-means++ starts, Lloyd
//! iterations, the best of `n_init` runs by inertia), seeded for reproducibility.

use std::fmt;

use linfa::prelude::*;
use linfa_clustering::{KMeans as LinfaKMeans, KMeansInit};
use ndarray::Array2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

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

/// Runs k-means on the rows of `matrix`.
pub(crate) fn kmeans_matrix(
    matrix: &Array2<f64>,
    k: usize,
    n_init: usize,
    max_iter: u64,
    seed: u64,
    start: KMeansStart,
) -> Result<KMeansFit> {
    if matrix.nrows() < k {
        return Err(Error::invalid(
            format!("k-means with {k} clusters"),
            format!("needs at least {k} samples; got {}", matrix.nrows()),
        ));
    }
    let init = match start {
        KMeansStart::PlusPlus => KMeansInit::KMeansPlusPlus,
        KMeansStart::Parallel => KMeansInit::KMeansPara,
    };
    let dataset = DatasetBase::from(matrix.clone());
    let model = LinfaKMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(n_init.max(1))
        .max_n_iterations(max_iter)
        .tolerance(1e-4)
        .init_method(init)
        .fit(&dataset)
        .map_err(|e| Error::invalid("k-means", e.to_string()))?;
    let labels = model.predict(matrix).to_vec();
    let inertia = inertia(matrix, model.centroids(), &labels);
    Ok(KMeansFit {
        labels,
        centroids: model.centroids().clone(),
        inertia,
    })
}

/// Sum of squared distances of samples to their centroid (scikit-learn's inertia).
pub(crate) fn inertia(matrix: &Array2<f64>, centroids: &Array2<f64>, labels: &[usize]) -> f64 {
    matrix
        .outer_iter()
        .zip(labels)
        .map(|(row, l)| {
            row.iter()
                .zip(centroids.row(*l))
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
        })
        .sum()
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
