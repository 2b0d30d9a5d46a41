//! Reshaping: `transpose`, `stack` into a multi-indexed dimension and `unstack` back,
//! and `with_data` (xarray's `copy(data=...)`).

use std::sync::Arc;

use super::dims::{coords_without, IntoDims};
use crate::compute::ops::ChunkOp;
use crate::compute::sources::same_axis;
use crate::error::{Error, Result};
use crate::model::{ArrayData, DataArray, Variable};

impl Variable {
    /// Axes reordered so that `dims` come in this order.
    pub(crate) fn permute_to(&self, dims: &[String]) -> Result<Variable> {
        let order: Vec<usize> = dims
            .iter()
            .map(|d| self.axis_of(d))
            .collect::<Result<_>>()?;
        let mut seen = vec![false; self.dims().len()];
        for (d, &a) in dims.iter().zip(&order) {
            if std::mem::replace(&mut seen[a], true) {
                return Err(Error::invalid(
                    format!("dimension `{d}`"),
                    format!("named twice in ({})", dims.join(", ")),
                ));
            }
        }
        if order.len() != self.dims().len() {
            return Err(Error::invalid(
                format!("reordering to ({})", dims.join(", ")),
                format!("name every dimension of ({}) once", self.dims().join(", ")),
            ));
        }
        if order.iter().enumerate().all(|(i, a)| i == *a) {
            return Ok(self.clone());
        }
        let shape: Vec<usize> = order.iter().map(|a| self.shape()[*a]).collect();
        let permute = ChunkOp::Permute {
            order: order.clone(),
        };
        let data = self.data().map(permute, shape, |lazy| {
            Ok((order.iter().position(|a| *a == lazy.axis()).unwrap_or(0), 1))
        })?;
        Ok(Variable::new(dims.to_vec(), data)?
            .with_attrs(self.attrs().clone())
            .with_encoding(self.encoding().clone()))
    }
}

fn require_dims(da: &DataArray, dims: &[String]) -> Result<()> {
    for d in dims {
        da.variable().axis_of(d)?;
    }
    Ok(())
}

impl DataArray {
    /// Reverses the order of the dimensions (xarray's `.transpose()` with no argument).
    pub fn transpose(&self) -> DataArray {
        let reversed: Vec<String> = self.dims().iter().rev().cloned().collect();
        self.transpose_to(reversed)
    }

    /// Puts the dimensions in the given order (every dimension, each once).
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let rain = ds.get("HQprecipitation").transpose_to(["time", "lat", "lon"]);
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn transpose_to(&self, dims: impl IntoDims) -> DataArray {
        let dims = dims.into_dims();
        self.step(
            || format!("transpose_to({})", dims.join(", ")),
            |a| a.try_transpose_to(&dims),
        )
    }

    fn try_transpose_to(&self, dims: &[String]) -> Result<DataArray> {
        require_dims(self, dims)?;
        if dims.len() != self.dims().len() {
            return Err(Error::invalid(
                format!("transpose to ({})", dims.join(", ")),
                format!("name every dimension of ({}) once", self.dims().join(", ")),
            ));
        }
        Ok(self.with_variable(self.variable().permute_to(dims)?))
    }

    /// The same labels, name and attributes around new values of the same shape:
    /// xarray's `copy(data=...)`.
    pub fn with_data(&self, data: impl Into<ArrayData>) -> DataArray {
        let data = data.into();
        self.step(|| "with_data(..)".into(), |a| a.try_with_data(data))
    }

    fn try_with_data(&self, data: ArrayData) -> Result<DataArray> {
        if data.shape() != self.shape() {
            return Err(Error::Shape {
                what: format!("new data for ({})", self.dims().join(", ")),
                expected: self.shape().to_vec(),
                found: data.shape().to_vec(),
            });
        }
        Ok(self.with_variable(self.variable().with_data(data)?))
    }

    /// Stacks `dims` into one new dimension `new_dim` with a multi-index, the first
    /// named dimension outermost (C order). The new dimension goes last.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let rain = ds.get("HQprecipitation").stack("z", ["lat", "lon"]);
    /// assert_eq!(rain.dims(), ["time", "z"]);
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn stack(&self, new_dim: &str, dims: impl IntoDims) -> DataArray {
        let dims = dims.into_dims();
        self.step(
            || format!("stack({new_dim}, [{}])", dims.join(", ")),
            |a| a.try_stack(new_dim, dims.clone()),
        )
    }

