//! A plan as JSON: `{"geoxr-plan": 1, "name", "var", "coords", "multi_index",
//! "nodes"}`. Each node is an object with one key naming its kind (`file`, `memory`,
//! `part`, `map`, `join`, `reduce`); arrays in memory are base64 of their binary form
//! (`wire`); floating-point numbers are strings (Rust's shortest exact form, also
//! for NaN and infinities) so they survive bit for bit; the file's mtime (ns) is a
//! string too. Attributes are `[name, type, values]` lists, in order.
//!
//! Parsing is serde_json's (depth-limited); everything after it is checked here:
//! unknown keys and kinds, wrong types, indices, and sizes before any allocation.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{Graph, LazyPlan, Node, NodeInfo, VarData, VarPlan};
use crate::compute::ops::{BinaryOp, ChunkOp};
use crate::compute::reduce::Reduction;
use crate::error::{Error, Result};
use crate::io::source::FileRef;
use crate::io::{Engine, OpenOptions};
use crate::model::{AttrValue, Attrs, Calendar, DType};

/// The format's version.
const VERSION: u64 = 1;
/// The longest plan text accepted.
const MAX_TEXT: usize = 512 << 20;
/// Most axes of an array.
const MAX_AXES: usize = 32;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn float(x: f64) -> Value {
    Value::String(format!("{x:?}"))
}

fn dtype_name(d: DType) -> String {
    match d {
        DType::Time(c) => format!("time:{c}"),
        other => other.to_string(),
    }
}

pub(super) fn write(g: &Graph) -> String {
    let v = json!({
        "geoxr-plan": VERSION,
        "name": g.name,
        "var": var_value(&g.var),
        "coords": g.coords.iter().map(|(n, v)| json!([n, var_value(v)])).collect::<Vec<_>>(),
        "multi_index": g.multi_index.iter().map(|(d, l)| json!([d, l])).collect::<Vec<_>>(),
        "nodes": g.nodes.iter().map(info_value).collect::<Vec<_>>(),
    });
    v.to_string()
}

fn var_value(v: &VarPlan) -> Value {
    let data = match &v.data {
        VarData::Memory(id) => json!({ "memory": id }),
        VarData::Lazy(l) => json!({ "lazy": lazy_value(l) }),
    };
    json!({
        "dims": v.dims,
        "attrs": attrs_value(&v.attrs),
        "encoding": attrs_value(&v.encoding),
        "data": data,
    })
}

fn lazy_value(l: &LazyPlan) -> Value {
    json!({
        "dtype": dtype_name(l.dtype),
        "shape": l.shape,
        "axis": l.axis,
        "chunks": l.chunks.iter().map(|(len, id)| json!([len, id])).collect::<Vec<_>>(),
    })
}

fn attrs_value(a: &Attrs) -> Value {
    fn nums<T: Copy>(v: &[T], f: impl Fn(T) -> Value) -> Value {
        Value::Array(v.iter().map(|x| f(*x)).collect())
    }
    Value::Array(
        a.iter()
            .map(|(name, value)| {
                let (kind, values) = match value {
                    AttrValue::Text(s) => ("text", json!(s)),
                    AttrValue::Texts(v) => ("texts", json!(v)),
                    AttrValue::I8(v) => ("i8", json!(v)),
                    AttrValue::U8(v) => ("u8", json!(v)),
                    AttrValue::I16(v) => ("i16", json!(v)),
                    AttrValue::U16(v) => ("u16", json!(v)),
                    AttrValue::I32(v) => ("i32", json!(v)),
                    AttrValue::U32(v) => ("u32", json!(v)),
                    AttrValue::I64(v) => ("i64", json!(v)),
                    AttrValue::U64(v) => ("u64", json!(v)),
                    AttrValue::F32(v) => ("f32", nums(v, |x| Value::String(format!("{x:?}")))),
                    AttrValue::F64(v) => ("f64", nums(v, float)),
                };
                json!([name, kind, values])
            })
            .collect(),
    )
}

