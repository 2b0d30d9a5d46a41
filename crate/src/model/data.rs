//! Typed n-d storage: in-memory arrays of the file's own element type, or a lazy
//! chunked array whose chunks are read (or computed) on demand.

use std::fmt;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use super::time::{Calendar, CfDateTime};
use crate::error::Result;

/// Element type of an array, as numpy would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    /// Dates in a CF calendar.
    Time(Calendar),
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 | DType::U64 | DType::Time(_) => 8,
        }
    }

    /// Whether NaN can stand for a missing value.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::I32 => "int32",
            DType::U32 => "uint32",
            DType::I64 => "int64",
            DType::U64 => "uint64",
            DType::Time(c) if c.is_real_world() => "datetime64[s]",
            DType::Time(c) => return write!(f, "cftime[{c}]"),
        };
        f.write_str(name)
    }
}

/// An in-memory n-d array of one of the element types files hold.
///
/// ```
/// use geoxr::{ArrayData, DType};
/// use geoxr::ndarray::ArrayD;
/// let a = ArrayData::from(ArrayD::<f32>::zeros(vec![2, 3]));
/// assert_eq!((a.dtype(), a.shape()), (DType::F32, &[2, 3][..]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    I8(ArrayD<i8>),
    U8(ArrayD<u8>),
    I16(ArrayD<i16>),
    U16(ArrayD<u16>),
    I32(ArrayD<i32>),
    U32(ArrayD<u32>),
    I64(ArrayD<i64>),
    U64(ArrayD<u64>),
    /// Seconds since 1970-01-01 of the calendar.
    Time(ArrayD<i64>, Calendar),
}

/// Evaluates an expression on the ndarray inside any `ArrayData` variant.
macro_rules! with_array {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ArrayData::F32($a) => $body,
            ArrayData::F64($a) => $body,
            ArrayData::I8($a) => $body,
            ArrayData::U8($a) => $body,
            ArrayData::I16($a) => $body,
            ArrayData::U16($a) => $body,
            ArrayData::I32($a) => $body,
            ArrayData::U32($a) => $body,
            ArrayData::I64($a) => $body,
            ArrayData::U64($a) => $body,
            ArrayData::Time($a, _) => $body,
        }
    };
}
pub(crate) use with_array;

/// Evaluates an expression with `$t` the Rust element type of a storage `DType`
/// (every type but time, whose expression is given apart): the one place that
/// dispatches on the ten numeric types. Build arrays with `ArrayData::from` and
/// take them apart with [`Element`].
macro_rules! with_storage_type {
    ($dtype:expr, $t:ident => $body:expr, time => $time:expr) => {
        match $dtype {
            $crate::model::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::model::DType::F64 => {
                type $t = f64;
                $body
            }
            $crate::model::DType::I8 => {
                type $t = i8;
                $body
            }
            $crate::model::DType::U8 => {
                type $t = u8;
                $body
            }
            $crate::model::DType::I16 => {
                type $t = i16;
                $body
            }
            $crate::model::DType::U16 => {
                type $t = u16;
                $body
            }
            $crate::model::DType::I32 => {
                type $t = i32;
                $body
            }
            $crate::model::DType::U32 => {
                type $t = u32;
                $body
            }
            $crate::model::DType::I64 => {
                type $t = i64;
                $body
            }
            $crate::model::DType::U64 => {
                type $t = u64;
                $body
            }
            $crate::model::DType::Time(_) => $time,
        }
    };
}
pub(crate) use with_storage_type;

macro_rules! impl_from_array {
    ($($t:ty => $v:ident),*) => {$(
        impl From<ArrayD<$t>> for ArrayData {
            fn from(a: ArrayD<$t>) -> Self { ArrayData::$v(a) }
        }
    )*};
}
impl_from_array!(f32 => F32, f64 => F64, i8 => I8, u8 => U8, i16 => I16, u16 => U16,
    i32 => I32, u32 => U32, i64 => I64, u64 => U64);