    fn try_stack(&self, new_dim: &str, dims: Vec<String>) -> Result<DataArray> {
        require_dims(self, &dims)?;
        if self.dims().iter().any(|d| d == new_dim) {
            return Err(Error::invalid(
                format!("stack into `{new_dim}`"),
                "the array already has that dimension",
            ));
        }
        let kept: Vec<String> = self
            .dims()
            .iter()
            .filter(|d| !dims.contains(d))
            .cloned()
            .collect();
        let order: Vec<String> = kept.iter().chain(&dims).cloned().collect();
        let permuted = self.variable().permute_to(&order)?;
        let sizes: Vec<usize> = dims
            .iter()
            .map(|d| self.variable().sizes().get(d).unwrap_or(0))
            .collect();
        let stacked_len: usize = sizes.iter().product();
        let mut shape: Vec<usize> = permuted.shape()[..kept.len()].to_vec();
        shape.push(stacked_len);
        let merge = ChunkOp::Merge { keep: kept.len() };
        let data = permuted.data().map(merge, shape.clone(), |lazy| {
            if lazy.axis() >= kept.len() {
                return Err(Error::invalid(
                    format!("stacking ({})", dims.join(", ")),
                    "the data are chunked along a stacked dimension; load or persist first",
                ));
            }
            same_axis(lazy)
        })?;
        let mut new_dims = kept.clone();
        new_dims.push(new_dim.to_owned());
        let variable = Variable::new(new_dims, data)?.with_attrs(self.attrs().clone());
        // Level coordinates on the new dimension: each level's value at every position.
        let mut coords = coords_without(self.coords(), &dims);
        for (k, level) in dims.iter().enumerate() {
            let inner: usize = sizes[k + 1..].iter().product();
            let positions: Vec<usize> = (0..stacked_len).map(|p| (p / inner) % sizes[k]).collect();
            let values = match self
                .coords()
                .iter()
                .find(|(n, c)| n == level && c.dims() == [level.clone()])
            {
                Some((_, c)) => c
                    .values()
                    .ok_or_else(|| {
                        Error::invalid(format!("coordinate `{level}`"), "not in memory")
                    })?
                    .take(0, &positions),
                None => ArrayData::I64(
                    ndarray::Array1::from_iter(positions.iter().map(|p| *p as i64)).into_dyn(),
                ),
            };
            coords.push((level.clone(), Variable::new([new_dim], values)?));
        }
        Ok(self
            .with_parts(variable, coords)?
            .with_multi_index(new_dim, dims))
    }

    /// Splits a stacked dimension back into its levels, which go last, each in the
    /// order its labels first appear. Combinations missing from the stacked dimension
    /// become NaN (integers then widen to float64).
    pub fn unstack(&self, dim: &str) -> DataArray {
        self.step(|| format!("unstack({dim})"), |a| a.try_unstack(dim))
    }

    fn try_unstack(&self, dim: &str) -> Result<DataArray> {
        let levels = self
            .levels(dim)
            .ok_or_else(|| {
                Error::invalid(
                    format!("unstack `{dim}`"),
                    "the dimension has no multi-index (make it with stack)",
                )
            })?
            .to_vec();
        let axis = self.variable().axis_of(dim)?;
        // Each level's distinct labels, and each position's index along every level.
        let mut level_coords = Vec::new();
        let mut level_index: Vec<Vec<usize>> = Vec::new();
        for level in &levels {
            let coord = self.coord(level)?;
            let values = coord
                .values()
                .ok_or_else(|| Error::invalid(format!("level `{level}`"), "not in memory"))?;
            let keys = values.to_f64_vec();
            let mut distinct: Vec<f64> = Vec::new();
            let mut first_at: Vec<usize> = Vec::new();
            let index: Vec<usize> = keys
                .iter()
                .enumerate()
                .map(
                    |(p, k)| match distinct.iter().position(|d| d.to_bits() == k.to_bits()) {
                        Some(i) => i,
                        None => {
                            distinct.push(*k);
                            first_at.push(p);
                            distinct.len() - 1
                        }
                    },
                )
                .collect();
            level_coords.push((
                level.clone(),
                Variable::new([level.as_str()], values.take(0, &first_at))?,
            ));
            level_index.push(index);
        }
        let sizes: Vec<usize> = level_coords.iter().map(|(_, c)| c.len()).collect();
        let full: usize = sizes.iter().product();
        let n = self.shape()[axis];
        // Flat target index of every stacked position, in C order over the levels.
        let targets: Vec<usize> = (0..n)
            .map(|p| {
                level_index
                    .iter()
                    .zip(&sizes)
                    .fold(0, |acc, (idx, s)| acc * s + idx[p])
            })
            .collect();
        let complete = n == full && targets.iter().enumerate().all(|(p, t)| p == *t);
        let kept: Vec<String> = self.dims().iter().filter(|d| *d != dim).cloned().collect();
        let order: Vec<String> = kept.iter().cloned().chain([dim.to_owned()]).collect();
        let permuted = self.variable().permute_to(&order)?;
        let mut shape: Vec<usize> = permuted.shape()[..kept.len()].to_vec();
        shape.extend(&sizes);
        let kept_n = kept.len();
        let unstack = ChunkOp::Unstack {
            keep: kept_n,
            sizes: sizes.clone(),
            targets: (!complete).then(|| Arc::new(targets)),
        };
        let data = permuted.data().map(unstack, shape.clone(), |lazy| {
            if lazy.axis() >= kept_n {
                return Err(Error::invalid(
                    format!("unstack `{dim}`"),
                    "the data are chunked along it; load or persist first",
                ));
            }
            same_axis(lazy)
        })?;
        let mut new_dims = kept;
        new_dims.extend(levels.iter().cloned());
        let variable = Variable::new(new_dims, data)?.with_attrs(self.attrs().clone());
        let mut coords: Vec<(String, Variable)> = self
            .coords()
            .iter()
            .filter(|(n, c)| !levels.contains(n) && !c.dims().iter().any(|d| d == dim))
            .cloned()
            .collect();
        coords.extend(level_coords);
        self.with_parts(variable, coords)
    }
}