fn op_value(op: &ChunkOp) -> Value {
    match op {
        ChunkOp::Index { axis, index } => json!({"index": {"axis": axis, "index": index}}),
        ChunkOp::Slice { axis, range } => {
            json!({"slice": {"axis": axis, "start": range.start, "end": range.end}})
        }
        ChunkOp::Take { axis, positions } => {
            json!({"take": {"axis": axis, "positions": positions.as_slice()}})
        }
        ChunkOp::Permute { order } => json!({"permute": {"order": order}}),
        ChunkOp::Merge { keep } => json!({"merge": {"keep": keep}}),
        ChunkOp::Reshape { shape } => json!({"reshape": {"shape": shape}}),
        ChunkOp::Unstack {
            keep,
            sizes,
            targets,
        } => json!({"unstack": {
            "keep": keep,
            "sizes": sizes,
            "targets": targets.as_ref().map(|t| t.as_slice()),
        }}),
        ChunkOp::Scalar { op, x, dtype } => json!({"scalar": {
            "op": op.symbol().to_string(), "x": float(*x), "dtype": dtype_name(*dtype),
        }}),
        ChunkOp::Array { op, right, dtype } => {
            let a = crate::model::ArrayData::F64((**right).clone());
            let mut bytes = Vec::new();
            super::wire::encode_array(&a, &mut bytes);
            json!({"array": {
                "op": op.symbol().to_string(),
                "right": b64().encode(bytes),
                "dtype": dtype_name(*dtype),
            }})
        }
        ChunkOp::Reduce { axis, op } => {
            json!({"reduce": {"axis": axis, "op": op.name(), "ddof": ddof(*op)}})
        }
        ChunkOp::Bins { axis, bins, op } => json!({"bins": {
            "axis": axis,
            "op": op.name(),
            "ddof": ddof(*op),
            "bins": bins.iter().map(|r| json!([r.start, r.end])).collect::<Vec<_>>(),
        }}),
    }
}

fn ddof(op: Reduction) -> u32 {
    match op {
        Reduction::Var { ddof } | Reduction::Std { ddof } => ddof,
        _ => 0,
    }
}

pub(super) fn node_value(n: &Node) -> Value {
    match n {
        Node::File(f) => {
            let (size, mtime_ns, inode) = f.identity_parts();
            json!({"file": {
                "path": f.path.to_string_lossy(),
                "variable": f.variable,
                "engine": f.options.get_engine().to_string(),
                "group": f.options.get_group(),
                "decode_times": f.options.get_decode_times(),
                "mask_and_scale": f.options.get_mask_and_scale(),
                "size": size,
                "mtime_ns": mtime_ns.to_string(),
                "inode": inode,
                "dtype": dtype_name(f.dtype),
                "shape": f.shape,
            }})
        }
        Node::Memory(a) => {
            let mut bytes = Vec::new();
            super::wire::encode_array(a, &mut bytes);
            json!({"memory": b64().encode(bytes)})
        }
        Node::Part { of, axis, range } => {
            json!({"part": {"of": of, "axis": axis, "start": range.start, "end": range.end}})
        }
        Node::Map { of, op } => json!({"map": {"of": of, "op": op_value(op)}}),
        Node::Join { of, axis } => json!({"join": {"of": of, "axis": axis}}),
        Node::Reduce { of, op } => {
            json!({"reduce": {"of": lazy_value(of), "op": op.name(), "ddof": ddof(*op)}})
        }
        Node::Opaque(what) => json!({ "opaque": what }),
    }
}

fn info_value(n: &NodeInfo) -> Value {
    json!({
        "node": node_value(&n.node),
        "dtype": dtype_name(n.dtype),
        "shape": n.shape,
    })
}

// ---- reading ----

fn bad(what: &str, why: impl Into<String>) -> Error {
    Error::invalid(format!("{what} in the plan"), why.into())
}

/// The members of an object, every one of them known.
fn object<'a>(v: &'a Value, what: &str, keys: &[&str]) -> Result<&'a Map<String, Value>> {
    let m = v
        .as_object()
        .ok_or_else(|| bad(what, "expected an object"))?;
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(bad(what, format!("unknown member `{k}`")));
    }
    Ok(m)
}

fn field<'a>(m: &'a Map<String, Value>, what: &str, key: &str) -> Result<&'a Value> {
    m.get(key)
        .ok_or_else(|| bad(what, format!("`{key}` is missing")))
}

