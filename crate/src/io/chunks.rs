//! Where a NetCDF-4 variable's bytes lie in its file, and how to decode them: a
//! chunk map built once from the HDF5 headers (by `hdf5-reader`), then read with
//! plain positional reads, inflated, unshuffled and checked here. This is the fast
//! path of the Rust engine for the common layouts (contiguous, or chunked with a v1
//! B-tree index, every chunk written, filters among shuffle, deflate and
//! fletcher32), and what the chunk index cache (`io::index`) stores, so a re-opened
//! file needs no HDF5 header at all. Any other layout has no map and is read by
//! `hdf5-reader` itself.

use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use hdf5_reader::messages::HdfMessage;

use super::files::memory_cap;

/// A filter of the pipeline, in the order it was applied when writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    Shuffle,
    Deflate,
    Fletcher32,
}

/// One stored chunk: where it starts (in elements, per dimension), its file offset
/// and stored size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredChunk {
    pub start: Vec<usize>,
    pub address: u64,
    pub size: u64,
}

/// How a variable is stored: element size and order, chunk shape, filters, chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkMap {
    pub elem_size: usize,
    pub big_endian: bool,
    pub shape: Vec<usize>,
    pub chunk: Vec<usize>,
    pub filters: Vec<Filter>,
    pub chunks: Vec<StoredChunk>,
}

/// The map of a variable, when its layout is one this module reads; `None` sends the
/// reads to `hdf5-reader`.
pub(crate) fn map(hdf5: &hdf5_reader::Hdf5File, path: &str, shape: &[usize]) -> Option<ChunkMap> {
    if hdf5.superblock().base_address != 0 {
        return None;
    }
    let dataset = hdf5.dataset(path).ok()?;
    let extent: Vec<usize> = dataset
        .shape()
        .iter()
        .map(|d| usize::try_from(*d).ok())
        .collect::<Option<_>>()?;
    if extent != shape || shape.is_empty() || shape.contains(&0) {
        return None; // shorter than its dimension, or nothing to read
    }
    let header = hdf5.get_or_parse_header(dataset.address()).ok()?;
    let (mut layout, mut dtype, mut filters) = (None, None, Vec::new());
    for m in &header.messages {
        match m {
            HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
            HdfMessage::Datatype(t) => dtype = Some(t.datatype.clone()),
            HdfMessage::FilterPipeline(p) => {
                for f in &p.filters {
                    filters.push(match f.id {
                        1 => Filter::Deflate,
                        2 => Filter::Shuffle,
                        3 => Filter::Fletcher32,
                        _ => return None,
                    });
                }
            }
            _ => {}
        }
    }
    use hdf5_reader::messages::datatype::Datatype;
    let (elem_size, order) = match dtype? {
        Datatype::FixedPoint {
            size, byte_order, ..
        }
        | Datatype::FloatingPoint { size, byte_order } => (usize::from(size), byte_order),
        _ => return None,
    };
    let big_endian = matches!(order, hdf5_reader::ByteOrder::BigEndian);
    let file_len = hdf5.storage().len();
    let in_file =
        |address: u64, size: u64| address.checked_add(size).is_some_and(|e| e <= file_len);
    use hdf5_reader::messages::layout::DataLayout;
    match layout? {
        DataLayout::Contiguous { address, size } => {
            let want = shape.iter().product::<usize>().checked_mul(elem_size)?;
            if !filters.is_empty() || size != want as u64 || !in_file(address, size) {
                return None;
            }
            Some(ChunkMap {
                elem_size,
                big_endian,
                shape: shape.to_vec(),
                chunk: shape.to_vec(),
                filters,
                chunks: vec![StoredChunk {
                    start: vec![0; shape.len()],
                    address,
                    size,
                }],
            })
        }
        DataLayout::Chunked {
            address,
            dims,
            chunk_indexing: None,
            ..
        } => {
            let chunk: Vec<usize> = dims.iter().take(shape.len()).map(|d| *d as usize).collect();
            if chunk.len() != shape.len() || chunk.contains(&0) {
                return None;
            }
            let sb = hdf5.superblock();
            let leaves = hdf5_reader::btree_v1::collect_btree_v1_leaves_storage(
                hdf5.storage(),
                address,
                sb.offset_size,
                sb.length_size,
                Some(dims.len() as u32),
                &dims,
                None,
            )
            .ok()?;
            let expected: usize = shape
                .iter()
                .zip(&chunk)
                .map(|(s, c)| s.div_ceil(*c))
                .product();
            if leaves.len() != expected {
                return None; // unwritten chunks: their fill value is hdf5-reader's job
            }
            let mut chunks = Vec::with_capacity(leaves.len());
            for (key, child) in leaves {
                let hdf5_reader::btree_v1::BTreeV1Key::RawData {
                    chunk_size,
                    filter_mask,
                    offsets,
                } = key
                else {
                    return None;
                };
                let start: Vec<usize> = offsets
                    .iter()
                    .take(shape.len())
                    .map(|o| usize::try_from(*o).ok())
                    .collect::<Option<_>>()?;
                let aligned = start
                    .iter()
                    .zip(&chunk)
                    .zip(shape)
                    .all(|((s, c), n)| s % c == 0 && s < n);
                if filter_mask != 0 || !aligned || !in_file(child, u64::from(chunk_size)) {
                    return None;
                }
                chunks.push(StoredChunk {
                    start,
                    address: child,
                    size: u64::from(chunk_size),
                });
            }
            chunks.sort_by(|a, b| a.start.cmp(&b.start));
            chunks.dedup_by(|a, b| a.start == b.start);
            (chunks.len() == expected).then_some(ChunkMap {
                elem_size,
                big_endian,
                shape: shape.to_vec(),
                chunk,
                filters,
                chunks,
            })
        }
        _ => None,
    }
}

