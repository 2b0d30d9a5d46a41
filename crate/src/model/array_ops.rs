//! Shape-changing kernels on in-memory arrays, for every element type: slicing,
//! taking positions, permuting axes, reshaping and joining.

use ndarray::{concatenate, ArrayD, ArrayViewD, Axis, IxDyn, Slice};

use super::data::{with_array, ArrayData};
use crate::error::{Error, Result};

/// Rebuilds the same variant around a new ndarray computed from the old one.
macro_rules! map_array {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ArrayData::F32($a) => ArrayData::F32($body),
            ArrayData::F64($a) => ArrayData::F64($body),
            ArrayData::I8($a) => ArrayData::I8($body),
            ArrayData::U8($a) => ArrayData::U8($body),
            ArrayData::I16($a) => ArrayData::I16($body),
            ArrayData::U16($a) => ArrayData::U16($body),
            ArrayData::I32($a) => ArrayData::I32($body),
            ArrayData::U32($a) => ArrayData::U32($body),
            ArrayData::I64($a) => ArrayData::I64($body),
            ArrayData::U64($a) => ArrayData::U64($body),
            ArrayData::Time($a, c) => ArrayData::Time($body, *c),
        }
    };
}

impl ArrayData {
    /// Positions `range` along `axis`, copied.
    pub fn slice_axis(&self, axis: usize, range: std::ops::Range<usize>) -> ArrayData {
        map_array!(self, a => a.slice_axis(Axis(axis), Slice::from(range)).to_owned())
    }

    /// The given positions along `axis`, in the given order (repeats allowed).
    pub fn take(&self, axis: usize, positions: &[usize]) -> ArrayData {
        map_array!(self, a => a.select(Axis(axis), positions))
    }

    /// Drops `axis` by taking one position along it.
    pub fn index_axis(&self, axis: usize, position: usize) -> ArrayData {
        map_array!(self, a => a.index_axis(Axis(axis), position).to_owned())
    }

    /// Axes reordered (`order[i]` is the old axis that becomes axis `i`), in C layout.
    pub fn permute(&self, order: &[usize]) -> ArrayData {
        map_array!(self, a => a.view().permuted_axes(IxDyn(order)).as_standard_layout().into_owned())
    }

    /// The same elements in C order with another shape of the same size.
    pub fn reshape(&self, shape: &[usize]) -> Result<ArrayData> {
        let size: usize = shape.iter().product();
        let have: usize = self.shape().iter().product();
        if size != have {
            return Err(Error::Shape {
                what: "reshape".into(),
                expected: shape.to_vec(),
                found: self.shape().to_vec(),
            });
        }
        let bad_shape = |e: ndarray::ShapeError| Error::invalid("reshape", e.to_string());
        Ok(map_array!(self, a => {
            if a.is_standard_layout() {
                a.clone().into_shape_with_order(IxDyn(shape)).map_err(bad_shape)?
            } else {
                let flat: Vec<_> = a.iter().copied().collect();
                ArrayD::from_shape_vec(IxDyn(shape), flat).map_err(bad_shape)?
            }
        }))
    }

    /// Arrays of the same type joined along `axis`.
    pub fn concat(parts: &[&ArrayData], axis: usize) -> Result<ArrayData> {
        fn join<T: Clone>(views: Vec<ArrayViewD<'_, T>>, axis: usize) -> Result<ArrayD<T>> {
            concatenate(Axis(axis), &views)
                .map_err(|e| Error::invalid("joining arrays", e.to_string()))
        }
        let first = parts
            .first()
            .ok_or_else(|| Error::invalid("joining arrays", "nothing to join"))?;
        let mismatch = |a: &ArrayData| {
            Error::invalid(
                "joining arrays",
                format!("cannot join {} with {}", a.dtype(), first.dtype()),
            )
        };
        macro_rules! join_as {
            ($variant:ident) => {{
                let views = parts
                    .iter()
                    .map(|p| match p {
                        ArrayData::$variant(x) => Ok(x.view()),
                        other => Err(mismatch(other)),
                    })
                    .collect::<Result<Vec<_>>>()?;
                ArrayData::$variant(join(views, axis)?)
            }};
        }
        Ok(match first {
            ArrayData::F32(_) => join_as!(F32),
            ArrayData::F64(_) => join_as!(F64),
            ArrayData::I8(_) => join_as!(I8),
            ArrayData::U8(_) => join_as!(U8),
            ArrayData::I16(_) => join_as!(I16),
            ArrayData::U16(_) => join_as!(U16),
            ArrayData::I32(_) => join_as!(I32),
            ArrayData::U32(_) => join_as!(U32),
            ArrayData::I64(_) => join_as!(I64),
            ArrayData::U64(_) => join_as!(U64),
            ArrayData::Time(_, calendar) => {
                let views = parts
                    .iter()
                    .map(|p| match p {
                        ArrayData::Time(x, c) if c == calendar => Ok(x.view()),
                        other => Err(mismatch(other)),
                    })
                    .collect::<Result<Vec<_>>>()?;
                ArrayData::Time(join(views, axis)?, *calendar)
            }
        })
    }

    /// The values as `f64` with the same shape (times as seconds).
    #[allow(clippy::unnecessary_cast)]
    pub fn to_f64_array(&self) -> ArrayD<f64> {
        with_array!(self, a => a.mapv(|v| v as f64))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> ArrayData {
        ArrayData::F32(
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0., 1., 2., 3., 4., 5.]).unwrap(),
        )
    }

    #[test]
    fn slicing_taking_and_permuting() {
        let g = grid();
        assert_eq!(g.slice_axis(1, 1..3).to_f64_vec(), [1., 2., 4., 5.]);
        assert_eq!(g.take(1, &[2, 0]).to_f64_vec(), [2., 0., 5., 3.]);
        assert_eq!(g.index_axis(0, 1).to_f64_vec(), [3., 4., 5.]);
        let t = g.permute(&[1, 0]);
        assert_eq!(t.shape(), &[3, 2]);
        assert_eq!(t.to_f64_vec(), [0., 3., 1., 4., 2., 5.]);
        assert_eq!(
            t.reshape(&[6]).unwrap().to_f64_vec(),
            [0., 3., 1., 4., 2., 5.]
        );
        assert!(g.reshape(&[4]).is_err());
        let joined = ArrayData::concat(&[&g, &g], 0).unwrap();
        assert_eq!(joined.shape(), &[4, 3]);
    }
}
