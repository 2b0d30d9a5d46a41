//! Comparing arrays as xarray's `equals` does: same dimensions, same coordinates and
//! the same values, with NaN equal to NaN.

use crate::error::Result;
use crate::model::{ArrayData, DataArray, Variable};

fn same_values(a: &ArrayData, b: &ArrayData) -> bool {
    a.dtype() == b.dtype()
        && a.shape() == b.shape()
        && a.to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .all(|(x, y)| *x == y || (x.is_nan() && y.is_nan()))
}

fn same_variable(a: &Variable, b: &Variable) -> Result<bool> {
    if a.dims() != b.dims() {
        return Ok(false);
    }
    let (a, b) = (a.load()?, b.load()?);
    Ok(match (a.values(), b.values()) {
        (Some(x), Some(y)) => same_values(x, y),
        _ => false,
    })
}

impl DataArray {
    /// Whether two arrays have the same dimensions, coordinates and values (NaN
    /// equal to NaN), loading them if needed: xarray's `equals`. A failed array on
    /// either side gives its error (two failed arrays are not equal, they are errors).
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["x"], ArrayData::from(ArrayD::from_elem(vec![2], f32::NAN)))?;
    /// let a = DataArray::new(None, v, vec![])?;
    /// assert!(a.equals(&a.chunk("x", 1))?);
    /// assert!(a.equals(&a.mean("y")).is_err());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn equals(&self, other: &DataArray) -> Result<bool> {
        self.check()?;
        other.check()?;
        if !same_variable(self.variable(), other.variable())?
            || self.coords().len() != other.coords().len()
        {
            return Ok(false);
        }
        for (name, c) in self.coords() {
            match other.coord(name) {
                Ok(d) if same_variable(c, d)? => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
}
