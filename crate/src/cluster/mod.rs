//! Clustering labelled arrays: k-means, and spectral clustering exact (scikit-learn)
//! or approximate (dask-ml's Nyström). Estimators take a 2-D array (samples ×
//! features, e.g. `(z, time)`) and give labels on the sample dimension, with its
//! coordinates, so `unstack` turns them into a map.

mod affinity;
mod cholesky;
mod eigh;
mod envelope;
mod kmeans;
mod krylov;
mod lobpcg;
mod matrix;
mod packed;
mod spectral;
mod thin;

pub use kmeans::{KMeans, KMeansModel, KMeansStart};
pub use spectral::{SpectralClustering, SpectralMethod, SpectralModel, Spectrum};

/// Adjusted Rand index of two labellings (1: identical partitions, about 0: chance).
///
/// ```
/// assert_eq!(geoxr::adjusted_rand_index(&[0, 0, 1, 1], &[5, 5, 2, 2]), 1.0);
/// ```
pub fn adjusted_rand_index(a: &[i64], b: &[i64]) -> f64 {
    use std::collections::HashMap;
    let n = a.len().min(b.len()) as f64;
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let mut table: HashMap<(i64, i64), f64> = HashMap::new();
    let mut rows: HashMap<i64, f64> = HashMap::new();
    let mut cols: HashMap<i64, f64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        *table.entry((*x, *y)).or_default() += 1.0;
        *rows.entry(*x).or_default() += 1.0;
        *cols.entry(*y).or_default() += 1.0;
    }
    let index: f64 = table.values().map(|v| pairs(*v)).sum();
    let sum_a: f64 = rows.values().map(|v| pairs(*v)).sum();
    let sum_b: f64 = cols.values().map(|v| pairs(*v)).sum();
    let expected = sum_a * sum_b / pairs(n);
    let max = (sum_a + sum_b) / 2.0;
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests;
