//! Turning a 2-D labelled array (samples × features) into a plain matrix, checked,
//! and turning per-sample results back into a labelled array.

use ndarray::{Array2, ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::model::{ArrayData, DataArray};

/// A samples × features matrix and where it came from.
pub(crate) struct Samples {
    pub matrix: Array2<f64>,
    /// The labelled array, for building per-sample outputs.
    pub source: DataArray,
    /// Rows of `source` that are in `matrix` (all of them unless some were dropped).
    pub rows: Vec<usize>,
}

/// Checks a 2-D array with the sample dimension first and copies it to `f64`.
/// Samples with NaN or infinite values are an error naming how many and which,
/// unless `drop_nonfinite` is set, when they are left out (their label is -1).
pub(crate) fn samples(x: &DataArray, drop_nonfinite: bool) -> Result<Samples> {
    x.check()?;
    if x.dims().len() != 2 {
        return Err(Error::invalid(
            format!("clustering `{}`", x.name().unwrap_or("array")),
            format!(
                "needs a 2-D array (samples, features); this one has dimensions ({})",
                x.dims().join(", ")
            ),
        ));
    }
    let loaded = x.load()?;
    let values = loaded
        .values()
        .ok_or_else(|| Error::invalid("clustering", "values not in memory"))?;
    let full = values
        .to_f64_array()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| Error::invalid("clustering", e.to_string()))?;
    let bad: Vec<usize> = full
        .outer_iter()
        .enumerate()
        .filter(|(_, row)| row.iter().any(|v| !v.is_finite()))
        .map(|(i, _)| i)
        .collect();
    if !bad.is_empty() && !drop_nonfinite {
        let dim = &x.dims()[0];
        let shown: Vec<String> = bad.iter().take(5).map(|i| sample_label(x, *i)).collect();
        return Err(Error::invalid(
            format!("clustering `{}`", x.name().unwrap_or("array")),
            format!(
                "{} of {} samples along `{dim}` hold NaN or infinite values (first: {}); \
                 fill them, select other samples, or use .drop_nonfinite(true) to leave them out",
                bad.len(),
                full.nrows(),
                shown.join(", ")
            ),
        ));
    }
    let rows: Vec<usize> = (0..full.nrows()).filter(|i| !bad.contains(i)).collect();
    let matrix = if bad.is_empty() {
        full
    } else {
        full.select(ndarray::Axis(0), &rows)
    };
    Ok(Samples {
        matrix,
        source: x.clone(),
        rows,
    })
}

/// A sample's position with its coordinate labels, e.g. `z=5 (lat=-15.35, lon=-73.55)`.
fn sample_label(x: &DataArray, i: usize) -> String {
    let dim = &x.dims()[0];
    let labels: Vec<String> = x
        .coords()
        .iter()
        .filter(|(_, c)| c.dims() == [dim.clone()])
        .filter_map(|(n, c)| {
            let v = c.values()?;
            let text = match v.as_times() {
                Some(t) => t[i].to_string(),
                None => crate::notebook::format_number(v.get_f64(i)?, 4),
            };
            Some(format!("{n}={text}"))
        })
        .collect();
    if labels.is_empty() {
        format!("{dim}={i}")
    } else {
        format!("{dim}={i} ({})", labels.join(", "))
    }
}

impl Samples {
    /// Per-sample integer results (−1 for dropped samples) as a labelled array on the
    /// sample dimension, with its coordinates (a multi-index unstacks to a map).
    pub(crate) fn to_labels(&self, values: &[i64], name: &str) -> Result<DataArray> {
        let n = self.source.shape()[0];
        let mut all = vec![-1i64; n];
        for (row, v) in self.rows.iter().zip(values) {
            all[*row] = *v;
        }
        let feature_dim = self.source.dims()[1].clone();
        let template = self.source.isel((feature_dim.as_str(), 0)).into_result()?;
        let data = ArrayData::I64(
            ArrayD::from_shape_vec(IxDyn(&[n]), all)
                .map_err(|e| Error::invalid("labels", e.to_string()))?,
        );
        let labels = template.with_data(data).without_attrs().rename(name);
        // The feature's scalar coordinate (e.g. the first day) means nothing here.
        labels.drop_coord(&feature_dim).into_result()
    }
}
