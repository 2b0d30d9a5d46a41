//! The binary form of the results of a plan's pieces, and of arrays inside a plan:
//! little-endian, with a header that says what and which pieces it holds, and a
//! checksum at the end, so a truncated or damaged message is refused, never
//! misread. Sizes inside are checked against the sizes the plan expects before
//! anything is allocated.
//!
//! Results: `GXRP`, version (2), kind (1 partials, 2 arrays, 3 running total), first
//! piece and count (u64 each), then each piece as its length (u64) and bytes, then the
//! checksum (u64) of everything before it: FNV-1a taken over little-endian 64-bit
//! words (eight times faster than over bytes, and any one changed word still
//! changes it). A running total covers pieces
//! `0..count` (first is 0) with one partial: theirs merged left to right.
//!
//! Arrays: element type code (u8), calendar code (u8, times only), number of axes
//! (u64), each axis length (u64), the elements.

use crate::error::{Error, Result};
use crate::model::{with_array, ArrayData, Calendar, DType};

const MAGIC: &[u8; 4] = b"GXRP";
const VERSION: u8 = 2;

/// What a message's pieces are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Partials = 1,
    Arrays = 2,
    /// One partial: the pieces from the first on, merged.
    Total = 3,
}

/// Builds one message.
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new(kind: Kind, first: usize, count: usize) -> Writer {
        let mut buf = Vec::new();
        buf.extend_from_slice(MAGIC);
        buf.push(VERSION);
        buf.push(kind as u8);
        buf.extend_from_slice(&(first as u64).to_le_bytes());
        buf.extend_from_slice(&(count as u64).to_le_bytes());
        Writer { buf }
    }

    /// Appends one piece written by `write`.
    pub(crate) fn piece(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u64.to_le_bytes());
        write(&mut self.buf);
        let len = (self.buf.len() - at - 8) as u64;
        self.buf[at..at + 8].copy_from_slice(&len.to_le_bytes());
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        let sum = fnv1a(&self.buf);
        self.buf.extend_from_slice(&sum.to_le_bytes());
        self.buf
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(0x0100_0000_01b3);
    let h = words.fold(0xcbf2_9ce4_8422_2325, |h, w| {
        step(h, u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
    });
    // The tail's length goes in too, so that trailing zero bytes count.
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    step(step(h, u64::from_le_bytes(last)), tail.len() as u64)
}

fn damaged(why: impl Into<String>) -> Error {
    Error::invalid("the results of a plan's pieces", why.into())
}

/// Reads a u64 at `*at`, moving on.
fn take_u64(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let b = bytes
        .get(*at..at.saturating_add(8))
        .ok_or_else(|| damaged("cut short"))?;
    *at += 8;
    Ok(u64::from_le_bytes(
        b.try_into().map_err(|_| damaged("cut short"))?,
    ))
}

/// The pieces of a message, which must be of `kind` and start at piece `first` of
/// `total`.
pub(crate) fn read(bytes: &[u8], kind: Kind, first: usize, total: usize) -> Result<Vec<&[u8]>> {
    let (found, start, _, pieces) = parse(bytes, total)?;
    if found != kind as u8 {
        return Err(damaged("pieces of another kind than this plan's"));
    }
    if start != first {
        return Err(damaged(format!(
            "they start at piece {start} where piece {first} comes next"
        )));
    }
    Ok(pieces)
}

/// Whether a message is a running total (the one thing a reduction's results may
/// start with besides single pieces).
pub(crate) fn is_total(bytes: &[u8]) -> bool {
    bytes.len() > 5 && &bytes[..4] == MAGIC && bytes[5] == Kind::Total as u8
}

/// A running total of `total` pieces: how many pieces from 0 it covers, and its
/// one partial.
pub(crate) fn read_total(bytes: &[u8], total: usize) -> Result<(usize, &[u8])> {
    let (found, start, count, pieces) = parse(bytes, total)?;
    match (found, start, pieces.as_slice()) {
        (k, 0, [one]) if k == Kind::Total as u8 => Ok((count, one)),
        _ => Err(damaged("not a running total from piece 0")),
    }
}

/// Kind, first piece, count and the pieces of a message whose pieces lie within
/// `0..total`; checksum, version and lengths checked.
fn parse(bytes: &[u8], total: usize) -> Result<(u8, usize, usize, Vec<&[u8]>)> {
    if bytes.len() < 22 + 8 || &bytes[..4] != MAGIC {
        return Err(damaged("not a message of geoxr pieces"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if fnv1a(body) != u64::from_le_bytes(sum.try_into().map_err(|_| damaged("cut short"))?) {
        return Err(damaged("the checksum does not match: damaged or cut short"));
    }
    if body[4] != VERSION {
        return Err(damaged(format!("version {}, expected {VERSION}", body[4])));
    }
    let kind = body[5];
    let mut at = 6;
    let start = take_u64(body, &mut at)?;
    let count = take_u64(body, &mut at)?;
    if start > total as u64 || count > total as u64 - start {
        return Err(damaged(format!(
            "{count} pieces from {start} go beyond the plan's {total}"
        )));
    }
    // A running total holds one partial for all the pieces it covers.
    let held = if kind == Kind::Total as u8 { 1 } else { count };
    let mut pieces = Vec::with_capacity(held as usize);
    for _ in 0..held {
        let len = take_u64(body, &mut at)?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| at.checked_add(l))
            .filter(|e| *e <= body.len())
            .ok_or_else(|| damaged("a piece runs past the end"))?;
        pieces.push(&body[at..end]);
        at = end;
    }
    if at != body.len() {
        return Err(damaged("bytes left after the last piece"));
    }
    Ok((kind, start as usize, count as usize, pieces))
}

fn dtype_code(d: DType) -> (u8, u8) {
    match d {
        DType::F32 => (1, 0),
        DType::F64 => (2, 0),
        DType::I8 => (3, 0),
        DType::U8 => (4, 0),
        DType::I16 => (5, 0),
        DType::U16 => (6, 0),
        DType::I32 => (7, 0),
        DType::U32 => (8, 0),
        DType::I64 => (9, 0),
        DType::U64 => (10, 0),
        DType::Time(c) => (
            11,
            Calendar::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8,
        ),
    }
}

/// Little-endian bytes of the element types.
trait Le: Sized + Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
        }
    )*};
}
le!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);

