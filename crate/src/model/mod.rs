//! The data model: `Variable` → `DataArray` → `Dataset`, their typed storage,
//! attributes and calendar times. Knows nothing of files, compute pools or notebooks.

mod array_ops;
mod attrs;
mod data;
mod dataarray;
mod dataset;
mod sizes;
mod time;
mod variable;

pub use attrs::{AttrValue, Attrs};
pub(crate) use data::{with_array, with_storage_type};
pub use data::{ArrayData, Chunk, ChunkSource, ChunkedArray, DType, Data, Element, Window};
pub use dataarray::DataArray;
pub use dataset::{Dataset, Unread};
pub use sizes::Sizes;
pub use time::{Calendar, CfDateTime, TimeUnits, NAT};
pub use variable::Variable;