fn uint(v: &Value, what: &str) -> Result<usize> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(what, "expected a whole number"))
}

fn uint_at(m: &Map<String, Value>, what: &str, key: &str) -> Result<usize> {
    uint(field(m, what, key)?, &format!("`{key}` of {what}"))
}

fn string<'a>(v: &'a Value, what: &str) -> Result<&'a str> {
    v.as_str().ok_or_else(|| bad(what, "expected text"))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| bad(what, "expected a list"))
}

fn uints(v: &Value, what: &str) -> Result<Vec<usize>> {
    list(v, what)?.iter().map(|x| uint(x, what)).collect()
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>> {
    list(v, what)?
        .iter()
        .map(|x| string(x, what).map(str::to_owned))
        .collect()
}

fn shape(v: &Value, what: &str) -> Result<Vec<usize>> {
    let s = uints(v, what)?;
    if s.len() > MAX_AXES {
        return Err(bad(what, format!("more than {MAX_AXES} axes")));
    }
    if s.iter()
        .try_fold(1usize, |a, n| a.checked_mul(*n))
        .is_none()
    {
        return Err(bad(what, "a shape too large for this machine"));
    }
    Ok(s)
}

fn parse_float(v: &Value, what: &str) -> Result<f64> {
    string(v, what)?
        .parse()
        .map_err(|_| bad(what, "expected a number as text"))
}

fn dtype(v: &Value, what: &str) -> Result<DType> {
    let name = string(v, what)?;
    if let Some(cal) = name.strip_prefix("time:") {
        return Calendar::parse(cal)
            .map(DType::Time)
            .ok_or_else(|| bad(what, format!("unknown calendar `{cal}`")));
    }
    let all = [
        DType::F32,
        DType::F64,
        DType::I8,
        DType::U8,
        DType::I16,
        DType::U16,
        DType::I32,
        DType::U32,
        DType::I64,
        DType::U64,
    ];
    all.into_iter()
        .find(|d| d.to_string() == name)
        .ok_or_else(|| bad(what, format!("unknown element type `{name}`")))
}

fn binary_op(v: &Value, what: &str) -> Result<BinaryOp> {
    let s = string(v, what)?;
    [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div]
        .into_iter()
        .find(|o| o.symbol().to_string() == s)
        .ok_or_else(|| bad(what, format!("unknown operation `{s}`")))
}

fn reduction(m: &Map<String, Value>, what: &str) -> Result<Reduction> {
    let name = string(field(m, what, "op")?, what)?;
    let ddof =
        u32::try_from(uint_at(m, what, "ddof")?).map_err(|_| bad(what, "ddof is too large"))?;
    Ok(match name {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        "min" => Reduction::Min,
        "max" => Reduction::Max,
        "count" => Reduction::Count,
        "var" => Reduction::Var { ddof },
        "std" => Reduction::Std { ddof },
        other => return Err(bad(what, format!("unknown reduction `{other}`"))),
    })
}

/// An array in base64 of its binary form.
fn array(v: &Value, what: &str) -> Result<crate::model::ArrayData> {
    let text = string(v, what)?;
    let bytes = b64()
        .decode(text)
        .map_err(|e| bad(what, format!("not base64: {e}")))?;
    let (dtype, shape) = super::wire::array_header(&bytes)?;
    if shape
        .iter()
        .try_fold(1usize, |a, n| a.checked_mul(*n))
        .is_none()
    {
        return Err(bad(what, "a shape too large for this machine"));
    }
    super::wire::decode_array(&bytes, dtype, &shape)
}

pub(super) fn read(text: &str) -> Result<Graph> {
    if text.len() > MAX_TEXT {
        return Err(bad("the text", format!("longer than {MAX_TEXT} bytes")));
    }
    // The parsed tree takes a few times the text's size.
    let _held =
        crate::compute::engine::reserve("reading a plan", (text.len() as u64).saturating_mul(8))?;
    let v: Value = serde_json::from_str(text).map_err(|e| bad("the text", e.to_string()))?;
    let what = "the plan";
    let m = object(
        &v,
        what,
        &[
            "geoxr-plan",
            "name",
            "var",
            "coords",
            "multi_index",
            "nodes",
        ],
    )?;
    match field(m, what, "geoxr-plan")?.as_u64() {
        Some(VERSION) => {}
        _ => return Err(bad(what, format!("not a version {VERSION} geoxr plan"))),
    }
    let name = match field(m, what, "name")? {
        Value::Null => None,
        v => Some(string(v, "the name")?.to_owned()),
    };
    let nodes = list(field(m, what, "nodes")?, "the nodes")?
        .iter()
        .enumerate()
        .map(|(i, n)| read_info(n, &format!("step {i}")))
        .collect::<Result<Vec<_>>>()?;
    let var = read_var(field(m, what, "var")?, "the array")?;
    let coords = list(field(m, what, "coords")?, "the coordinates")?
        .iter()
        .map(|c| match c.as_array().map(Vec::as_slice) {
            Some([n, v]) => {
                let n = string(n, "a coordinate's name")?;
                Ok((n.to_owned(), read_var(v, &format!("coordinate `{n}`"))?))
            }
            _ => Err(bad("a coordinate", "expected [name, variable]")),
        })
        .collect::<Result<Vec<_>>>()?;
    let multi_index = list(field(m, what, "multi_index")?, "the multi-indexes")?
        .iter()
        .map(|c| match c.as_array().map(Vec::as_slice) {
            Some([d, l]) => Ok((
                string(d, "a multi-index")?.to_owned(),
                strings(l, "a multi-index's levels")?,
            )),
            _ => Err(bad("a multi-index", "expected [dimension, levels]")),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Graph {
        name,
        var,
        coords,
        multi_index,
        nodes,
    })
}

fn read_var(v: &Value, what: &str) -> Result<VarPlan> {
    let m = object(v, what, &["dims", "attrs", "encoding", "data"])?;
    let d = object(field(m, what, "data")?, what, &["memory", "lazy"])?;
    let data = match (d.get("memory"), d.get("lazy")) {
        (Some(id), None) => VarData::Memory(uint(id, what)?),
        (None, Some(l)) => VarData::Lazy(read_lazy(l, what)?),
        _ => return Err(bad(what, "data must be `memory` or `lazy`")),
    };
    Ok(VarPlan {
        dims: strings(field(m, what, "dims")?, what)?,
        attrs: read_attrs(field(m, what, "attrs")?, what)?,
        encoding: read_attrs(field(m, what, "encoding")?, what)?,
        data,
    })
}

fn read_lazy(v: &Value, what: &str) -> Result<LazyPlan> {
    let m = object(v, what, &["dtype", "shape", "axis", "chunks"])?;
    let chunks = list(field(m, what, "chunks")?, what)?
        .iter()
        .map(|c| match c.as_array().map(Vec::as_slice) {
            Some([len, id]) => Ok((uint(len, what)?, uint(id, what)?)),
            _ => Err(bad(what, "a chunk must be [length, step]")),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LazyPlan {
        dtype: dtype(field(m, what, "dtype")?, what)?,
        shape: shape(field(m, what, "shape")?, what)?,
        axis: uint_at(m, what, "axis")?,
        chunks,
    })
}

fn read_attrs(v: &Value, what: &str) -> Result<Attrs> {
    let what = format!("the attributes of {what}");
    let mut attrs = Attrs::default();
    for a in list(v, &what)? {
        let Some([name, kind, values]) = a.as_array().map(Vec::as_slice) else {
            return Err(bad(&what, "expected [name, type, values]"));
        };
        let name = string(name, &what)?;
        let ints = |lo: i128, hi: i128| -> Result<Vec<i128>> {
            list(values, &what)?
                .iter()
                .map(|x| {
                    x.as_i64()
                        .map(i128::from)
                        .or_else(|| x.as_u64().map(i128::from))
                        .filter(|n| (lo..=hi).contains(n))
                        .ok_or_else(|| bad(&what, format!("`{name}`: a value out of range")))
                })
                .collect()
        };
        macro_rules! int_attr {
            ($t:ty, $v:ident) => {
                AttrValue::$v(
                    ints(<$t>::MIN as i128, <$t>::MAX as i128)?
                        .into_iter()
                        .map(|n| n as $t)
                        .collect(),
                )
            };
        }
        let floats = || -> Result<Vec<f64>> {
            list(values, &what)?
                .iter()
                .map(|x| parse_float(x, &what))
                .collect()
        };
        let value = match string(kind, &what)? {
            "text" => AttrValue::Text(string(values, &what)?.to_owned()),
            "texts" => AttrValue::Texts(strings(values, &what)?),
            "i8" => int_attr!(i8, I8),
            "u8" => int_attr!(u8, U8),
            "i16" => int_attr!(i16, I16),
            "u16" => int_attr!(u16, U16),
            "i32" => int_attr!(i32, I32),
            "u32" => int_attr!(u32, U32),
            "i64" => int_attr!(i64, I64),
            "u64" => int_attr!(u64, U64),
            "f32" => AttrValue::F32(
                list(values, &what)?
                    .iter()
                    .map(|x| {
                        string(x, &what)?
                            .parse::<f32>()
                            .map_err(|_| bad(&what, "expected a number as text"))
                    })
                    .collect::<Result<_>>()?,
            ),
            "f64" => AttrValue::F64(floats()?),
            other => return Err(bad(&what, format!("unknown attribute type `{other}`"))),
        };
        attrs.set(name, value);
    }
    Ok(attrs)
}

/// The one member of a tagged object: its tag and value.
fn tagged<'a>(v: &'a Value, what: &str) -> Result<(&'a str, &'a Value)> {
    match v.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().ok_or_else(|| bad(what, "empty"))?;
            Ok((k.as_str(), v))
        }
        _ => Err(bad(what, "expected an object with one member")),
    }
}

