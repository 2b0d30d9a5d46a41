//! Reductions over named dimensions on arrays and datasets: `mean`, `std`, `var`,
//! `sum`, `min`, `max`, `count`. NaN is skipped; float32 stays float32; lazy input
//! gives a lazy result (see `compute::reduce` for how the numbers are made).

use super::dims::{coords_without, IntoDims};
use crate::compute::ops::ChunkOp;
use crate::compute::reduce::{reduce_chunked, Reduction};
use crate::compute::sources::free_axis;
use crate::compute::Client;
use crate::error::{Error, Result};
use crate::model::{Data, DataArray, Dataset, Variable};

impl Variable {
    /// The variable reduced over `dims` (all named dimensions must exist).
    pub(crate) fn reduce(&self, dims: &[String], op: Reduction) -> Result<Variable> {
        for d in dims {
            self.axis_of(d)?;
        }
        op.output_dtype(self.dtype()).map_err(|e| {
            Error::invalid(
                format!("{} of {} values", op.name(), self.dtype()),
                e.to_string(),
            )
        })?;
        // One dimension is reduced where it is; several are first merged into one.
        let (merged, axis) = match dims {
            [one] => (self.clone(), self.axis_of(one)?),
            _ => {
                let m = self.merge_dims(dims)?;
                let last = m.dims().len() - 1;
                (m, last)
            }
        };
        let kept: Vec<String> = merged
            .dims()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != axis)
            .map(|(_, d)| d.clone())
            .collect();
        // Values in memory are reduced at once, on all cores.
        let split = free_axis(merged.dims().len(), &[axis]);
        let data = Client::new().run(|| {
            merged
                .data()
                .through_chunks(split, |lazy| reduce_chunked(lazy, axis, op))
        })?;
        Variable::new(kept, data)
    }

    /// The variable with `dims` moved last and merged into one axis (named after the
    /// first), the chunked dimension first among them.
    fn merge_dims(&self, dims: &[String]) -> Result<Variable> {
        let chunk_dim = match self.data() {
            Data::Lazy(lazy) => Some(self.dims()[lazy.axis()].clone()),
            Data::InMemory(_) => None,
        };
        let mut merged: Vec<String> = dims.to_vec();
        if let Some(c) = &chunk_dim {
            if let Some(i) = merged.iter().position(|d| d == c) {
                let c = merged.remove(i);
                merged.insert(0, c);
            }
        }
        let kept: Vec<String> = self
            .dims()
            .iter()
            .filter(|d| !merged.contains(d))
            .cloned()
            .collect();
        let order: Vec<String> = kept.iter().chain(&merged).cloned().collect();
        let permuted = self.permute_to(&order)?;
        if merged.len() == 1 {
            return Ok(permuted);
        }
        let inner: Vec<usize> = permuted.shape()[kept.len()..].to_vec();
        let total: usize = inner.iter().product();
        let mut shape: Vec<usize> = permuted.shape()[..kept.len()].to_vec();
        shape.push(total);
        let mut new_dims = kept.clone();
        new_dims.push(merged[0].clone());
        let kept_n = kept.len();
        let merge = ChunkOp::Merge { keep: kept_n };
        let data = permuted.data().map(merge, shape, |lazy| {
            // The chunked axis, when merged, is the first of the merged ones.
            let chunked_is_merged = lazy.axis() == kept_n;
            let factor = if chunked_is_merged {
                total / inner[0].max(1)
            } else {
                1
            };
            Ok((lazy.axis(), factor))
        })?;
        Variable::new(new_dims, data)
    }
}

impl DataArray {
    /// Reduces over one or more dimensions with any [`Reduction`].
    pub fn reduce(&self, dims: impl IntoDims, op: Reduction) -> DataArray {
        let dims = dims.into_dims();
        self.step(
            || format!("{}({})", op.name(), dims.join(", ")),
            |a| {
                let variable = a.variable().reduce(&dims, op)?;
                let coords = coords_without(a.coords(), &dims);
                a.with_parts(variable, coords)
            },
        )
    }

    /// Mean over `dims`, skipping NaN.
    ///
    /// ```no_run
    /// # let ds = geoxr::open_mfdataset("data/IMERG/*.nc4")?;
    /// let climatology = ds.get("HQprecipitation").mean("time").load()?;
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn mean(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Mean)
    }

    /// Population standard deviation (ddof 0) over `dims`, skipping NaN.
    pub fn std(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Std { ddof: 0 })
    }

    /// Standard deviation with `ddof` delta degrees of freedom.
    pub fn std_ddof(&self, dims: impl IntoDims, ddof: u32) -> DataArray {
        self.reduce(dims, Reduction::Std { ddof })
    }

    /// Population variance (ddof 0) over `dims`, skipping NaN.
    pub fn var(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Var { ddof: 0 })
    }

    /// Variance with `ddof` delta degrees of freedom.
    pub fn var_ddof(&self, dims: impl IntoDims, ddof: u32) -> DataArray {
        self.reduce(dims, Reduction::Var { ddof })
    }

    /// Sum over `dims`, skipping NaN (0 where every value is NaN).
    pub fn sum(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Sum)
    }

    /// Smallest value over `dims`, skipping NaN.
    pub fn min(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Min)
    }

    /// Largest value over `dims`, skipping NaN.
    pub fn max(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Max)
    }

    /// Number of non-NaN values over `dims`.
    pub fn count(&self, dims: impl IntoDims) -> DataArray {
        self.reduce(dims, Reduction::Count)
    }
}

impl Dataset {
    /// Reduces every data variable that has all of `dims` (variables whose type cannot
    /// be reduced this way, such as times under `mean`, are dropped, as xarray drops
    /// non-numeric variables); other variables are kept as they are.
    pub fn reduce(&self, dims: impl IntoDims, op: Reduction) -> Result<Dataset> {
        let dims = dims.into_dims();
        for d in &dims {
            if self.dims().get(d).is_none() {
                return Err(Error::NoSuchDim {
                    dim: d.clone(),
                    available: self.dims().names(),
                });
            }
        }
        let mut data_vars = Vec::new();
        for (name, v) in self.data_vars() {
            if !dims.iter().all(|d| v.dims().contains(d)) {
                data_vars.push((name.clone(), v.clone()));
            } else if op.output_dtype(v.dtype()).is_ok() {
                data_vars.push((name.clone(), v.reduce(&dims, op)?));
            }
        }
        let coords = coords_without(self.coords(), &dims);
        self.with_variables(coords, data_vars)
    }

    /// Mean of every data variable over `dims`.
    pub fn mean(&self, dims: impl IntoDims) -> Result<Dataset> {
        self.reduce(dims, Reduction::Mean)
    }

    /// Population standard deviation of every data variable over `dims`.
    pub fn std(&self, dims: impl IntoDims) -> Result<Dataset> {
        self.reduce(dims, Reduction::Std { ddof: 0 })
    }

    /// Sum of every data variable over `dims`.
    pub fn sum(&self, dims: impl IntoDims) -> Result<Dataset> {
        self.reduce(dims, Reduction::Sum)
    }
}