/// Appends an array: type, shape, elements in C order.
pub(crate) fn encode_array(a: &ArrayData, out: &mut Vec<u8>) {
    let (code, cal) = dtype_code(a.dtype());
    out.push(code);
    out.push(cal);
    out.extend_from_slice(&(a.shape().len() as u64).to_le_bytes());
    for n in a.shape() {
        out.extend_from_slice(&(*n as u64).to_le_bytes());
    }
    out.reserve(a.len().saturating_mul(a.dtype().size()));
    with_array!(a, x => {
        for v in x.iter() {
            v.put(out);
        }
    });
}

/// An array that `encode_array` wrote, which must be of type `dtype` and shape
/// `shape` (checked before anything is allocated).
pub(crate) fn decode_array(bytes: &[u8], dtype: DType, shape: &[usize]) -> Result<ArrayData> {
    let bad = |why: String| Error::invalid("an array in a plan or its results", why);
    let mut at = 2;
    if bytes.len() < 10 || (bytes[0], bytes[1]) != dtype_code(dtype) {
        return Err(bad(format!("it is not a {dtype} array")));
    }
    let ndim = take_u64(bytes, &mut at)?;
    if ndim != shape.len() as u64 {
        return Err(bad(format!(
            "{ndim} axes where {} are expected",
            shape.len()
        )));
    }
    for n in shape {
        if take_u64(bytes, &mut at)? != *n as u64 {
            return Err(bad(format!("its shape is not {shape:?}")));
        }
    }
    let count: usize = shape.iter().product();
    let data = &bytes[at..];
    if Some(data.len()) != count.checked_mul(dtype.size()) {
        return Err(bad(format!(
            "{} bytes of elements for a {dtype} {shape:?} array",
            data.len()
        )));
    }
    let _held = crate::compute::engine::reserve("reading an array of a plan", data.len() as u64)?;
    fn values<T: Le>(data: &[u8], shape: &[usize]) -> Result<ndarray::ArrayD<T>> {
        let v: Vec<T> = data.chunks_exact(T::SIZE).map(T::get).collect();
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v)
            .map_err(|e| Error::invalid("an array in a plan", e.to_string()))
    }
    Ok(match dtype {
        DType::F32 => ArrayData::F32(values(data, shape)?),
        DType::F64 => ArrayData::F64(values(data, shape)?),
        DType::I8 => ArrayData::I8(values(data, shape)?),
        DType::U8 => ArrayData::U8(values(data, shape)?),
        DType::I16 => ArrayData::I16(values(data, shape)?),
        DType::U16 => ArrayData::U16(values(data, shape)?),
        DType::I32 => ArrayData::I32(values(data, shape)?),
        DType::U32 => ArrayData::U32(values(data, shape)?),
        DType::I64 => ArrayData::I64(values(data, shape)?),
        DType::U64 => ArrayData::U64(values(data, shape)?),
        DType::Time(c) => ArrayData::Time(values(data, shape)?, c),
    })
}

/// The type and shape of an encoded array, read from its header (for arrays inside
/// a plan, whose size the plan's text does not state elsewhere).
pub(crate) fn array_header(bytes: &[u8]) -> Result<(DType, Vec<usize>)> {
    let bad = |why: &str| Error::invalid("an array in a plan", why.to_owned());
    if bytes.len() < 10 {
        return Err(bad("cut short"));
    }
    let dtype = match bytes[0] {
        1 => DType::F32,
        2 => DType::F64,
        3 => DType::I8,
        4 => DType::U8,
        5 => DType::I16,
        6 => DType::U16,
        7 => DType::I32,
        8 => DType::U32,
        9 => DType::I64,
        10 => DType::U64,
        11 => DType::Time(
            *Calendar::ALL
                .get(bytes[1] as usize)
                .ok_or_else(|| bad("unknown calendar"))?,
        ),
        _ => return Err(bad("unknown element type")),
    };
    let mut at = 2;
    let ndim = take_u64(bytes, &mut at)?;
    if ndim > 32 {
        return Err(bad("more than 32 axes"));
    }
    let mut shape = Vec::with_capacity(ndim as usize);
    for _ in 0..ndim {
        let n = take_u64(bytes, &mut at)?;
        shape.push(usize::try_from(n).map_err(|_| bad("an axis too long"))?);
    }
    Ok((dtype, shape))
}
