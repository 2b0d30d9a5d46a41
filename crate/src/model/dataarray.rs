//! `DataArray`: one variable with the coordinates that label its axes, and a name.

use super::attrs::Attrs;
use super::data::{ArrayData, DType, Data};
use super::sizes::Sizes;
use super::variable::Variable;
use crate::error::{Error, Result};

/// A labelled n-d array: xarray's `DataArray`.
///
/// ```
/// use geoxr::{ArrayData, DataArray, Variable};
/// use geoxr::ndarray::{ArrayD, IxDyn};
/// let lon = Variable::new(["lon"], ArrayData::from(ArrayD::from_shape_vec(IxDyn(&[2]), vec![-70.0f32, -69.9]).unwrap()))?;
/// let rain = Variable::new(["lon"], ArrayData::from(ArrayD::<f32>::zeros(vec![2])))?;
/// let da = DataArray::new(Some("rain"), rain, vec![("lon".into(), lon)])?;
/// assert_eq!(da.sizes().get("lon"), Some(2));
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataArray {
    name: Option<String>,
    variable: Variable,
    coords: Vec<(String, Variable)>,
    /// Stacked dimensions and their levels: `("z", ["lat", "lon"])`.
    multi_index: Vec<(String, Vec<String>)>,
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
        })
    }

    /// The array's name (the variable name it was read from).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The underlying variable.
    pub fn variable(&self) -> &Variable {
        &self.variable
    }

    /// Dimension names, in axis order.
    pub fn dims(&self) -> &[String] {
        self.variable.dims()
    }

    /// Dimension names with lengths.
    pub fn sizes(&self) -> Sizes {
        self.variable.sizes()
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

    /// The values if in memory (after [`DataArray::load`]).
    pub fn values(&self) -> Option<&ArrayData> {
        self.variable.values()
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
    pub fn drop_coord(&self, name: &str) -> Result<DataArray> {
        let coords = self
            .coords
            .iter()
            .filter(|(n, _)| n != name)
            .cloned()
            .collect();
        self.with_parts(self.variable.clone(), coords)
    }

    /// Renamed.
    pub fn rename(mut self, name: &str) -> DataArray {
        self.name = Some(name.to_owned());
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