impl ChunkMap {
    /// Reads the steps `first .. first + count[0]` along axis 0 (whole along the
    /// others) as an array of the storage type `dtype`. Fails with a message when the
    /// file's bytes do not decode as the map says (a damaged file).
    pub(crate) fn read_array(
        &self,
        path: &Path,
        dtype: crate::model::DType,
        first: usize,
        count: &[usize],
    ) -> Result<crate::model::ArrayData, String> {
        use crate::model::{with_storage_type, ArrayData, Element};
        use ndarray::{ArrayD, IxDyn};
        if count.len() != self.shape.len() || count[1..] != self.shape[1..] {
            return Err(format!(
                "cannot read {count:?} of {:?} by chunks",
                self.shape
            ));
        }
        if dtype.size() != self.elem_size {
            return Err(format!("{dtype} is not {} bytes wide", self.elem_size));
        }
        let n: usize = count.iter().product();
        let ranges: Vec<Range<usize>> = std::iter::once(first..first.saturating_add(count[0]))
            .chain(self.shape[1..].iter().map(|s| 0..*s))
            .collect();
        let order: Vec<usize> = (0..self.shape.len()).collect();
        // Chunks decode straight into the array's memory (the last filter writes it).
        let array = with_storage_type!(dtype, T => {
            // The memory of an array a reduction is done with, when there is one of
            // this size: every value is written below, so it is not zeroed.
            let spare = crate::compute::engine::take_spare(dtype, n)
                .and_then(T::into_array)
                .map(|a| a.into_raw_vec_and_offset())
                .and_then(|(v, offset)| (offset == Some(0) && v.len() == n).then_some(v));
            let mut values: Vec<T> = spare.unwrap_or_else(|| vec![T::default(); n]);
            self.read_window(path, &ranges, &order, bytemuck::cast_slice_mut(&mut values))?;
            ArrayData::from(ArrayD::from_shape_vec(IxDyn(count), values).map_err(|e| e.to_string())?)
        }, time => return Err("time is not a storage type".into()));
        Ok(array)
    }

