//! A cache of what the Rust engine learnt from each file's headers (the idea of
//! kerchunk and VirtualiZarr): the metadata of every variable and, where `io::chunks`
//! can read it, the byte ranges of its chunks. The first open of a file writes one
//! entry; the next open of the same file reads the entry instead of any HDF5 header.
//!
//! An entry is keyed by the file's path (and the group opened) and records the file's
//! size, modification time and inode: a file that changed since does not match, and
//! its entry is rebuilt. An entry ends with a checksum of its bytes and starts with a
//! magic and version, so a damaged, truncated or foreign entry is ignored and
//! rebuilt, never trusted. Entries are written to a temporary name and renamed, so a
//! reader never sees half an entry.
//!
//! The folder is `GEOXR_CACHE_DIR` when set (an empty value turns the cache off),
//! else `$XDG_CACHE_HOME/geoxr/index`, else `~/.cache/geoxr/index`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chunks::{ChunkMap, Filter, StoredChunk};
use super::files::Identity;
use super::read::{FileMeta, UnreadMeta, VarMeta};
use crate::model::{with_array, with_storage_type, ArrayData, AttrValue, Attrs, DType};
use ndarray::{ArrayD, IxDyn};

// Version 4: the variables not read, enum members, and axes without dimension scales
// named `phony_dim_N` as libnetcdf names them.
const MAGIC: &[u8; 8] = b"GEOXRIX4";

/// Coordinate values larger than this are read from the file, not kept in the index.
const MAX_VALUES_BYTES: usize = 1 << 20;

/// The cache folder, or `None` when caching is off.
pub(crate) fn folder() -> Option<PathBuf> {
    if cfg!(test) {
        // The crate's own tests never touch the user's cache.
        let dir = format!("geoxr-index-test-{}", std::process::id());
        return Some(std::env::temp_dir().join(dir));
    }
    if let Some(dir) = std::env::var_os("GEOXR_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("geoxr").join("index"))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The entry's file for a path and group. The key is the absolute path as spelt (no
/// symbolic links resolved, which would cost system calls): two spellings of one file
/// only make two entries, each checked against the file's identity.
fn entry_path(dir: &Path, path: &Path, group: Option<&str>) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut key = absolute.as_os_str().as_encoded_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(group.unwrap_or("").as_bytes());
    Some(dir.join(format!("{:016x}.gxi", fnv(&key))))
}

/// The metadata recorded for this file, when there is a sound entry for it as it is.
pub(crate) fn load(path: &Path, identity: &Identity, group: Option<&str>) -> Option<FileMeta> {
    let dir = folder()?;
    let bytes = std::fs::read(entry_path(&dir, path, group)?).ok()?;
    decode(&bytes, path, identity, group)
}

/// Records the metadata of a file; failures only cost the next open its speed.
pub(crate) fn store(path: &Path, identity: &Identity, group: Option<&str>, meta: &FileMeta) {
    let Some(dir) = folder() else { return };
    let Some(target) = entry_path(&dir, path, group) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let bytes = encode(path, identity, group, meta);
    let temp = target.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&temp, &bytes).is_ok() && std::fs::rename(&temp, &target).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
}