impl ArrayData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArrayData::F32(_) => DType::F32,
            ArrayData::F64(_) => DType::F64,
            ArrayData::I8(_) => DType::I8,
            ArrayData::U8(_) => DType::U8,
            ArrayData::I16(_) => DType::I16,
            ArrayData::U16(_) => DType::U16,
            ArrayData::I32(_) => DType::I32,
            ArrayData::U32(_) => DType::U32,
            ArrayData::I64(_) => DType::I64,
            ArrayData::U64(_) => DType::U64,
            ArrayData::Time(_, c) => DType::Time(*c),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// A zero-filled array (the epoch, for times) of a given type and shape.
    pub fn zeros(dtype: DType, shape: &[usize]) -> ArrayData {
        let s = IxDyn(shape);
        match dtype {
            DType::F32 => ArrayData::F32(ArrayD::zeros(s)),
            DType::F64 => ArrayData::F64(ArrayD::zeros(s)),
            DType::I8 => ArrayData::I8(ArrayD::zeros(s)),
            DType::U8 => ArrayData::U8(ArrayD::zeros(s)),
            DType::I16 => ArrayData::I16(ArrayD::zeros(s)),
            DType::U16 => ArrayData::U16(ArrayD::zeros(s)),
            DType::I32 => ArrayData::I32(ArrayD::zeros(s)),
            DType::U32 => ArrayData::U32(ArrayD::zeros(s)),
            DType::I64 => ArrayData::I64(ArrayD::zeros(s)),
            DType::U64 => ArrayData::U64(ArrayD::zeros(s)),
            DType::Time(c) => ArrayData::Time(ArrayD::zeros(s), c),
        }
    }

    // The macro expands for every element type, f64 included.
    #[allow(clippy::unnecessary_cast)]
    /// Element `i` of the flattened (C-order) array as `f64`; times give seconds.
    pub fn get_f64(&self, flat_index: usize) -> Option<f64> {
        with_array!(self, a => match a.as_slice() {
            Some(s) => s.get(flat_index).map(|v| *v as f64),
            None => a.iter().nth(flat_index).map(|v| *v as f64),
        })
    }

    #[allow(clippy::unnecessary_cast)]
    /// The array as `f64` values in C order (times as seconds).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_array!(self, a => a.iter().map(|v| *v as f64).collect())
    }

    /// Times as calendar dates, or `None` for other types.
    pub fn as_times(&self) -> Option<Vec<CfDateTime>> {
        match self {
            ArrayData::Time(a, c) => {
                Some(a.iter().map(|s| CfDateTime::from_seconds(*c, *s)).collect())
            }
            _ => None,
        }
    }
}

/// A Rust element type that `ArrayData` can hold (times excluded: they are `i64`
/// seconds tagged with a calendar).
pub trait Element: Copy + Send + Sync + 'static {
    /// The matching `DType`.
    const DTYPE: DType;
    /// The array inside `data` when it holds this type.
    fn array(data: &ArrayData) -> Option<&ArrayD<Self>>;
    /// The array inside `data` when it holds this type, by value.
    fn into_array(data: ArrayData) -> Option<ArrayD<Self>>;
}

macro_rules! impl_element {
    ($($t:ty => $v:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$v;
            fn array(data: &ArrayData) -> Option<&ArrayD<Self>> {
                match data { ArrayData::$v(a) => Some(a), _ => None }
            }
            fn into_array(data: ArrayData) -> Option<ArrayD<Self>> {
                match data { ArrayData::$v(a) => Some(a), _ => None }
            }
        }
    )*};
}
impl_element!(f32 => F32, f64 => F64, i8 => I8, u8 => U8, i16 => I16, u16 => U16,
    i32 => I32, u32 => U32, i64 => I64, u64 => U64);

/// Something that can produce one chunk of a lazy array: a hyperslab of a file, a
/// chunk kept in memory, or a computation over other chunks.
pub trait ChunkSource: Send + Sync + fmt::Debug {
    /// Reads (or computes) the chunk, decoded, with the chunk's full shape.
    fn read(&self) -> Result<Arc<ArrayData>>;

    /// Reads positions `range` of the chunk along `axis` (the array's chunked axis).
    /// Sources that can do better than reading everything override it.
    fn read_part(&self, axis: usize, range: std::ops::Range<usize>) -> Result<Arc<ArrayData>> {
        let all = self.read()?;
        if range.start == 0 && Some(&range.end) == all.shape().get(axis) {
            return Ok(all);
        }
        Ok(Arc::new(all.slice_axis(axis, range)))
    }

    /// Reads the `window` of the chunk (all of it for [`Window::all`]) straight into
    /// `out`, the memory of a `dtype` array of the window's shape in C order (its
    /// bytes, in this machine's order), when the source can do that without a copy
    /// of its own; `Ok(false)` when it cannot (the caller then uses
    /// [`ChunkSource::read`] and takes the window itself). Values are those `read`
    /// gives.
    fn read_into(&self, dtype: DType, window: &Window, out: &mut [u8]) -> Result<bool> {
        let _ = (dtype, window, out);
        Ok(false)
    }