    /// Decodes the box `ranges` of the variable into `out`, with its axes in `order`
    /// (`order[i]` is the variable's axis that becomes axis `i` of `out`): the values'
    /// bytes in this machine's byte order, C order. Only the box's elements are
    /// unshuffled and copied; each chunk it touches is still inflated whole (a
    /// deflate stream has no way in but its start, and its checksum is at its end).
    /// Fails with a message when the file's bytes do not decode as the map says (a
    /// damaged file).
    pub(crate) fn read_window(
        &self,
        path: &Path,
        ranges: &[Range<usize>],
        order: &[usize],
        out: &mut [u8],
    ) -> Result<(), String> {
        let rank = self.shape.len();
        let mut seen = vec![false; rank];
        let fits = ranges.len() == rank
            && ranges
                .iter()
                .zip(&self.shape)
                .all(|(r, n)| r.start <= r.end && r.end <= *n)
            && order.len() == rank
            && order.iter().all(|a| {
                seen.get_mut(*a)
                    .is_some_and(|s| !std::mem::replace(s, true))
            });
        let want = ranges
            .iter()
            .try_fold(self.elem_size, |acc, r| acc.checked_mul(r.len()));
        if !fits || want != Some(out.len()) || out.len() as u64 > memory_cap() {
            return Err(format!(
                "cannot read {ranges:?} of {:?} into {} bytes",
                self.shape,
                out.len()
            ));
        }
        if out.is_empty() {
            return Ok(());
        }
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
        let covering: Vec<&StoredChunk> = self
            .chunks
            .iter()
            .filter(|c| {
                (0..rank).all(|d| {
                    c.start[d] < ranges[d].end && c.start[d] + self.chunk[d] > ranges[d].start
                })
            })
            .collect();
        let in_order = order.iter().enumerate().all(|(i, a)| i == *a);
        with_scratch(|scratch| {
            // The common case: one chunk that is exactly the box, in its own order.
            if let [one] = covering.as_slice() {
                let exact = (0..rank).all(|d| {
                    one.start[d] == ranges[d].start && one.start[d] + self.chunk[d] == ranges[d].end
                });
                if exact && in_order {
                    let want = out.len();
                    self.undo_filters(&file, one, want, Some(&mut *out), &mut scratch.buffers)?;
                    self.to_native_order(out);
                    return Ok(());
                }
            }
            let chunk_bytes = self.chunk.iter().product::<usize>() * self.elem_size;
            let Scratch { buffers, chunk } = scratch;
            // A last shuffle is undone while gathering, from the planes in `input`;
            // any other last filter writes the thread's chunk buffer.
            let planes = self.filters.first() == Some(&Filter::Shuffle);
            let chunk = if planes {
                &mut [][..]
            } else {
                grown(chunk, chunk_bytes)
            };
            for c in covering {
                let into = (!planes).then_some(&mut *chunk);
                let (bytes, shuffled) =
                    match self.undo_filters(&file, c, chunk_bytes, into, buffers)? {
                        Undone::InOut => (&chunk[..], false),
                        Undone::InInput(len) => (&buffers.input[..len], true),
                    };
                self.gather(bytes, shuffled, c, ranges, order, out);
            }
            self.to_native_order(out);
            Ok(())
        })
    }