fn encode(path: &Path, id: &Identity, group: Option<&str>, meta: &FileMeta) -> Vec<u8> {
    let mut w = Writer(MAGIC.to_vec());
    w.bytes(path.as_os_str().as_encoded_bytes());
    w.u64(id.size);
    w.0.extend_from_slice(&id.mtime_ns.to_le_bytes());
    w.u64(id.dev);
    w.u64(id.inode);
    w.str(group.unwrap_or(""));
    w.u64(meta.unlimited.len() as u64);
    for u in &meta.unlimited {
        w.str(u);
    }
    w.attrs(&meta.attrs);
    w.u64(meta.vars.len() as u64);
    for v in &meta.vars {
        w.str(&v.name);
        w.str(&v.path);
        w.u64(v.dims.len() as u64);
        for (d, n) in v.dims.iter().zip(&v.shape) {
            w.str(d);
            w.u64(*n as u64);
        }
        w.u8(u8::from(v.unlimited));
        w.u8(dtype_code(v.raw));
        w.attrs(&v.attrs);
        match &v.chunks {
            None => w.u8(0),
            Some(m) => {
                w.u8(1);
                w.u64(m.elem_size as u64);
                w.u8(u8::from(m.big_endian));
                w.u64(m.chunk.len() as u64);
                for c in &m.chunk {
                    w.u64(*c as u64);
                }
                w.u64(m.filters.len() as u64);
                for f in &m.filters {
                    w.u8(match f {
                        Filter::Shuffle => 1,
                        Filter::Deflate => 2,
                        Filter::Fletcher32 => 3,
                    });
                }
                w.u64(m.chunks.len() as u64);
                for c in &m.chunks {
                    for s in &c.start {
                        w.u64(*s as u64);
                    }
                    w.u64(c.address);
                    w.u64(c.size);
                }
            }
        }
        w.values(v.values.as_deref());
        w.strs(&v.enum_members);
    }
    w.u64(meta.unread.len() as u64);
    for u in &meta.unread {
        w.str(&u.name);
        w.strs(&u.dims);
        w.str(&u.kind);
    }
    let sum = fnv(&w.0);
    w.u64(sum);
    w.0
}