    /// Whether the values are already in memory (a persisted chunk).
    fn in_memory(&self) -> bool {
        false
    }

    /// Where the chunk comes from, for reprs and error messages.
    fn describe(&self) -> String;

    /// The source as `Any`, for the plan to read what it is made of (geoxr's own
    /// sources); others are shown by `describe` and cannot be shipped.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A box of a chunk and the order of its axes: what a selection, a transpose or a
/// stack asks of the chunk below it, so a file source can decode just that part
/// straight into its place in the result ([`ChunkSource::read_into`]).
///
/// A window is carried down a chain of steps, from the result to the source: each
/// step turns the window of its result into a window of its input.
///
/// ```
/// use geoxr::model::Window;
/// // A [4, 6] chunk transposed, then positions 2..5 of the result's first axis:
/// // positions 2..5 of the chunk's axis 1, written with the axes swapped.
/// let w = Window::all().slice(0, 2..5).and_then(|w| w.permute(&[1, 0]));
/// let (ranges, order) = w.unwrap().resolve(&[4, 6]).unwrap();
/// assert_eq!((ranges, order), (vec![0..4, 2..5], vec![1, 0]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// Positions kept along the axes named (all of every other axis).
    ranges: Vec<(usize, std::ops::Range<usize>)>,
    /// `order[i]` is the chunk's axis that becomes axis `i` of the result; `None`
    /// keeps the chunk's order.
    order: Option<Vec<usize>>,
}

impl Window {
    /// The whole chunk, in its own order.
    pub fn all() -> Window {
        Window::default()
    }

    /// Whether this is the whole chunk in its own order.
    pub fn is_all(&self) -> bool {
        self.ranges.is_empty() && self.order.is_none()
    }

    /// This window of the result of taking positions `range` along `axis` of a
    /// chunk, as a window of that chunk; `None` when it does not fit in `range`.
    pub fn slice(&self, axis: usize, range: std::ops::Range<usize>) -> Option<Window> {
        let mut ranges = self.ranges.clone();
        match ranges.iter_mut().find(|(a, _)| *a == axis) {
            Some((_, r)) => {
                if r.end > range.len() {
                    return None;
                }
                *r = range.start + r.start..range.start + r.end;
            }
            None => ranges.push((axis, range)),
        }
        Some(Window {
            ranges,
            order: self.order.clone(),
        })
    }

    /// This window of the result of reordering a chunk's axes (`order[i]` is the
    /// chunk's axis that becomes axis `i`), as a window of that chunk; `None` when
    /// the window names an axis `order` does not have.
    pub fn permute(&self, order: &[usize]) -> Option<Window> {
        let ranges = self
            .ranges
            .iter()
            .map(|(a, r)| Some((*order.get(*a)?, r.clone())))
            .collect::<Option<_>>()?;
        let order = match &self.order {
            Some(o) => o
                .iter()
                .map(|a| order.get(*a).copied())
                .collect::<Option<_>>()?,
            None => order.to_vec(),
        };
        Some(Window {
            ranges,
            order: Some(order),
        })
    }

    /// The window on a chunk of `shape`: the positions along each axis, and the
    /// chunk's axis that becomes each axis of the result. `None` when a range lies
    /// outside `shape` or the order is not one of its axes.
    pub fn resolve(&self, shape: &[usize]) -> Option<(Vec<std::ops::Range<usize>>, Vec<usize>)> {
        let mut ranges: Vec<_> = shape.iter().map(|n| 0..*n).collect();
        for (a, r) in &self.ranges {
            if r.start > r.end || r.end > *shape.get(*a)? {
                return None;
            }
            ranges[*a] = r.clone();
        }
        let order = self
            .order
            .clone()
            .unwrap_or_else(|| (0..shape.len()).collect());
        let mut seen = vec![false; shape.len()];
        for a in &order {
            if std::mem::replace(seen.get_mut(*a)?, true) {
                return None;
            }
        }
        (order.len() == shape.len()).then_some((ranges, order))
    }
}

/// One piece of a lazy array along its chunked axis.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Extent along the chunked axis.
    pub len: usize,
    /// Where its values come from.
    pub source: Arc<dyn ChunkSource>,
}

/// A lazy n-d array split into chunks along one axis.
#[derive(Debug, Clone)]
pub struct ChunkedArray {
    dtype: DType,
    shape: Vec<usize>,
    axis: usize,
    chunks: Vec<Chunk>,
}