    /// Copies the part of the box `ranges` (axes in `order`) that lies in chunk `c`
    /// from the decoded chunk into its place in `out`. `chunk` holds the chunk's
    /// elements in C order, or, when `shuffled`, the shuffle filter's byte planes of
    /// them (byte `b` of element `i` at `b * n + i`), which are undone on the way.
    #[allow(clippy::too_many_arguments)]
    fn gather(
        &self,
        chunk: &[u8],
        shuffled: bool,
        c: &StoredChunk,
        ranges: &[Range<usize>],
        order: &[usize],
        out: &mut [u8],
    ) {
        let (rank, e) = (self.shape.len(), self.elem_size);
        let n = chunk.len() / e;
        // The part of the box in this chunk, per axis of the variable.
        let lo: Vec<usize> = (0..rank).map(|d| ranges[d].start.max(c.start[d])).collect();
        let hi: Vec<usize> = (0..rank)
            .map(|d| ranges[d].end.min(c.start[d] + self.chunk[d]))
            .collect();
        if lo.iter().zip(&hi).any(|(l, h)| l >= h) {
            return;
        }
        // Element strides along each axis of the variable: in the chunk, and in `out`.
        let mut in_chunk = vec![1; rank];
        for d in (0..rank - 1).rev() {
            in_chunk[d] = in_chunk[d + 1] * self.chunk[d + 1];
        }
        let mut in_out = vec![1; rank];
        let mut stride = 1;
        for &d in order.iter().rev() {
            in_out[d] = stride;
            stride *= ranges[d].len();
        }
        // Runs along `out`'s last axis, one for each position of the others.
        let last = order[rank - 1];
        let (run, step) = (hi[last] - lo[last], in_chunk[last]);
        let mut index = lo.clone();
        loop {
            let from: usize = (0..rank)
                .map(|d| (index[d] - c.start[d]) * in_chunk[d])
                .sum();
            let to: usize = (0..rank)
                .map(|d| (index[d] - ranges[d].start) * in_out[d])
                .sum();
            let dst = &mut out[to * e..(to + run) * e];
            match (shuffled, step) {
                (false, 1) => dst.copy_from_slice(&chunk[from * e..(from + run) * e]),
                (false, _) => {
                    for (k, o) in dst.chunks_exact_mut(e).enumerate() {
                        let at = (from + k * step) * e;
                        o.copy_from_slice(&chunk[at..at + e]);
                    }
                }
                (true, 1) => unshuffle_run(chunk, n, from, e, dst),
                (true, _) => {
                    for (k, o) in dst.chunks_exact_mut(e).enumerate() {
                        for (b, byte) in o.iter_mut().enumerate() {
                            *byte = chunk[b * n + from + k * step];
                        }
                    }
                }
            }
            // The next run: advance over `out`'s other axes, the innermost first.
            let mut j = rank - 1;
            loop {
                if j == 0 {
                    return;
                }
                j -= 1;
                let d = order[j];
                index[d] += 1;
                if index[d] < hi[d] {
                    break;
                }
                index[d] = lo[d];
            }
        }
    }

    /// Puts decoded elements in this machine's byte order.
    fn to_native_order(&self, out: &mut [u8]) {
        if self.big_endian != cfg!(target_endian = "big") && self.elem_size > 1 {
            for element in out.chunks_exact_mut(self.elem_size) {
                element.reverse();
            }
        }
    }

