//! `DataArray`: one variable with the coordinates that label its axes, and a name.

use std::sync::Arc;

use super::attrs::Attrs;
use super::data::{ArrayData, DType, Data};
use super::sizes::Sizes;
use super::variable::Variable;
use crate::error::{Error, Result};

/// A labelled n-d array: xarray's `DataArray`.
///
/// Operations on a `DataArray` (selection, reductions, resampling, reshaping,
/// arithmetic) return a `DataArray`, so they chain without `?`. When one of them
/// fails, the result is a *failed* array that keeps the first error and the step
/// that produced it; later operations pass it along untouched, and the error comes
/// out at the doors that give back data: `load`, `compute`, `persist`, `to_ndarray`,
/// `to_netcdf`, `equals`, `sizes`, `check`, drawing a map, and the notebook display.
///
/// ```
/// use geoxr::{ArrayData, DataArray, Variable};
/// use geoxr::ndarray::{ArrayD, IxDyn};
/// let lon = Variable::new(["lon"], ArrayData::from(ArrayD::from_shape_vec(IxDyn(&[2]), vec![-70.0f32, -69.9]).unwrap()))?;
/// let rain = Variable::new(["lon"], ArrayData::from(ArrayD::<f32>::zeros(vec![2])))?;
/// let da = DataArray::new(Some("rain"), rain, vec![("lon".into(), lon)])?;
/// assert_eq!(da.sizes()?.get("lon"), Some(2));
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataArray {
    name: Option<String>,
    variable: Variable,
    coords: Vec<(String, Variable)>,
    /// Stacked dimensions and their levels: `("z", ["lat", "lon"])`.
    multi_index: Vec<(String, Vec<String>)>,
    /// Set when the operation that made this array failed; the other fields are
    /// then empty.
    failure: Option<Arc<Failure>>,
}

/// The first error of a chain, and the step (`mean(time)`, `- other`, ...) that gave it.
#[derive(Debug)]
struct Failure {
    step: String,
    error: Error,
}

impl DataArray {
    /// A named (or unnamed) array with coordinates; each coordinate's dimensions must
    /// be dimensions of the array with the same lengths.
    pub fn new(
        name: Option<&str>,
        variable: Variable,
        coords: Vec<(String, Variable)>,
    ) -> Result<DataArray> {
        let sizes = variable.sizes();
        for (cname, c) in &coords {
            for (d, n) in c.sizes().iter() {
                match sizes.get(d) {
                    Some(m) if m == n => {}
                    Some(m) => {
                        return Err(Error::Shape {
                            what: format!("coordinate `{cname}` along `{d}`"),
                            expected: vec![m],
                            found: vec![n],
                        })
                    }
                    None => {
                        return Err(Error::NoSuchDim {
                            dim: d.to_owned(),
                            available: sizes.names(),
                        })
                    }
                }
            }
        }
        Ok(DataArray {
            name: name.map(str::to_owned),
            variable,
            coords,
            multi_index: Vec::new(),
            failure: None,
        })
    }

    /// A failed array: `error` happened in `step` (as the user wrote it, e.g.
    /// `resample(time, 1W)`). It has no dimensions, and shows and returns `error`.
    pub(crate) fn failed(step: impl Into<String>, error: Error) -> DataArray {
        DataArray {
            name: None,
            variable: Variable::empty(),
            coords: Vec::new(),
            multi_index: Vec::new(),
            failure: Some(Arc::new(Failure {
                step: step.into(),
                error,
            })),
        }
    }

