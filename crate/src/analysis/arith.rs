//! Arithmetic: `+ - * /` between arrays and numbers, and between arrays matched by
//! dimension name (broadcasting: the result has the left operand's dimensions, then
//! the right operand's others). Operators give a `DataArray`, so they chain:
//! `(&a - &b) * 2.0`; arrays that do not fit give a failed array that names them
//! (see [`DataArray`]), and a failed operand passes its own error on.
//!
//! Float32 stays float32 (with float32 or number operands); anything else computes in
//! float64. Scalar arithmetic on lazy arrays stays lazy; array-array arithmetic stays
//! lazy when the right operand is in memory and lacks the left's chunked dimension,
//! and otherwise loads both operands.

use std::ops::{Add, Div, Mul, Sub};
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

pub use crate::compute::ops::BinaryOp;
use crate::compute::ops::ChunkOp;
use crate::compute::sources::same_axis;
use crate::error::{Error, Result};
use crate::model::{ArrayData, DType, Data, DataArray, Variable};

fn out_dtype(a: DType, b: Option<DType>) -> Result<DType> {
    if matches!(a, DType::Time(_)) || matches!(b, Some(DType::Time(_))) {
        return Err(Error::invalid(
            "arithmetic",
            "times cannot be added, subtracted, multiplied or divided",
        ));
    }
    Ok(match (a, b) {
        (DType::F32, None | Some(DType::F32)) => DType::F32,
        _ => DType::F64,
    })
}

impl DataArray {
    /// `self op x` for a number `x`, element by element.
    pub fn apply_scalar(&self, op: BinaryOp, x: f64) -> DataArray {
        self.step(
            || format!("{} {} {x}", self.label(), op.symbol()),
            |a| a.try_apply_scalar(op, x),
        )
    }

    /// `self op other`, matching dimensions by name. A failed `other` passes its
    /// error on.
    pub fn apply_array(&self, op: BinaryOp, other: &DataArray) -> DataArray {
        let step = || format!("{} {} {}", self.label(), op.symbol(), other.label());
        self.step(step, |a| {
            other.check()?;
            a.try_apply_array(op, other)
        })
    }

    fn try_apply_scalar(&self, op: BinaryOp, x: f64) -> Result<DataArray> {
        let dtype = out_dtype(self.dtype(), None)?;
        let scalar = ChunkOp::Scalar { op, x, dtype };
        let data = self.data().map(scalar, self.shape().to_vec(), same_axis)?;
        let variable = Variable::new(self.dims().to_vec(), data)?;
        self.with_parts(variable, self.coords().to_vec())
    }