    /// Undoes the filters of one chunk (`want` bytes decoded), the stored byte order
    /// left as it is. The last filter to undo writes `out` (`want` bytes) directly;
    /// the stages before it use the thread's reused buffers. Without `out`, a
    /// shuffle undone last is left for the caller (who may want only some of the
    /// elements): the planes are then in `buffers.input`.
    fn undo_filters<'o>(
        &self,
        file: &std::fs::File,
        c: &StoredChunk,
        want: usize,
        out: Option<&'o mut [u8]>,
        buffers: &mut Buffers,
    ) -> Result<Undone, String> {
        let damaged = |what: String| format!("damaged file: chunk at byte {}: {what}", c.address);
        let room = |out: Option<&'o mut [u8]>| room_for(out, want, c.address);
        let holds = |len: usize| damaged(format!("holds {len} bytes, not {want}"));
        let stored = usize::try_from(c.size).map_err(|_| "chunk too large")?;
        if stored as u64 > memory_cap() {
            return Err("chunk larger than memory".into());
        }
        let read = |into: &mut [u8]| {
            file.read_exact_at(into, c.address).map_err(|e| {
                format!(
                    "truncated or damaged file: chunk at byte {}: {e}",
                    c.address
                )
            })
        };
        if self.filters.is_empty() {
            if stored != want {
                return Err(holds(stored));
            }
            read(room(out)?)?;
            return Ok(Undone::InOut);
        }
        let Buffers {
            input,
            work,
            inflater,
        } = buffers;
        let mut len = stored;
        read(grown(input, len))?;
        let mut out = out;
        let stages = self.filters.len();
        for (i, f) in self.filters.iter().rev().enumerate() {
            let last = i + 1 == stages;
            match f {
                Filter::Fletcher32 => {
                    let plain = hdf5_reader::filters::fletcher32::verify_and_strip(&input[..len])
                        .map_err(|e| damaged(e.to_string()))?;
                    len = plain.len();
                    *input = plain;
                }
                Filter::Deflate => {
                    let z = inflater.get_or_insert_with(|| flate2::Decompress::new(true));
                    if last {
                        let inflated = inflate(z, &input[..len], room(out)?).map_err(damaged)?;
                        if inflated != want {
                            return Err(damaged(format!(
                                "inflates to {inflated} bytes, not {want} (too short?)"
                            )));
                        }
                        return Ok(Undone::InOut);
                    }
                    // A checksum applied before deflate adds its 4 bytes.
                    let space = grown(work, want + 64);
                    len = inflate(z, &input[..len], space).map_err(damaged)?;
                    std::mem::swap(input, work);
                }
                Filter::Shuffle if last => {
                    if len != want {
                        return Err(holds(len));
                    }
                    return match out.take() {
                        None => Ok(Undone::InInput(len)),
                        Some(o) => {
                            unshuffle_into(&input[..len], self.elem_size, room(Some(o))?);
                            Ok(Undone::InOut)
                        }
                    };
                }
                Filter::Shuffle => {
                    unshuffle_into(&input[..len], self.elem_size, grown(work, len));
                    std::mem::swap(input, work);
                }
            }
        }
        // The last filter undone was a checksum: the values are in `input`.
        if len != want {
            return Err(holds(len));
        }
        room(out)?.copy_from_slice(&input[..len]);
        Ok(Undone::InOut)
    }
}

/// The output a last filter writes, `want` bytes long (an error otherwise).
fn room_for(out: Option<&mut [u8]>, want: usize, address: u64) -> Result<&mut [u8], String> {
    out.filter(|o| o.len() == want)
        .ok_or_else(|| format!("no room to decode the chunk at byte {address}"))
}

/// Where [`ChunkMap::undo_filters`] left a chunk's bytes: in the output it was given,
/// or (still shuffled) in the first `len` bytes of `Buffers::input`.
enum Undone {
    InOut,
    InInput(usize),
}

/// What decoding one chunk needs besides its output: the stored bytes, one filter's
/// output on the way to the last, and the inflater's state.
#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    work: Vec<u8>,
    inflater: Option<flate2::Decompress>,
}

/// A thread's buffers, reused from chunk to chunk so that reading a chunk allocates
/// (and zeroes, and faults in) nothing on the common path. `chunk` holds a decoded
/// chunk of which only a part is wanted.
#[derive(Default)]
struct Scratch {
    buffers: Buffers,
    chunk: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Buffers larger than this are freed after use rather than kept for the next chunk.
const KEEP_BYTES: usize = 16 << 20;

/// Runs `f` with this thread's scratch buffers.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH.with(|s| s.take());
    let out = f(&mut scratch);
    for v in [
        &mut scratch.buffers.input,
        &mut scratch.buffers.work,
        &mut scratch.chunk,
    ] {
        if v.capacity() > KEEP_BYTES {
            *v = Vec::new();
        }
    }
    SCRATCH.with(|s| *s.borrow_mut() = scratch);
    out
}

/// The first `len` bytes of a reused buffer, grown (and zeroed) only when too short.
fn grown(buffer: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
    &mut buffer[..len]
}