    /// The error that made this array, if an operation in its chain failed.
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["x"], ArrayData::from(ArrayD::<f32>::zeros(vec![3])))?;
    /// let a = DataArray::new(Some("rain"), v, vec![])?;
    /// let bad = a.mean("time").std("x"); // no `time`: the chain carries the error on
    /// assert!(bad.error().unwrap().to_string().contains("`time`"));
    /// assert!(a.error().is_none());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn error(&self) -> Option<&Error> {
        self.failure.as_ref().map(|f| &f.error)
    }

    /// The step of the chain that failed, as written (`mean(time)`), if one did.
    pub fn failed_step(&self) -> Option<&str> {
        self.failure.as_ref().map(|f| f.step.as_str())
    }

    /// The array itself, or the error that made it: the door to use with `?` when
    /// a chain should stop at its first failure (`let x = chain.check()?;`).
    pub fn check(&self) -> Result<&DataArray> {
        match &self.failure {
            Some(f) => Err(f.error.clone()),
            None => Ok(self),
        }
    }

    /// [`DataArray::check`], by value.
    pub fn into_result(self) -> Result<DataArray> {
        match &self.failure {
            Some(f) => Err(f.error.clone()),
            None => Ok(self),
        }
    }

    /// One step of a chain: `op` on this array, or this array's failure passed on
    /// unchanged. An error from `op` becomes a failed array naming `step`.
    pub(crate) fn step(
        &self,
        step: impl FnOnce() -> String,
        op: impl FnOnce(&DataArray) -> Result<DataArray>,
    ) -> DataArray {
        if self.failure.is_some() {
            return self.clone();
        }
        op(self).unwrap_or_else(|e| DataArray::failed(step(), e))
    }

    /// The array's name (the variable name it was read from).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The underlying variable.
    pub fn variable(&self) -> &Variable {
        &self.variable
    }

    /// Dimension names, in axis order (none for a failed array: [`DataArray::sizes`]
    /// and [`DataArray::check`] report its error).
    pub fn dims(&self) -> &[String] {
        self.variable.dims()
    }

    /// Dimension names with lengths, or the error of a failed array.
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["x"], ArrayData::from(ArrayD::<f32>::zeros(vec![3])))?;
    /// let a = DataArray::new(None, v, vec![])?;
    /// assert_eq!(a.sizes()?.get("x"), Some(3));
    /// assert!(a.sum("y").sizes().is_err());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn sizes(&self) -> Result<Sizes> {
        self.check().map(|a| a.variable.sizes())
    }

    /// Length of each axis.
    pub fn shape(&self) -> &[usize] {
        self.variable.shape()
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.variable.dtype()
    }

    /// The values, lazy or in memory.
    pub fn data(&self) -> &Data {
        self.variable.data()
    }

    /// The values if in memory (after [`DataArray::load`]); none for a failed array.
    pub fn values(&self) -> Option<&ArrayData> {
        match self.failure {
            Some(_) => None,
            None => self.variable.values(),
        }
    }

    /// Whether the values are still to be read or computed.
    pub fn is_lazy(&self) -> bool {
        self.variable.is_lazy()
    }

    /// Attributes.
    pub fn attrs(&self) -> &Attrs {
        self.variable.attrs()
    }

    /// Coordinates, in order.
    pub fn coords(&self) -> &[(String, Variable)] {
        &self.coords
    }

    /// One coordinate by name.
    pub fn coord(&self, name: &str) -> Result<&Variable> {
        self.coords
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::NoSuchVariable {
                name: name.to_owned(),
                available: self.coords.iter().map(|(n, _)| n.clone()).collect(),
            })
    }

    /// The same name around another variable and coordinates (multi-indexes kept for
    /// the dimensions that remain).
    pub(crate) fn with_parts(
        &self,
        variable: Variable,
        coords: Vec<(String, Variable)>,
    ) -> Result<DataArray> {
        let mut out = DataArray::new(self.name(), variable, coords)?;
        out.multi_index = self
            .multi_index
            .iter()
            .filter(|(d, _)| out.dims().contains(d))
            .cloned()
            .collect();
        Ok(out)
    }

    /// The same array with a multi-index on `dim` made of `levels` (coordinates on `dim`).
    pub(crate) fn with_multi_index(mut self, dim: &str, levels: Vec<String>) -> DataArray {
        self.multi_index.retain(|(d, _)| d != dim);
        self.multi_index.push((dim.to_owned(), levels));
        self
    }

    /// Stacked dimensions with their levels.
    pub fn multi_indexes(&self) -> &[(String, Vec<String>)] {
        &self.multi_index
    }

    /// The levels of a stacked dimension, if `dim` has a multi-index.
    pub fn levels(&self, dim: &str) -> Option<&[String]> {
        self.multi_index
            .iter()
            .find(|(d, _)| d == dim)
            .map(|(_, l)| l.as_slice())
    }

    /// The same array without attributes (as reductions and derived results are).
    pub fn without_attrs(mut self) -> DataArray {
        self.variable = self.variable.with_attrs(Attrs::default());
        self
    }

    /// The array without the coordinate `name` (unchanged when it has none).
    pub fn drop_coord(&self, name: &str) -> DataArray {
        self.step(
            || format!("drop_coord({name})"),
            |a| {
                let coords = a
                    .coords
                    .iter()
                    .filter(|(n, _)| n != name)
                    .cloned()
                    .collect();
                a.with_parts(a.variable.clone(), coords)
            },
        )
    }

    /// Renamed (a failed array stays failed).
    pub fn rename(mut self, name: &str) -> DataArray {
        if self.failure.is_none() {
            self.name = Some(name.to_owned());
        }
        self
    }

    /// The same labels around another variable (used by operations that transform data).
    pub(crate) fn with_variable(&self, variable: Variable) -> DataArray {
        DataArray {
            variable,
            ..self.clone()
        }
    }
}