fn decode(bytes: &[u8], path: &Path, id: &Identity, group: Option<&str>) -> Option<FileMeta> {
    let body = bytes.len().checked_sub(8)?;
    let (payload, sum) = bytes.split_at(body);
    if !payload.starts_with(MAGIC) || fnv(payload).to_le_bytes() != sum {
        return None;
    }
    let mut r = Reader(&payload[MAGIC.len()..]);
    if r.bytes()? != path.as_os_str().as_encoded_bytes() {
        return None;
    }
    let size = r.u64()?;
    let mtime_ns = i128::from_le_bytes(r.take(16)?.try_into().ok()?);
    let recorded = Identity {
        size,
        mtime_ns,
        dev: r.u64()?,
        inode: r.u64()?,
    };
    if recorded != *id || r.str()? != group.unwrap_or("") {
        return None;
    }
    let unlimited = (0..r.count()?)
        .map(|_| r.str())
        .collect::<Option<Vec<_>>>()?;
    let attrs = r.attrs()?;
    let n_vars = r.count()?;
    let mut vars = Vec::new();
    for _ in 0..n_vars {
        let name = r.str()?;
        let var_path = r.str()?;
        let rank = r.count()?;
        let (mut dims, mut shape) = (Vec::new(), Vec::new());
        for _ in 0..rank {
            dims.push(r.str()?);
            shape.push(usize::try_from(r.u64()?).ok()?);
        }
        let unlimited = r.u8()? == 1;
        let raw = dtype_from(r.u8()?)?;
        let var_attrs = r.attrs()?;
        let chunks = match r.u8()? {
            0 => None,
            1 => {
                let elem_size = usize::try_from(r.u64()?).ok()?;
                let big_endian = r.u8()? == 1;
                let chunk = (0..r.count()?)
                    .map(|_| r.u64().and_then(|c| usize::try_from(c).ok()))
                    .collect::<Option<Vec<_>>>()?;
                let filters = (0..r.count()?)
                    .map(|_| match r.u8()? {
                        1 => Some(Filter::Shuffle),
                        2 => Some(Filter::Deflate),
                        3 => Some(Filter::Fletcher32),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                let n = r.count()?;
                let mut stored = Vec::new();
                for _ in 0..n {
                    let start = (0..shape.len())
                        .map(|_| r.u64().and_then(|s| usize::try_from(s).ok()))
                        .collect::<Option<Vec<_>>>()?;
                    stored.push(StoredChunk {
                        start,
                        address: r.u64()?,
                        size: r.u64()?,
                    });
                }
                let expected: usize = shape
                    .iter()
                    .zip(&chunk)
                    .map(|(s, c)| s.div_ceil((*c).max(1)))
                    .product();
                let mut starts: Vec<&Vec<usize>> = stored.iter().map(|c| &c.start).collect();
                starts.sort();
                starts.dedup();
                // Every chunk once: a missing one would read as zeros.
                let sound = elem_size == raw.size()
                    && chunk.len() == shape.len()
                    && !chunk.contains(&0)
                    && starts.len() == expected
                    && stored.len() == expected
                    && stored.iter().all(|c| {
                        c.start
                            .iter()
                            .zip(&chunk)
                            .zip(&shape)
                            .all(|((s, k), n)| s % k == 0 && s < n)
                    });
                if !sound {
                    return None;
                }
                Some(Arc::new(ChunkMap {
                    elem_size,
                    big_endian,
                    shape: shape.clone(),
                    chunk,
                    filters,
                    chunks: stored,
                }))
            }
            _ => return None,
        };
        let values = match r.u8()? {
            0 => None,
            _ => Some(Arc::new(r.values(raw, &shape)?)),
        };
        vars.push(VarMeta {
            name,
            path: var_path,
            dims,
            shape,
            unlimited,
            raw,
            attrs: var_attrs,
            chunks,
            values,
            enum_members: r.strs()?,
        });
    }
    let mut unread = Vec::new();
    for _ in 0..r.count()? {
        unread.push(UnreadMeta {
            name: r.str()?,
            dims: r.strs()?,
            kind: r.str()?,
        });
    }
    r.0.is_empty().then_some(FileMeta {
        unlimited,
        attrs,
        vars,
        unread,
    })
}

fn dtype_code(d: DType) -> u8 {
    match d {
        DType::I8 => 1,
        DType::U8 => 2,
        DType::I16 => 3,
        DType::U16 => 4,
        DType::I32 => 5,
        DType::U32 => 6,
        DType::I64 => 7,
        DType::U64 => 8,
        DType::F32 => 9,
        DType::F64 => 10,
        DType::Time(_) => 0,
    }
}

fn dtype_from(code: u8) -> Option<DType> {
    Some(match code {
        1 => DType::I8,
        2 => DType::U8,
        3 => DType::I16,
        4 => DType::U16,
        5 => DType::I32,
        6 => DType::U32,
        7 => DType::I64,
        8 => DType::U64,
        9 => DType::F32,
        10 => DType::F64,
        _ => return None,
    })
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn strs(&mut self, list: &[String]) {
        self.u64(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }
    /// A coordinate's stored values (1-D, a storage type, not too large), or a 0.
    fn values(&mut self, values: Option<&ArrayData>) {
        let Some(v) = values.filter(|v| {
            v.shape().len() == 1
                && dtype_code(v.dtype()) != 0
                && v.shape()[0].saturating_mul(v.dtype().size()) <= MAX_VALUES_BYTES
        }) else {
            return self.u8(0);
        };
        self.u8(1);
        self.u64(v.shape()[0] as u64);
        with_array!(v, a => {
            for x in a.iter() {
                self.0.extend_from_slice(&x.to_le_bytes());
            }
        });
    }
    fn attrs(&mut self, attrs: &Attrs) {
        self.u64(attrs.len() as u64);
        for (name, value) in attrs.iter() {
            self.str(name);
            macro_rules! numbers {
                ($code:expr, $v:expr) => {{
                    self.u8($code);
                    self.u64($v.len() as u64);
                    for x in $v {
                        self.0.extend_from_slice(&x.to_le_bytes());
                    }
                }};
            }
            match value {
                AttrValue::Text(s) => {
                    self.u8(0);
                    self.str(s);
                }
                AttrValue::Texts(v) => {
                    self.u8(1);
                    self.u64(v.len() as u64);
                    for s in v {
                        self.str(s);
                    }
                }
                AttrValue::I8(v) => numbers!(2, v),
                AttrValue::U8(v) => numbers!(3, v),
                AttrValue::I16(v) => numbers!(4, v),
                AttrValue::U16(v) => numbers!(5, v),
                AttrValue::I32(v) => numbers!(6, v),
                AttrValue::U32(v) => numbers!(7, v),
                AttrValue::I64(v) => numbers!(8, v),
                AttrValue::U64(v) => numbers!(9, v),
                AttrValue::F32(v) => numbers!(10, v),
                AttrValue::F64(v) => numbers!(11, v),
            }
        }
    }
}

/// Reads what `Writer` wrote; every length is checked against the bytes left, so a
/// damaged entry cannot make it allocate more than the entry's size.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// A count of items that each take at least one byte.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.0.len()).then_some(n)
    }
    fn bytes(&mut self) -> Option<&[u8]> {
        let n = self.count()?;
        self.take(n)
    }
    fn str(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        (0..self.count()?).map(|_| self.str()).collect()
    }
    /// Stored values of type `raw` and shape `shape` (1-D), as `Writer::values` wrote.
    fn values(&mut self, raw: DType, shape: &[usize]) -> Option<ArrayData> {
        let n = self.count()?;
        if shape != [n] {
            return None;
        }
        let bytes = self.take(n.checked_mul(raw.size())?)?;
        Some(with_storage_type!(raw, T => {
            const N: usize = std::mem::size_of::<T>();
            let v: Vec<T> = bytes
                .chunks_exact(N)
                .map(|b| T::from_le_bytes(b.try_into().unwrap_or([0; N])))
                .collect();
            ArrayData::from(ArrayD::from_shape_vec(IxDyn(shape), v).ok()?)
        }, time => return None))
    }
    fn attrs(&mut self) -> Option<Attrs> {
        let mut attrs = Attrs::default();
        for _ in 0..self.count()? {
            let name = self.str()?;
            macro_rules! numbers {
                ($t:ty, $variant:ident) => {{
                    const N: usize = std::mem::size_of::<$t>();
                    let n = self.count()?;
                    let raw = self.take(n.checked_mul(N)?)?;
                    AttrValue::$variant(
                        raw.chunks_exact(N)
                            .map(|b| <$t>::from_le_bytes(b.try_into().unwrap_or([0; N])))
                            .collect(),
                    )
                }};
            }
            let value = match self.u8()? {
                0 => AttrValue::Text(self.str()?),
                1 => AttrValue::Texts(
                    (0..self.count()?)
                        .map(|_| self.str())
                        .collect::<Option<_>>()?,
                ),
                2 => numbers!(i8, I8),
                3 => numbers!(u8, U8),
                4 => numbers!(i16, I16),
                5 => numbers!(u16, U16),
                6 => numbers!(i32, I32),
                7 => numbers!(u32, U32),
                8 => numbers!(i64, I64),
                9 => numbers!(u64, U64),
                10 => numbers!(f32, F32),
                11 => numbers!(f64, F64),
                _ => return None,
            };
            attrs.set(&name, value);
        }
        Some(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, OpenOptions};

    fn write(path: &Path, offset: f32) {
        let mut f = netcdf::create(path).unwrap();
        f.add_unlimited_dimension("time").unwrap();
        f.add_dimension("x", 40).unwrap();
        f.add_attribute("title", "index test").unwrap();
        let mut t = f.add_variable::<i32>("time", &["time"]).unwrap();
        t.put_attribute("units", "days since 2018-02-01").unwrap();
        t.put_values(&[0, 1], ..).unwrap();
        let mut x = f.add_variable::<f32>("x", &["x"]).unwrap();
        x.put_values(&(0..40).map(|i| i as f32).collect::<Vec<_>>(), ..)
            .unwrap();
        let mut v = f.add_variable::<f32>("rain", &["time", "x"]).unwrap();
        v.set_chunking(&[1, 16]).unwrap();
        v.set_compression(4, true).unwrap();
        v.set_fill_value(-1.0f32).unwrap();
        let values: Vec<f32> = (0..80).map(|i| i as f32 * 0.5 + offset).collect();
        v.put_values(&values, ..).unwrap();
        f.close().unwrap();
    }

    fn rain(path: &Path) -> Vec<f64> {
        let ds = crate::open_dataset(path).unwrap().load().unwrap();
        ds.get("rain").values().unwrap().to_f64_vec()
    }

    #[test]
    fn a_reopen_reads_the_index_not_the_headers_and_a_changed_file_is_reread() {
        let dir = std::env::temp_dir().join(format!("geoxr-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("day.nc");
        write(&path, 0.0);
        let first = rain(&path);
        let id = Identity::of(&path).unwrap();
        let meta = load(&path, &id, None).expect("the first open wrote an entry");
        let mapped = meta.vars.iter().find(|v| v.name == "rain").unwrap();
        assert_eq!(mapped.chunks.as_ref().map(|m| m.chunks.len()), Some(6));
        let x = meta.vars.iter().find(|v| v.name == "x").unwrap();
        let xs: Vec<f64> = (0..40).map(f64::from).collect();
        assert_eq!(x.values.as_ref().map(|v| v.to_f64_vec()), Some(xs.clone()));
        let x_bytes = x.chunks.as_ref().expect("x is contiguous").chunks[0].clone();

        // Scribble over the HDF5 superblock and the coordinate's bytes but keep size
        // and mtime: the reopen reads the entry and the data chunks, and no header
        // and no coordinate.
        let mut bytes = std::fs::read(&path).unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        bytes[8..40].fill(0xff);
        let at = x_bytes.address as usize;
        bytes[at..at + x_bytes.size as usize].fill(0xff);
        std::fs::write(&path, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(Identity::of(&path).unwrap(), id);
        assert_eq!(rain(&path), first);
        let reopened = crate::open_dataset(&path).unwrap();
        let x = reopened.coords().iter().find(|(n, _)| n == "x").unwrap();
        assert_eq!(x.1.values().unwrap().to_f64_vec(), xs);
        let err = OpenOptions::new()
            .engine(Engine::Libnetcdf)
            .open_dataset(&path);
        assert!(
            err.is_err(),
            "libnetcdf reads the headers, which are now damaged"
        );

        // Rewritten: the entry no longer matches, the new values are read.
        write(&path, 100.0);
        let second = rain(&path);
        assert_eq!(second[0], 100.0);
        assert_eq!(
            second[1..],
            first[1..].iter().map(|v| v + 100.0).collect::<Vec<_>>()[..]
        );

        // A damaged or foreign entry is ignored and rebuilt.
        let entry = entry_path(&folder().unwrap(), &path, None).unwrap();
        let mut stored = std::fs::read(&entry).unwrap();
        let middle = stored.len() / 2;
        stored[middle] ^= 0x40;
        std::fs::write(&entry, &stored).unwrap();
        assert!(load(&path, &Identity::of(&path).unwrap(), None).is_none());
        assert_eq!(rain(&path), second);
        assert!(
            load(&path, &Identity::of(&path).unwrap(), None).is_some(),
            "rebuilt"
        );
        std::fs::write(&entry, b"GEOXRIX1 but not an entry at all").unwrap();
        assert_eq!(rain(&path), second);
        std::fs::write(&entry, b"").unwrap();
        assert_eq!(rain(&path), second);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn entries_round_trip_every_attribute_type() {
        let mut attrs = Attrs::default();
        attrs.set("t", AttrValue::Text("mm".into()));
        attrs.set("ts", AttrValue::Texts(vec!["a".into(), "b".into()]));
        attrs.set("i8", AttrValue::I8(vec![-1, 2]));
        attrs.set("u8", AttrValue::U8(vec![255]));
        attrs.set("i16", AttrValue::I16(vec![-300]));
        attrs.set("u16", AttrValue::U16(vec![60000]));
        attrs.set("i32", AttrValue::I32(vec![-70000]));
        attrs.set("u32", AttrValue::U32(vec![4_000_000_000]));
        attrs.set("i64", AttrValue::I64(vec![i64::MIN]));
        attrs.set("u64", AttrValue::U64(vec![u64::MAX]));
        attrs.set("f32", AttrValue::F32(vec![-9999.9]));
        attrs.set("f64", AttrValue::F64(vec![f64::NAN, 0.1]));
        let meta = FileMeta {
            unlimited: vec!["time".into()],
            attrs: attrs.clone(),
            vars: vec![
                VarMeta {
                    name: "v".into(),
                    path: "g/v".into(),
                    dims: vec!["time".into(), "x".into()],
                    shape: vec![3, 4],
                    unlimited: true,
                    raw: DType::I16,
                    attrs,
                    chunks: Some(Arc::new(ChunkMap {
                        elem_size: 2,
                        big_endian: true,
                        shape: vec![3, 4],
                        chunk: vec![2, 4],
                        filters: vec![Filter::Shuffle, Filter::Deflate, Filter::Fletcher32],
                        chunks: vec![
                            StoredChunk {
                                start: vec![0, 0],
                                address: 100,
                                size: 7,
                            },
                            StoredChunk {
                                start: vec![2, 0],
                                address: 107,
                                size: 9,
                            },
                        ],
                    })),
                    values: None,
                    enum_members: vec!["clear=0".into(), "cloudy=1".into()],
                },
                VarMeta {
                    name: "x".into(),
                    path: "g/x".into(),
                    dims: vec!["x".into()],
                    shape: vec![4],
                    unlimited: false,
                    raw: DType::F32,
                    attrs: Attrs::default(),
                    chunks: None,
                    values: Some(Arc::new(ArrayData::F32(
                        ArrayD::from_shape_vec(IxDyn(&[4]), vec![-84.95, -84.85, f32::NAN, 1e30])
                            .unwrap(),
                    ))),
                    enum_members: Vec::new(),
                },
            ],
            unread: vec![UnreadMeta {
                name: "station".into(),
                dims: vec!["x".into()],
                kind: "string".into(),
            }],
        };
        let id = Identity {
            size: 1,
            mtime_ns: -5,
            dev: 2,
            inode: 3,
        };
        let path = Path::new("/data/a.nc");
        let bytes = encode(path, &id, Some("g"), &meta);
        let back = decode(&bytes, path, &id, Some("g")).unwrap();
        let (a, b) = (&back.vars[0], &meta.vars[0]);
        assert_eq!(
            (&a.name, &a.path, &a.dims, &a.shape),
            (&b.name, &b.path, &b.dims, &b.shape)
        );
        assert_eq!(a.chunks, b.chunks);
        assert_eq!(a.enum_members, b.enum_members);
        assert_eq!(back.unread, meta.unread);
        let bits = |v: &VarMeta| {
            v.values.as_ref().map(|a| {
                a.to_f64_vec()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            bits(&back.vars[1]),
            bits(&meta.vars[1]),
            "coordinate values"
        );
        assert_eq!(back.vars[0].values, None);
        assert_eq!(format!("{:?}", back.attrs), format!("{:?}", meta.attrs));
        let other = Identity { size: 2, ..id };
        assert!(
            decode(&bytes, path, &other, Some("g")).is_none(),
            "another file"
        );
        assert!(decode(&bytes, path, &id, None).is_none(), "another group");
        for cut in [0, 8, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                decode(&bytes[..cut], path, &id, Some("g")).is_none(),
                "cut at {cut}"
            );
        }
    }
}