/// Inflates one zlib stream into `out`; the number of bytes it held. Fails when the
/// stream is damaged, ends early, or holds more than `out` has room for.
fn inflate(z: &mut flate2::Decompress, input: &[u8], out: &mut [u8]) -> Result<usize, String> {
    z.reset(true);
    let status = z
        .decompress(input, out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("cannot inflate it ({e})"))?;
    let written = usize::try_from(z.total_out()).map_err(|_| "size overflow")?;
    match status {
        flate2::Status::StreamEnd => Ok(written),
        _ if written == out.len() => Err("inflates to more bytes than the chunk holds".into()),
        _ => Err("the compressed stream ends early (truncated?)".into()),
    }
}

/// Undoes HDF5's shuffle filter into `out` (as long as `planes`): byte `b` of every
/// element was stored together in plane `b`. A trailing remainder (when the length is
/// not a multiple of the element size) was left as it was.
fn unshuffle_into(planes: &[u8], size: usize, out: &mut [u8]) {
    let n = if size <= 1 { 0 } else { planes.len() / size };
    if n > 0 {
        unshuffle_run(planes, n, 0, size, &mut out[..n * size]);
    }
    let tail = n * size;
    out[tail..].copy_from_slice(&planes[tail..]);
}

/// Undoes the shuffle filter for the elements `from ..` (as many as `out` holds) of
/// `n` elements stored as `size` byte planes of `n` bytes each in `planes`.
fn unshuffle_run(planes: &[u8], n: usize, from: usize, size: usize, out: &mut [u8]) {
    let run = out.len() / size;
    let plane = |b: usize| &planes[b * n + from..b * n + from + run];
    // Zipped iterators (no indexing) let the compiler vectorize the common widths.
    match size {
        2 => {
            for ((o, a), b) in out.chunks_exact_mut(2).zip(plane(0)).zip(plane(1)) {
                o.copy_from_slice(&[*a, *b]);
            }
        }
        4 => {
            let elements = out.chunks_exact_mut(4).zip(plane(0)).zip(plane(1));
            for (((o, a), b), (c, d)) in elements.zip(plane(2).iter().zip(plane(3))) {
                o.copy_from_slice(&[*a, *b, *c, *d]);
            }
        }
        8 => by_plane::<8>(out, plane),
        _ => {
            for b in 0..size {
                for (o, byte) in out.chunks_exact_mut(size).zip(plane(b)) {
                    o[b] = *byte;
                }
            }
        }
    }
}

/// The shuffle undone one plane at a time, for a width known when compiling.
fn by_plane<'a, const S: usize>(out: &mut [u8], plane: impl Fn(usize) -> &'a [u8]) {
    for b in 0..S {
        for (o, byte) in out.chunks_exact_mut(S).zip(plane(b)) {
            o[b] = *byte;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_restores_element_bytes() {
        let unshuffle = |planes: &[u8], size: usize| {
            let mut out = vec![0u8; planes.len()];
            unshuffle_into(planes, size, &mut out);
            out
        };
        assert_eq!(
            unshuffle(&[1, 5, 2, 6, 3, 7, 4, 8], 4),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(unshuffle(&[1, 4, 2, 5, 3, 6], 3), [1, 2, 3, 4, 5, 6]);
        assert_eq!(unshuffle(&[1, 3, 2, 4, 9], 2), [1, 2, 3, 4, 9]);
        // Many 4-byte elements (the vectorised loop and its rest) and a trailing byte.
        let elements: Vec<[u8; 4]> = (0..37u8)
            .map(|i| [i, i ^ 0x55, i.wrapping_mul(7), !i])
            .collect();
        let mut planes: Vec<u8> = (0..4)
            .flat_map(|b| elements.iter().map(move |e| e[b]))
            .collect();
        planes.push(0xee);
        let mut want: Vec<u8> = elements.concat();
        want.push(0xee);
        assert_eq!(unshuffle(&planes, 4), want);
    }
}
