//! The plan of an array as data: where its values come from (file variables with
//! the file's identity, arrays in memory) and what is done to them (parts, chunk
//! operations, joins, reductions), as a table of nodes that can be shown, checked,
//! written as JSON and read back, possibly in another process.
//!
//! The live chunk sources execute a plan; a plan read from JSON is turned back into
//! them. Its outermost step splits into independent *pieces* (the blocks of a
//! reduction, or the chunks of a load) whose partial results merge left to right in
//! one fixed order, so running the pieces in one process or spread over many gives
//! the same bits.
//!
//! ```
//! use geoxr::{ArrayData, DataArray, Plan, Variable};
//! use geoxr::ndarray::ArrayD;
//! let v = Variable::new(["time"], ArrayData::from(ArrayD::<f32>::ones(vec![20])))?;
//! let mean = DataArray::new(Some("x"), v, vec![])?.chunk("time", 5).mean("time");
//! let plan = mean.plan();
//! assert_eq!(plan.pieces(), 3); // blocks of 8 positions
//! let parts = [plan.run_pieces(0..1)?, plan.run_pieces(1..3)?];
//! let again = Plan::from_json(&plan.to_json()?)?;
//! assert_eq!(again.finish(&parts)?.values(), mean.load()?.values());
//! # Ok::<(), geoxr::Error>(())
//! ```

mod json;
mod show;
mod wire;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use super::engine;
use super::ops::ChunkOp;
use super::rechunk::Joined;
use super::reduce::{ReduceAlongChunks, Reduction};
use super::sources::{Mapped, MemoryChunk, PartOf};
use crate::error::{Error, Result};
use crate::io::source::{file_ref, reopen, FilePools, FileRef};
use crate::model::{
    ArrayData, Attrs, Chunk, ChunkSource, ChunkedArray, DType, Data, DataArray, Variable,
};

/// In-memory values larger than this are not shipped inside a plan.
const MAX_SHIPPED_BYTES: u64 = 64 << 20;

/// The computation behind an array, as data (see the module notes). `Display` shows
/// one line per step: operation, shape, element type, chunks, and files as a range.
#[derive(Clone, Debug)]
pub struct Plan {
    graph: Graph,
    /// The live form that runs it.
    array: DataArray,
}

/// The files that plans read from JSON open, kept open from one plan to the next
/// while this value lives (clones share them); see [`Plan::from_json_keeping`]. A
/// file is used again only while its identity (size, modification time, inode) is
/// the one the plan recorded, and every read checks it.
#[derive(Clone, Debug, Default)]
pub struct OpenFiles(Arc<FilePools>);

impl OpenFiles {
    /// How many file variables are kept open.
    pub fn len(&self) -> usize {
        self.0.kept_count()
    }

    /// Whether no file is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The data form of a plan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Graph {
    pub name: Option<String>,
    pub var: VarPlan,
    pub coords: Vec<(String, VarPlan)>,
    pub multi_index: Vec<(String, Vec<String>)>,
    /// Every node after the nodes it reads from.
    pub nodes: Vec<NodeInfo>,
}

/// A variable: dimensions, attributes and encoding, and its values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VarPlan {
    pub dims: Vec<String>,
    pub attrs: Attrs,
    pub encoding: Attrs,
    pub data: VarData,
}

/// Values in memory (a `Memory` node) or lazy.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum VarData {
    Memory(usize),
    Lazy(LazyPlan),
}

/// A lazy array: chunks (length along `axis`, node) in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LazyPlan {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub axis: usize,
    pub chunks: Vec<(usize, usize)>,
}

/// A node with the element type and shape of what it makes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NodeInfo {
    pub node: Node,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

