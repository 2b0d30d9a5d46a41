//! `Variable`: named dimensions, typed data and attributes. The bottom rung of the
//! ladder Variable → DataArray → Dataset.

use super::attrs::Attrs;
use super::data::{ArrayData, DType, Data};
use super::sizes::Sizes;
use crate::error::{Error, Result};

/// An n-d array with a name for each axis, plus attributes.
///
/// ```
/// use geoxr::{ArrayData, Variable};
/// use geoxr::ndarray::ArrayD;
/// let v = Variable::new(["lat", "lon"], ArrayData::from(ArrayD::<f32>::zeros(vec![2, 3])))?;
/// assert_eq!(v.sizes().get("lon"), Some(3));
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Variable {
    dims: Vec<String>,
    data: Data,
    attrs: Attrs,
    encoding: Attrs,
}

impl Variable {
    /// A variable from dimension names and data of the same rank.
    pub fn new<S: Into<String>>(
        dims: impl IntoIterator<Item = S>,
        data: impl Into<Data>,
    ) -> Result<Variable> {
        let dims: Vec<String> = dims.into_iter().map(Into::into).collect();
        let data = data.into();
        if dims.len() != data.shape().len() {
            return Err(Error::Shape {
                what: format!("data for dimensions ({})", dims.join(", ")),
                expected: vec![0; dims.len()],
                found: data.shape().to_vec(),
            });
        }
        for (i, d) in dims.iter().enumerate() {
            if dims[..i].contains(d) {
                return Err(Error::invalid(format!("dimension `{d}`"), "named twice"));
            }
        }
        Ok(Variable {
            dims,
            data,
            attrs: Attrs::default(),
            encoding: Attrs::default(),
        })
    }

    /// A 0-d variable holding NaN: what a failed `DataArray` holds in place of data.
    pub(crate) fn empty() -> Variable {
        Variable {
            dims: Vec::new(),
            data: Data::from(ArrayData::from(ndarray::ArrayD::from_elem(
                ndarray::IxDyn(&[]),
                f64::NAN,
            ))),
            attrs: Attrs::default(),
            encoding: Attrs::default(),
        }
    }

    /// The same variable with these attributes.
    pub fn with_attrs(mut self, attrs: Attrs) -> Variable {
        self.attrs = attrs;
        self
    }

    /// The same variable with this encoding (how it was stored on disk).
    pub fn with_encoding(mut self, encoding: Attrs) -> Variable {
        self.encoding = encoding;
        self
    }

    /// The same dimensions and attributes around other data of the same shape.
    pub fn with_data(&self, data: impl Into<Data>) -> Result<Variable> {
        let data = data.into();
        if data.shape() != self.shape() {
            return Err(Error::Shape {
                what: format!("new data for ({})", self.dims.join(", ")),
                expected: self.shape().to_vec(),
                found: data.shape().to_vec(),
            });
        }
        Ok(Variable {
            data,
            ..self.clone()
        })
    }

    /// The same dimensions and attributes around data of any shape of the same rank
    /// (for operations that change lengths, such as joining).
    pub(crate) fn with_data_unchecked(&self, data: impl Into<Data>) -> Variable {
        Variable {
            data: data.into(),
            ..self.clone()
        }
    }

    /// Dimension names, in axis order.
    pub fn dims(&self) -> &[String] {
        &self.dims
    }

    /// Axis of a dimension.
    pub fn axis_of(&self, dim: &str) -> Result<usize> {
        self.dims
            .iter()
            .position(|d| d == dim)
            .ok_or_else(|| Error::NoSuchDim {
                dim: dim.to_owned(),
                available: self.dims.clone(),
            })
    }

    /// Dimension names with their lengths.
    pub fn sizes(&self) -> Sizes {
        Sizes::from_pairs(self.dims.iter().cloned().zip(self.shape().iter().copied()))
    }

    /// Length of each axis.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the variable holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the values take once in memory.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }

    /// The values, lazy or in memory.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The values if they are in memory.
    pub fn values(&self) -> Option<&ArrayData> {
        match &self.data {
            Data::InMemory(a) => Some(a),
            Data::Lazy(_) => None,
        }
    }

    /// Whether the values are still to be read or computed.
    pub fn is_lazy(&self) -> bool {
        self.data.is_lazy()
    }

    /// Attributes.
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// Attributes, to change.
    pub fn attrs_mut(&mut self) -> &mut Attrs {
        &mut self.attrs
    }

    /// How the values were encoded on disk (`units`, `calendar`, `_FillValue`, ...).
    pub fn encoding(&self) -> &Attrs {
        &self.encoding
    }
}