impl ChunkedArray {
    /// A lazy array from its chunks along `axis`; the chunk lengths must add up to
    /// `shape[axis]`.
    pub fn new(dtype: DType, shape: Vec<usize>, axis: usize, chunks: Vec<Chunk>) -> Result<Self> {
        let total: usize = chunks.iter().map(|c| c.len).sum();
        if axis >= shape.len().max(1) || (!shape.is_empty() && total != shape[axis]) {
            return Err(crate::Error::Shape {
                what: "chunks of a lazy array".into(),
                expected: shape,
                found: vec![total],
            });
        }
        Ok(ChunkedArray {
            dtype,
            shape,
            axis,
            chunks,
        })
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Full shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The axis the chunks split.
    pub fn axis(&self) -> usize {
        self.axis
    }

    /// The chunks, in order along the axis.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Shape of the largest chunk, as dask's `chunksize` shows it.
    pub fn chunk_shape(&self) -> Vec<usize> {
        let mut s = self.shape.clone();
        if let Some(axis_len) = s.get_mut(self.axis) {
            *axis_len = self.chunks.iter().map(|c| c.len).max().unwrap_or(0);
        }
        s
    }

    /// Joins lazy arrays end to end along `axis` (which becomes the chunked axis).
    /// Every array must be a single chunk or already chunked along `axis`.
    pub fn concat(parts: &[ChunkedArray], axis: usize) -> Result<Self> {
        let first = parts
            .first()
            .ok_or_else(|| crate::Error::invalid("concat", "nothing to join"))?;
        let mut shape = first.shape.clone();
        let Some(joined) = shape.get_mut(axis) else {
            return Err(crate::Error::invalid(
                "concat",
                format!("axis {axis} of a {}-D array", first.shape.len()),
            ));
        };
        *joined = 0;
        let mut chunks = Vec::new();
        for p in parts {
            let same_other_dims = p.shape.len() == shape.len()
                && p.shape
                    .iter()
                    .zip(&shape)
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if p.dtype != first.dtype {
                return Err(crate::Error::invalid(
                    format!("joining {}", p.describe_sources()),
                    format!(
                        "its element type is {} but {} holds {}",
                        p.dtype,
                        first.describe_sources(),
                        first.dtype
                    ),
                ));
            }
            if !same_other_dims {
                return Err(crate::Error::Shape {
                    what: format!("joining {}", p.describe_sources()),
                    expected: first.shape.clone(),
                    found: p.shape.clone(),
                });
            }
            if p.axis != axis && p.chunks.len() > 1 {
                return Err(crate::Error::invalid(
                    "concat",
                    "arrays chunked along another axis",
                ));
            }
            shape[axis] += p.shape[axis];
            if p.axis == axis {
                chunks.extend(p.chunks.iter().cloned());
            } else {
                // A single chunk split along another axis covers all of this one.
                chunks.extend(p.chunks.iter().cloned().map(|mut c| {
                    c.len = p.shape[axis];
                    c
                }));
            }
        }
        ChunkedArray::new(first.dtype, shape, axis, chunks)
    }

    /// Whether every chunk is held in memory (after `persist`).
    pub fn is_persisted(&self) -> bool {
        self.chunks.iter().all(|c| c.source.in_memory())
    }

    /// Start position of each chunk along the chunked axis, plus the total at the end.
    pub fn offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.chunks.len() + 1);
        let mut at = 0;
        offsets.push(0);
        for c in &self.chunks {
            at += c.len;
            offsets.push(at);
        }
        offsets
    }

    fn describe_sources(&self) -> String {
        self.chunks
            .first()
            .map(|c| c.source.describe())
            .unwrap_or_default()
    }
}

/// The values of a variable: in memory, or lazy.
#[derive(Debug, Clone)]
pub enum Data {
    /// Loaded values.
    InMemory(Arc<ArrayData>),
    /// Chunks still to be read or computed.
    Lazy(ChunkedArray),
}

impl Data {
    /// Element type.
    pub fn dtype(&self) -> DType {
        match self {
            Data::InMemory(a) => a.dtype(),
            Data::Lazy(c) => c.dtype(),
        }
    }

    /// Shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Data::InMemory(a) => a.shape(),
            Data::Lazy(c) => c.shape(),
        }
    }

    /// Whether the values are still to be read or computed.
    pub fn is_lazy(&self) -> bool {
        matches!(self, Data::Lazy(_))
    }
}

impl From<ArrayData> for Data {
    fn from(a: ArrayData) -> Self {
        Data::InMemory(Arc::new(a))
    }
}