fn read_info(v: &Value, what: &str) -> Result<NodeInfo> {
    let m = object(v, what, &["node", "dtype", "shape"])?;
    Ok(NodeInfo {
        node: read_node(field(m, what, "node")?, what)?,
        dtype: dtype(field(m, what, "dtype")?, what)?,
        shape: shape(field(m, what, "shape")?, what)?,
    })
}

fn read_node(v: &Value, what: &str) -> Result<Node> {
    let (kind, body) = tagged(v, what)?;
    Ok(match kind {
        "file" => {
            let m = object(
                body,
                what,
                &[
                    "path",
                    "variable",
                    "engine",
                    "group",
                    "decode_times",
                    "mask_and_scale",
                    "size",
                    "mtime_ns",
                    "inode",
                    "dtype",
                    "shape",
                ],
            )?;
            let flag = |k: &str| {
                field(m, what, k)?
                    .as_bool()
                    .ok_or_else(|| bad(what, format!("`{k}` must be true or false")))
            };
            let engine = match string(field(m, what, "engine")?, what)? {
                "rust" => Engine::Rust,
                "libnetcdf" => Engine::Libnetcdf,
                other => return Err(bad(what, format!("unknown engine `{other}`"))),
            };
            let mut options = OpenOptions::new()
                .engine(engine)
                .decode_times(flag("decode_times")?)
                .mask_and_scale(flag("mask_and_scale")?);
            match field(m, what, "group")? {
                Value::Null => {}
                g => options = options.group(string(g, what)?),
            }
            let size = field(m, what, "size")?
                .as_u64()
                .ok_or_else(|| bad(what, "`size` must be a whole number"))?;
            let inode = field(m, what, "inode")?
                .as_u64()
                .ok_or_else(|| bad(what, "`inode` must be a whole number"))?;
            let mtime_ns: i128 = string(field(m, what, "mtime_ns")?, what)?
                .parse()
                .map_err(|_| bad(what, "`mtime_ns` must be a whole number as text"))?;
            Node::File(FileRef::new(
                PathBuf::from(string(field(m, what, "path")?, what)?),
                string(field(m, what, "variable")?, what)?.to_owned(),
                options,
                (size, mtime_ns, inode),
                dtype(field(m, what, "dtype")?, what)?,
                shape(field(m, what, "shape")?, what)?,
            ))
        }
        "memory" => Node::Memory(Arc::new(array(body, what)?)),
        "part" => {
            let m = object(body, what, &["of", "axis", "start", "end"])?;
            Node::Part {
                of: uint_at(m, what, "of")?,
                axis: uint_at(m, what, "axis")?,
                range: uint_at(m, what, "start")?..uint_at(m, what, "end")?,
            }
        }
        "map" => {
            let m = object(body, what, &["of", "op"])?;
            Node::Map {
                of: uint_at(m, what, "of")?,
                op: read_op(field(m, what, "op")?, what)?,
            }
        }
        "join" => {
            let m = object(body, what, &["of", "axis"])?;
            Node::Join {
                of: uints(field(m, what, "of")?, what)?,
                axis: uint_at(m, what, "axis")?,
            }
        }
        "reduce" => {
            let m = object(body, what, &["of", "op", "ddof"])?;
            Node::Reduce {
                of: read_lazy(field(m, what, "of")?, what)?,
                op: reduction(m, what)?,
            }
        }
        other => return Err(bad(what, format!("unknown kind of step `{other}`"))),
    })
}