/// One step of a plan; inputs are indices of earlier nodes.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A whole variable of a file, decoded.
    File(FileRef),
    /// Values in memory.
    Memory(Arc<ArrayData>),
    /// Positions `range` of another node along `axis`.
    Part {
        of: usize,
        axis: usize,
        range: Range<usize>,
    },
    /// An operation on another node's values.
    Map { of: usize, op: ChunkOp },
    /// Nodes joined along `axis`.
    Join { of: Vec<usize>, axis: usize },
    /// A reduction along the chunked axis of a lazy array.
    Reduce { of: LazyPlan, op: Reduction },
    /// A source with no data form (one made outside geoxr), by its description.
    Opaque(String),
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        // Ops compare by their JSON form (which holds all they are).
        json::node_value(self) == json::node_value(other)
    }
}

impl DataArray {
    /// The plan behind the array's values, for display (always works; an array in
    /// memory is a plan with one in-memory source). See [`Plan`].
    pub fn plan(&self) -> Plan {
        Plan {
            graph: Walker::default().graph(self),
            array: self.clone(),
        }
    }
}

impl Plan {
    /// Whether the plan can leave the process: an error naming the first step that
    /// cannot (a source made outside geoxr, or values in memory larger than 64 MiB).
    pub fn shippable(&self) -> Result<()> {
        self.array.check()?;
        for (i, n) in self.graph.nodes.iter().enumerate() {
            let refuse = |why: String| Error::invalid(format!("step {i} of the plan"), why);
            match &n.node {
                Node::Opaque(what) => {
                    return Err(refuse(format!(
                        "`{what}` is a chunk source without a data form; load or persist \
                         it first"
                    )))
                }
                Node::Memory(a) => {
                    let bytes = crate::base::bytes::of_shape(a.shape(), a.dtype().size());
                    if bytes > MAX_SHIPPED_BYTES {
                        return Err(refuse(format!(
                            "it holds {} in memory, more than the {} a plan may carry; \
                             write it to a file and open that",
                            crate::base::bytes::human(bytes),
                            crate::base::bytes::human(MAX_SHIPPED_BYTES)
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The plan as JSON (`{"geoxr-plan": 1, ...}`), when it is [`Plan::shippable`].
    pub fn to_json(&self) -> Result<String> {
        self.shippable()?;
        Ok(json::write(&self.graph))
    }

    /// A plan read from JSON. The text is not trusted: every size, index and shape is
    /// checked, and an error says what is wrong; files are looked at only when run.
    pub fn from_json(text: &str) -> Result<Plan> {
        Plan::from_json_keeping(text, &OpenFiles::default())
    }

    /// [`Plan::from_json`], reading its files through `files`, which keeps them open
    /// for the next plan (what a rank of an MPI pool does between loads).
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Plan, Variable};
    /// use geoxr::compute::plan::OpenFiles;
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["time"], ArrayData::from(ArrayD::<f32>::ones(vec![6])))?;
    /// let text = DataArray::new(Some("x"), v, vec![])?.mean("time").plan().to_json()?;
    /// let files = OpenFiles::default();
    /// let plan = Plan::from_json_keeping(&text, &files)?;
    /// let mean = plan.finish(&[plan.run_pieces(0..plan.pieces())?])?;
    /// assert_eq!(mean.values().map(|v| v.to_f64_vec()), Some(vec![1.0]));
    /// assert_eq!(files.len(), 0); // values in memory open no file
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn from_json_keeping(text: &str, files: &OpenFiles) -> Result<Plan> {
        let graph = json::read(text)?;
        graph.check()?;
        let array = graph.build(&files.0)?;
        Ok(Plan { graph, array })
    }

    /// The number of independent pieces of the outermost step, in merge order: the
    /// blocks of a reduction along chunks, otherwise the chunks of the array.
    pub fn pieces(&self) -> usize {
        match self.outer() {
            Outer::Reduce(r) => r.blocks(),
            Outer::Chunks(lazy) => lazy.chunks().len(),
            Outer::Memory(_) => 1,
        }
    }

    /// Runs pieces `range` here (on the current pool, within the current memory
    /// budget) and returns their results, each piece's separately, encoded (a small
    /// self-checking binary format that [`Plan::finish`] reads).
    pub fn run_pieces(&self, range: Range<usize>) -> Result<Vec<u8>> {
        let n = self.pieces();
        if range.start > range.end || range.end > n {
            return Err(Error::invalid(
                format!("pieces {range:?}"),
                format!("the plan has pieces 0..{n}"),
            ));
        }
        let mut out = wire::Writer::new(self.kind(), range.start, range.len());
        match self.outer() {
            Outer::Reduce(r) => r.run_blocks(range, &mut |p| {
                out.piece(|buf| p.encode(buf));
                Ok(())
            })?,
            Outer::Chunks(lazy) => {
                let chunks = &lazy.chunks()[range];
                let bytes: u64 = chunks
                    .iter()
                    .map(|c| chunk_bytes(lazy, c.len))
                    .fold(0, u64::saturating_add);
                let _held = engine::reserve("running pieces of a plan", bytes)?;
                let values = chunks
                    .par_iter()
                    .map(|c| engine::nested(|| c.source.read()))
                    .collect::<Result<Vec<_>>>()?;
                for v in values {
                    out.piece(|buf| wire::encode_array(&v, buf));
                }
            }
            Outer::Memory(a) => {
                for _ in range {
                    out.piece(|buf| wire::encode_array(a, buf));
                }
            }
        }
        Ok(out.finish())
    }

    /// What a progress line of the whole plan counts: the reduction's name and the
    /// positions it folds (as its pieces tick them), for a reduction.
    pub(crate) fn progress_total(&self) -> Option<(&'static str, usize)> {
        match self.outer() {
            Outer::Reduce(r) => {
                let input = &r.input;
                Some((
                    r.op.name(),
                    input.shape().get(input.axis()).copied().unwrap_or(1),
                ))
            }
            _ => None,
        }
    }

    /// Whether the pieces' results merge onto a running total (a reduction's
    /// partials), so that shares run one after another can hand on one partial
    /// instead of one per piece (see [`Share::onto`]).
    pub fn merges(&self) -> bool {
        matches!(self.outer(), Outer::Reduce(_))
    }

    /// Runs pieces `range` here (on the current pool, within the current memory
    /// budget) and keeps their results for [`Share::onto`]. A reduction's share that
    /// starts at piece 0 merges its partials as they come; a later share keeps them
    /// (their memory reserved) until the running total of the pieces before it is
    /// known, since only merging left to right from piece 0 gives the bits of an
    /// in-process run.
    ///
    /// ```
    /// use geoxr::{ArrayData, DataArray, Variable};
    /// use geoxr::ndarray::ArrayD;
    /// let v = Variable::new(["time"], ArrayData::from(ArrayD::<f64>::from_shape_fn(vec![40], |i| i[0] as f64)))?;
    /// let std = DataArray::new(Some("x"), v, vec![])?.chunk("time", 3).std("time");
    /// let plan = std.plan();
    /// let first = plan.run_share(0..2)?.onto(None)?;    // one rank's running total...
    /// let all = plan.run_share(2..5)?.onto(Some(&first))?; // ...merged onto by the next
    /// assert_eq!(plan.finish(&[all])?.values(), std.load()?.values());
    /// # Ok::<(), geoxr::Error>(())
    /// ```
    pub fn run_share(&self, range: Range<usize>) -> Result<Share> {
        let Outer::Reduce(r) = self.outer() else {
            return Ok(Share {
                range: range.clone(),
                held: Held::Message(self.run_pieces(range)?),
            });
        };
        let n = self.pieces();
        if range.start > range.end || range.end > n {
            return Err(Error::invalid(
                format!("pieces {range:?}"),
                format!("the plan has pieces 0..{n}"),
            ));
        }
        let (cells, op) = (r.cells(), r.op);
        let one = super::reduce::Partial::bytes(cells, op);
        let held = if range.start == 0 {
            let _total = engine::reserve("the running total of a reduction", one)?;
            let mut total = super::reduce::Partial::new(cells, op);
            r.run_blocks(range.clone(), &mut |p| {
                total.merge(&p);
                Ok(())
            })?;
            Held::Total { cells, op, total }
        } else {
            let reserved = engine::reserve(
                &format!(
                    "holding the {} partials of pieces {range:?} until the running total \
                     of the pieces before them comes",
                    op.name()
                ),
                one.saturating_mul(range.len() as u64),
            )?;
            let mut partials = Vec::with_capacity(range.len());
            r.run_blocks(range.clone(), &mut |p| {
                partials.push(p);
                Ok(())
            })?;
            Held::Partials {
                cells,
                op,
                partials,
                _reserved: reserved,
            }
        };
        Ok(Share { range, held })
    }

    /// The result from the encoded results of consecutive ranges of pieces that
    /// together cover them all, in order: the pieces are merged left to right (as an
    /// in-process `load` merges them), and the result has the array's labels. A
    /// reduction's results may start with a running total ([`Share::onto`]) that
    /// stands for the pieces it covers.
    pub fn finish(&self, parts: &[Vec<u8>]) -> Result<DataArray> {
        let n = self.pieces();
        let mut start = None;
        let mut covered = 0;
        let mut payloads = Vec::with_capacity(n.min(1 << 16));
        for (i, part) in parts.iter().enumerate() {
            if i == 0 && wire::is_total(part) {
                if let Outer::Reduce(r) = self.outer() {
                    let (count, total) = wire::read_total(part, n)?;
                    start = Some(super::reduce::Partial::decode(total, r.cells(), r.op)?);
                    covered = count;
                    continue;
                }
            }
            let r = wire::read(part, self.kind(), covered + payloads.len(), n)?;
            payloads.extend(r);
        }
        if covered + payloads.len() != n {
            return Err(Error::invalid(
                "the results of a plan",
                format!(
                    "they cover pieces 0..{} of 0..{n}",
                    covered + payloads.len()
                ),
            ));
        }
        let values = match self.outer() {
            Outer::Reduce(r) => {
                let cells = r.cells();
                r.merge(
                    start,
                    payloads
                        .iter()
                        .map(|p| super::reduce::Partial::decode(p, cells, r.op)),
                )?
            }
            Outer::Chunks(lazy) => {
                let arrays = payloads
                    .iter()
                    .zip(lazy.chunks())
                    .map(|(p, c)| {
                        let shape = chunk_shape(lazy.shape(), lazy.axis(), c.len);
                        wire::decode_array(p, lazy.dtype(), &shape)
                    })
                    .collect::<Result<Vec<_>>>()?;
                match arrays.as_slice() {
                    [only] => only.clone(),
                    many => {
                        let refs: Vec<&ArrayData> = many.iter().collect();
                        ArrayData::concat(&refs, lazy.axis())?
                    }
                }
            }
            Outer::Memory(a) => {
                let only = payloads.first().copied().unwrap_or_default();
                wire::decode_array(only, a.dtype(), a.shape())?
            }
        };
        let variable = self.array.variable().with_data(values)?;
        Ok(self.array.with_variable(variable))
    }

    /// The array the plan computes (lazy, as it was planned).
    pub fn array(&self) -> &DataArray {
        &self.array
    }

    fn kind(&self) -> wire::Kind {
        match self.outer() {
            Outer::Reduce(_) => wire::Kind::Partials,
            _ => wire::Kind::Arrays,
        }
    }

    fn outer(&self) -> Outer<'_> {
        match self.array.data() {
            Data::InMemory(a) => Outer::Memory(a),
            Data::Lazy(lazy) => match lazy.chunks() {
                [only] => match only
                    .source
                    .as_any()
                    .and_then(|a| a.downcast_ref::<ReduceAlongChunks>())
                {
                    Some(r) => Outer::Reduce(r),
                    None => Outer::Chunks(lazy),
                },
                _ => Outer::Chunks(lazy),
            },
        }
    }
}

/// The results of a run share of a plan's pieces (see [`Plan::run_share`]).
pub struct Share {
    range: Range<usize>,
    held: Held,
}

enum Held {
    /// Arrays (or single pieces), encoded as [`Plan::run_pieces`] does.
    Message(Vec<u8>),
    /// A share from piece 0, merged.
    Total {
        cells: usize,
        op: Reduction,
        total: super::reduce::Partial,
    },
    /// A later share's partials, in order.
    Partials {
        cells: usize,
        op: Reduction,
        partials: Vec<super::reduce::Partial>,
        _reserved: engine::Reservation,
    },
}

impl Share {
    /// The pieces it ran.
    pub fn pieces(&self) -> Range<usize> {
        self.range.clone()
    }

    /// The share's results, encoded for [`Plan::finish`]. For a reduction, a running
    /// total of pieces `0..end`: the share's partials merged, in order, onto
    /// `before`, the running total of the pieces before it (`None` for a share from
    /// piece 0). Otherwise the pieces' results as they are (`before` must be `None`).
    pub fn onto(self, before: Option<&[u8]>) -> Result<Vec<u8>> {
        let end = self.range.end;
        let mistaken =
            |why: &str| Error::invalid(format!("the share of pieces {:?}", self.range), why);
        let (total, cells, op) = match self.held {
            Held::Message(m) if before.is_none() => return Ok(m),
            Held::Message(_) => return Err(mistaken("its results do not merge onto others")),
            Held::Total { cells, op, total } => {
                // Only the total of no pieces may come before a share from piece 0.
                if let Some(before) = before {
                    if wire::read_total(before, end)?.0 != 0 {
                        return Err(mistaken("it starts at piece 0, with nothing before it"));
                    }
                }
                (total, cells, op)
            }
            Held::Partials {
                cells,
                op,
                partials,
                _reserved,
            } => {
                let before =
                    before.ok_or_else(|| mistaken("the running total before it is missing"))?;
                let (count, bytes) = wire::read_total(before, end)?;
                if count != self.range.start {
                    return Err(mistaken(&format!(
                        "the running total before it covers pieces 0..{count}"
                    )));
                }
                let mut total = super::reduce::Partial::decode(bytes, cells, op)?;
                for p in &partials {
                    total.merge(p);
                }
                (total, cells, op)
            }
        };
        let mut out = wire::Writer::new(wire::Kind::Total, 0, end);
        out.piece(|buf| {
            buf.reserve(super::reduce::Partial::bytes(cells, op) as usize);
            total.encode(buf)
        });
        Ok(out.finish())
    }
}

impl super::Client {
    /// Runs pieces `range` of `plan` on this client's pool, within its memory limit
    /// (what a worker process does with its share of a plan).
    pub fn run_pieces(&self, plan: &Plan, range: Range<usize>) -> Result<Vec<u8>> {
        self.run(|| plan.run_pieces(range))
    }

    /// Merges the results of all pieces of `plan` on this client (see
    /// [`Plan::finish`]).
    pub fn finish(&self, plan: &Plan, parts: &[Vec<u8>]) -> Result<DataArray> {
        self.run(|| plan.finish(parts))
    }
}

/// What the pieces of a plan are.
enum Outer<'a> {
    Reduce(&'a ReduceAlongChunks),
    Chunks(&'a ChunkedArray),
    Memory(&'a Arc<ArrayData>),
}

fn chunk_bytes(lazy: &ChunkedArray, len: usize) -> u64 {
    let shape = chunk_shape(lazy.shape(), lazy.axis(), len);
    crate::base::bytes::of_shape(&shape, lazy.dtype().size())
}

/// The shape of a chunk of `len` positions along `axis` (0-d arrays: no axis).
fn chunk_shape(shape: &[usize], axis: usize, len: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    if let Some(n) = s.get_mut(axis) {
        *n = len;
    }
    s
}

fn without(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

/// Turns live sources into nodes, each shared source once.
#[derive(Default)]
struct Walker {
    nodes: Vec<NodeInfo>,
    seen: HashMap<*const (), usize>,
}

impl Walker {
    fn graph(mut self, da: &DataArray) -> Graph {
        let var = self.var(da.variable());
        let coords = da
            .coords()
            .iter()
            .map(|(n, c)| (n.clone(), self.var(c)))
            .collect();
        Graph {
            name: da.name().map(str::to_owned),
            var,
            coords,
            multi_index: da.multi_indexes().to_vec(),
            nodes: self.nodes,
        }
    }

    fn var(&mut self, v: &Variable) -> VarPlan {
        let data = match v.data() {
            Data::InMemory(a) => VarData::Memory(self.push(NodeInfo {
                dtype: a.dtype(),
                shape: a.shape().to_vec(),
                node: Node::Memory(a.clone()),
            })),
            Data::Lazy(lazy) => VarData::Lazy(self.lazy(lazy)),
        };
        VarPlan {
            dims: v.dims().to_vec(),
            attrs: v.attrs().clone(),
            encoding: v.encoding().clone(),
            data,
        }
    }

    fn lazy(&mut self, lazy: &ChunkedArray) -> LazyPlan {
        let chunks = lazy
            .chunks()
            .iter()
            .map(|c| {
                let shape = chunk_shape(lazy.shape(), lazy.axis(), c.len);
                (c.len, self.source(&c.source, lazy.dtype(), &shape))
            })
            .collect();
        LazyPlan {
            dtype: lazy.dtype(),
            shape: lazy.shape().to_vec(),
            axis: lazy.axis(),
            chunks,
        }
    }

    fn push(&mut self, info: NodeInfo) -> usize {
        self.nodes.push(info);
        self.nodes.len() - 1
    }

    /// The node of a source; `dtype` and `shape` are what it should make, used for
    /// sources that cannot say.
    fn source(&mut self, s: &Arc<dyn ChunkSource>, dtype: DType, shape: &[usize]) -> usize {
        let key = Arc::as_ptr(s) as *const ();
        if let Some(id) = self.seen.get(&key) {
            return *id;
        }
        let node = self.node(s.as_ref(), dtype, shape);
        let info = match derive(&node, &self.nodes) {
            Ok((dtype, shape)) => NodeInfo { node, dtype, shape },
            Err(_) => NodeInfo {
                node: Node::Opaque(s.describe()),
                dtype,
                shape: shape.to_vec(),
            },
        };
        let id = self.push(info);
        self.seen.insert(key, id);
        id
    }

    fn node(&mut self, s: &dyn ChunkSource, dtype: DType, shape: &[usize]) -> Node {
        if let Some(f) = file_ref(s) {
            return Node::File(f);
        }
        let Some(any) = s.as_any() else {
            return Node::Opaque(s.describe());
        };
        if let Some(m) = any.downcast_ref::<MemoryChunk>() {
            Node::Memory(m.0.clone())
        } else if let Some(p) = any.downcast_ref::<PartOf>() {
            Node::Part {
                of: self.source(&p.source, dtype, shape),
                axis: p.axis,
                range: p.range.clone(),
            }
        } else if let Some(m) = any.downcast_ref::<Mapped>() {
            Node::Map {
                of: self.source(&m.source, dtype, shape),
                op: m.op.clone(),
            }
        } else if let Some(j) = any.downcast_ref::<Joined>() {
            Node::Join {
                of: j
                    .pieces
                    .iter()
                    .map(|p| self.source(p, dtype, shape))
                    .collect(),
                axis: j.axis,
            }
        } else if let Some(r) = any.downcast_ref::<ReduceAlongChunks>() {
            Node::Reduce {
                of: self.lazy(&r.input),
                op: r.op,
            }
        } else {
            Node::Opaque(s.describe())
        }
    }
}

/// The element type and shape a node makes, from its inputs (which must come
/// before it in `nodes`), or an error saying why the node is inconsistent.
fn derive(node: &Node, nodes: &[NodeInfo]) -> Result<(DType, Vec<usize>)> {
    let input = |i: usize| {
        nodes
            .get(i)
            .ok_or_else(|| Error::invalid("a plan", format!("step {i} is used before it is made")))
    };
    match node {
        Node::File(f) => Ok((f.dtype, f.shape.clone())),
        Node::Memory(a) => Ok((a.dtype(), a.shape().to_vec())),
        Node::Part { of, axis, range } => {
            let i = input(*of)?;
            ChunkOp::Slice {
                axis: *axis,
                range: range.clone(),
            }
            .out_shape(&i.shape)
            .map(|s| (i.dtype, s))
        }
        Node::Map { of, op } => {
            let i = input(*of)?;
            Ok((op.out_dtype(i.dtype)?, op.out_shape(&i.shape)?))
        }
        Node::Join { of, axis } => {
            let first = input(
                *of.first()
                    .ok_or_else(|| Error::invalid("a join in a plan", "it joins nothing"))?,
            )?;
            let mut shape = first.shape.clone();
            if *axis >= shape.len() {
                return Err(Error::invalid("a join in a plan", "no such axis"));
            }
            shape[*axis] = 0;
            for p in of {
                let p = input(*p)?;
                let same = p.dtype == first.dtype
                    && p.shape.len() == shape.len()
                    && (0..shape.len()).all(|k| k == *axis || p.shape[k] == shape[k]);
                if !same {
                    return Err(Error::invalid(
                        "a join in a plan",
                        "its pieces differ in type or shape",
                    ));
                }
                shape[*axis] = shape[*axis]
                    .checked_add(p.shape[*axis])
                    .ok_or_else(|| Error::invalid("a join in a plan", "too large"))?;
            }
            Ok((first.dtype, shape))
        }
        Node::Reduce { of, op } => {
            check_lazy(of, nodes)?;
            Ok((op.output_dtype(of.dtype)?, without(&of.shape, of.axis)))
        }
        Node::Opaque(what) => Err(Error::invalid(
            format!("`{what}` in a plan"),
            "a source without a data form",
        )),
    }
}

/// Checks that a lazy array's chunks exist, add up, and have its type and shape.
fn check_lazy(lazy: &LazyPlan, nodes: &[NodeInfo]) -> Result<()> {
    let bad = |why: String| Error::invalid(format!("a lazy {:?} array in a plan", lazy.shape), why);
    // A 0-d array is one chunk of length 1 along its (absent) axis 0.
    let along = match lazy.shape.get(lazy.axis) {
        Some(n) => *n,
        None if lazy.shape.is_empty() && lazy.axis == 0 => 1,
        None => return Err(bad(format!("it has no axis {}", lazy.axis))),
    };
    let mut total = 0usize;
    for (len, id) in &lazy.chunks {
        let n = nodes
            .get(*id)
            .ok_or_else(|| bad(format!("step {id} is used before it is made")))?;
        let shape = chunk_shape(&lazy.shape, lazy.axis, *len);
        if n.shape != shape || n.dtype != lazy.dtype {
            return Err(bad(format!(
                "step {id} makes {} {:?}, not a {} {shape:?} chunk",
                n.dtype, n.shape, lazy.dtype
            )));
        }
        total = total.saturating_add(*len);
    }
    if total != along {
        return Err(bad(format!(
            "its chunks cover {total} of {along} positions"
        )));
    }
    Ok(())
}

impl Graph {
    /// Checks every node against its inputs and every array against its chunks.
    fn check(&self) -> Result<()> {
        for (i, n) in self.nodes.iter().enumerate() {
            let (dtype, shape) = derive(&n.node, &self.nodes[..i])
                .map_err(|e| Error::invalid(format!("step {i} of the plan"), e.to_string()))?;
            if (dtype, &shape) != (n.dtype, &n.shape) {
                return Err(Error::invalid(
                    format!("step {i} of the plan"),
                    format!(
                        "it is said to make {} {:?} but makes {dtype} {shape:?}",
                        n.dtype, n.shape
                    ),
                ));
            }
        }
        for (name, v) in std::iter::once(("the array", &self.var))
            .chain(self.coords.iter().map(|(n, v)| (n.as_str(), v)))
        {
            let shape = match &v.data {
                VarData::Memory(id) => match self.nodes.get(*id) {
                    Some(NodeInfo {
                        node: Node::Memory(_),
                        shape,
                        ..
                    }) => shape,
                    _ => {
                        return Err(Error::invalid(
                            format!("`{name}` in a plan"),
                            format!("step {id} holds no values in memory"),
                        ))
                    }
                },
                VarData::Lazy(lazy) => {
                    check_lazy(lazy, &self.nodes)?;
                    &lazy.shape
                }
            };
            if shape.len() != v.dims.len() {
                return Err(Error::invalid(
                    format!("`{name}` in a plan"),
                    format!("{} dimensions for a {shape:?} array", v.dims.len()),
                ));
            }
        }
        Ok(())
    }

    /// The live array the graph describes, its files read through `pools`.
    fn build(&self, pools: &Arc<FilePools>) -> Result<DataArray> {
        let mut live: Vec<Arc<dyn ChunkSource>> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let source: Arc<dyn ChunkSource> = match &n.node {
                Node::File(f) => reopen(f.clone(), pools),
                Node::Memory(a) => Arc::new(MemoryChunk(a.clone())),
                Node::Part { of, axis, range } => Arc::new(PartOf {
                    source: live[*of].clone(),
                    axis: *axis,
                    range: range.clone(),
                }),
                Node::Map { of, op } => {
                    let i = &self.nodes[*of];
                    Arc::new(Mapped {
                        source: live[*of].clone(),
                        op: op.clone(),
                        bytes: crate::base::bytes::of_shape(&i.shape, i.dtype.size())
                            .saturating_add(crate::base::bytes::of_shape(&n.shape, n.dtype.size())),
                    })
                }
                Node::Join { of, axis } => Arc::new(Joined {
                    pieces: of.iter().map(|i| live[*i].clone()).collect(),
                    axis: *axis,
                }),
                Node::Reduce { of, op } => Arc::new(ReduceAlongChunks {
                    input: lazy_array(of, &live)?,
                    op: *op,
                }),
                Node::Opaque(what) => {
                    return Err(Error::invalid(
                        format!("`{what}` in a plan"),
                        "a source without a data form cannot be rebuilt",
                    ))
                }
            };
            live.push(source);
        }
        let var = |v: &VarPlan| -> Result<Variable> {
            let data = match &v.data {
                VarData::Memory(id) => match &self.nodes[*id].node {
                    Node::Memory(a) => Data::InMemory(a.clone()),
                    _ => return Err(Error::invalid("a plan", "values expected in memory")),
                },
                VarData::Lazy(lazy) => Data::Lazy(lazy_array(lazy, &live)?),
            };
            Ok(Variable::new(v.dims.clone(), data)?
                .with_attrs(v.attrs.clone())
                .with_encoding(v.encoding.clone()))
        };
        let coords = self
            .coords
            .iter()
            .map(|(n, v)| Ok((n.clone(), var(v)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut da = DataArray::new(self.name.as_deref(), var(&self.var)?, coords)?;
        for (dim, levels) in &self.multi_index {
            da = da.with_multi_index(dim, levels.clone());
        }
        Ok(da)
    }
}

fn lazy_array(lazy: &LazyPlan, live: &[Arc<dyn ChunkSource>]) -> Result<ChunkedArray> {
    let chunks = lazy
        .chunks
        .iter()
        .map(|(len, id)| Chunk {
            len: *len,
            source: live[*id].clone(),
        })
        .collect();
    ChunkedArray::new(lazy.dtype, lazy.shape.clone(), lazy.axis, chunks)
}

#[cfg(test)]
mod tests;