    fn try_apply_array(&self, op: BinaryOp, other: &DataArray) -> Result<DataArray> {
        let dtype = out_dtype(self.dtype(), Some(other.dtype()))?;
        // Shared dimensions must have the same length and the same labels.
        let (sizes, other_sizes) = (self.variable().sizes(), other.variable().sizes());
        for (dim, n) in other_sizes.iter() {
            if let Some(m) = sizes.get(dim) {
                if m != n {
                    return Err(Error::Shape {
                        what: format!(
                            "`{dim}` in {} {} {}",
                            self.label(),
                            op.symbol(),
                            other.label()
                        ),
                        expected: vec![m],
                        found: vec![n],
                    });
                }
                if let (Ok(a), Ok(b)) = (self.coord(dim), other.coord(dim)) {
                    if a.values().map(ArrayData::to_f64_vec)
                        != b.values().map(ArrayData::to_f64_vec)
                    {
                        return Err(Error::invalid(
                            format!(
                                "`{dim}` in {} {} {}",
                                self.label(),
                                op.symbol(),
                                other.label()
                            ),
                            "the two arrays have different labels; select the same labels first",
                        ));
                    }
                }
            }
        }
        let extra: Vec<String> = other
            .dims()
            .iter()
            .filter(|d| !self.dims().contains(d))
            .cloned()
            .collect();
        let dims: Vec<String> = self.dims().iter().chain(&extra).cloned().collect();
        let shape: Vec<usize> = dims
            .iter()
            .map(|d| sizes.get(d).or_else(|| other_sizes.get(d)).unwrap_or(1))
            .collect();
        let other_loaded = other.load()?;
        let right = other_loaded
            .values()
            .ok_or_else(|| Error::invalid("arithmetic", "operand not in memory"))?;
        let right = Arc::new(align(right, other.dims(), &dims)?);
        // Chunk by chunk when the chunked dimension is the left's alone and the
        // result has no other dimensions; otherwise both operands are loaded first.
        let chunkable = match self.data() {
            Data::Lazy(lazy) => {
                extra.is_empty() && !other.dims().contains(&self.dims()[lazy.axis()])
            }
            Data::InMemory(_) => true,
        };
        let left = if chunkable {
            self.variable().clone()
        } else {
            self.variable().load()?
        };
        // The left operand gets length-1 axes for the right's other dimensions.
        let mut left_shape = left.shape().to_vec();
        left_shape.extend(extra.iter().map(|_| 1));
        let array = ChunkOp::Array { op, right, dtype };
        let data = left.data().through_chunks(0, |lazy| {
            let axis = lazy.axis();
            // Only a left without dimensions grows along the chunked axis.
            let factor = match (shape.get(axis), left_shape.get(axis)) {
                (Some(n), Some(m)) => n.checked_div(*m).unwrap_or(1),
                _ => 1,
            };
            let lazy = if extra.is_empty() {
                lazy.clone()
            } else {
                let reshape = ChunkOp::Reshape {
                    shape: left_shape.clone(),
                };
                lazy.map_chunks(left_shape.clone(), axis, 1, reshape)?
            };
            lazy.map_chunks(shape.clone(), axis, factor, array)
        })?;
        let variable = Variable::new(dims, data)?;
        let mut coords = self.coords().to_vec();
        for (n, c) in other.coords() {
            if !coords.iter().any(|(m, _)| m == n) {
                coords.push((n.clone(), c.clone()));
            }
        }
        let mut out = self.with_parts(variable, coords)?;
        if other.name() != self.name() {
            out = DataArray::new(None, out.variable().clone(), out.coords().to_vec())?;
        }
        Ok(out)
    }

    fn label(&self) -> String {
        self.name()
            .map(|n| format!("`{n}`"))
            .unwrap_or_else(|| "array".into())
    }
}

/// An operand's values in `f64`, with axes ordered as `target` and length-1 axes for
/// the dimensions it lacks.
fn align(data: &ArrayData, dims: &[String], target: &[String]) -> Result<ArrayD<f64>> {
    let present: Vec<&String> = target.iter().filter(|d| dims.contains(d)).collect();
    let order: Vec<usize> = present
        .iter()
        .map(|d| dims.iter().position(|x| x == *d).unwrap_or(0))
        .collect();
    let permuted = data.permute(&order).to_f64_array();
    let shape: Vec<usize> = target
        .iter()
        .map(|d| {
            dims.iter()
                .position(|x| x == d)
                .map_or(1, |i| data.shape()[i])
        })
        .collect();
    permuted
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|e| Error::invalid("aligning operands", e.to_string()))
}

macro_rules! operators {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl $trait<f64> for &DataArray {
            type Output = DataArray;
            fn $method(self, x: f64) -> DataArray {
                self.apply_scalar(BinaryOp::$op, x)
            }
        }
        impl $trait<&DataArray> for &DataArray {
            type Output = DataArray;
            fn $method(self, other: &DataArray) -> DataArray {
                self.apply_array(BinaryOp::$op, other)
            }
        }
        impl $trait<DataArray> for &DataArray {
            type Output = DataArray;
            fn $method(self, other: DataArray) -> DataArray {
                self.apply_array(BinaryOp::$op, &other)
            }
        }
        impl $trait<f64> for DataArray {
            type Output = DataArray;
            fn $method(self, x: f64) -> DataArray {
                self.apply_scalar(BinaryOp::$op, x)
            }
        }
        impl $trait<&DataArray> for DataArray {
            type Output = DataArray;
            fn $method(self, other: &DataArray) -> DataArray {
                self.apply_array(BinaryOp::$op, other)
            }
        }
        impl $trait<DataArray> for DataArray {
            type Output = DataArray;
            fn $method(self, other: DataArray) -> DataArray {
                self.apply_array(BinaryOp::$op, &other)
            }
        }
    )*};
}
operators!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);