fn read_op(v: &Value, what: &str) -> Result<ChunkOp> {
    let (kind, body) = tagged(v, what)?;
    let keys: &[&str] = match kind {
        "index" => &["axis", "index"],
        "slice" => &["axis", "start", "end"],
        "take" => &["axis", "positions"],
        "permute" => &["order"],
        "merge" => &["keep"],
        "reshape" => &["shape"],
        "unstack" => &["keep", "sizes", "targets"],
        "scalar" => &["op", "x", "dtype"],
        "array" => &["op", "right", "dtype"],
        "reduce" => &["axis", "op", "ddof"],
        "bins" => &["axis", "op", "ddof", "bins"],
        other => return Err(bad(what, format!("unknown operation `{other}`"))),
    };
    let m = object(body, what, keys)?;
    let axis = || uint_at(m, what, "axis");
    Ok(match kind {
        "index" => ChunkOp::Index {
            axis: axis()?,
            index: uint_at(m, what, "index")?,
        },
        "slice" => ChunkOp::Slice {
            axis: axis()?,
            range: uint_at(m, what, "start")?..uint_at(m, what, "end")?,
        },
        "take" => ChunkOp::Take {
            axis: axis()?,
            positions: Arc::new(uints(field(m, what, "positions")?, what)?),
        },
        "permute" => ChunkOp::Permute {
            order: shape(field(m, what, "order")?, what)?,
        },
        "merge" => ChunkOp::Merge {
            keep: uint_at(m, what, "keep")?,
        },
        "reshape" => ChunkOp::Reshape {
            shape: shape(field(m, what, "shape")?, what)?,
        },
        "unstack" => ChunkOp::Unstack {
            keep: uint_at(m, what, "keep")?,
            sizes: shape(field(m, what, "sizes")?, what)?,
            targets: match field(m, what, "targets")? {
                Value::Null => None,
                t => Some(Arc::new(uints(t, what)?)),
            },
        },
        "scalar" => ChunkOp::Scalar {
            op: binary_op(field(m, what, "op")?, what)?,
            x: parse_float(field(m, what, "x")?, what)?,
            dtype: dtype(field(m, what, "dtype")?, what)?,
        },
        "array" => {
            let right = match array(field(m, what, "right")?, what)? {
                crate::model::ArrayData::F64(a) => a,
                _ => return Err(bad(what, "the other operand must be float64")),
            };
            ChunkOp::Array {
                op: binary_op(field(m, what, "op")?, what)?,
                right: Arc::new(right),
                dtype: dtype(field(m, what, "dtype")?, what)?,
            }
        }
        "reduce" => ChunkOp::Reduce {
            axis: axis()?,
            op: reduction(m, what)?,
        },
        _ => ChunkOp::Bins {
            axis: axis()?,
            op: reduction(m, what)?,
            bins: Arc::new(
                list(field(m, what, "bins")?, what)?
                    .iter()
                    .map(|b| match b.as_array().map(Vec::as_slice) {
                        Some([s, e]) => Ok(uint(s, what)?..uint(e, what)?),
                        _ => Err(bad(what, "a bin must be [start, end]")),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        },
    })
}
