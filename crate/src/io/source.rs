//! File sources as a plan records them (path, variable, open options, and the file's
//! identity at open), and opened again from that record, possibly in another
//! process: the file is looked at only when a chunk is first read, and refused then
//! if it is no longer the file that was recorded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use super::files::{default_capacity, Identity};
use super::options::{Engine, OpenOptions};
use super::read::{read_file, Files, Slab};
use crate::error::{Error, Result};
use crate::model::{ArrayData, ChunkSource, DType, Data, Window};

/// One variable of one file, whole, decoded as it was opened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileRef {
    pub path: PathBuf,
    /// The variable's name (in the options' group).
    pub variable: String,
    pub options: OpenOptions,
    /// The file as it was when opened: size, modification time, device and inode.
    pub identity: Identity,
    /// The decoded element type and the variable's shape.
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl FileRef {
    /// What the file's identity is made of, for a plan: size, mtime (ns), inode.
    pub(crate) fn identity_parts(&self) -> (u64, i128, u64) {
        (
            self.identity.size,
            self.identity.mtime_ns,
            self.identity.inode,
        )
    }

    /// A record from its parts (the device is not recorded: it differs between
    /// machines that mount the same file system).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        path: PathBuf,
        variable: String,
        options: OpenOptions,
        (size, mtime_ns, inode): (u64, i128, u64),
        dtype: DType,
        shape: Vec<usize>,
    ) -> FileRef {
        FileRef {
            path,
            variable,
            options,
            identity: Identity {
                size,
                mtime_ns,
                dev: 0,
                inode,
            },
            dtype,
            shape,
        }
    }
}

/// The record of a file source, when `source` is one (as opened or reopened).
pub(crate) fn file_ref(source: &dyn ChunkSource) -> Option<FileRef> {
    let any = source.as_any()?;
    if let Some(slab) = any.downcast_ref::<Slab>() {
        return Some(slab.file_ref());
    }
    any.downcast_ref::<Reopened>().map(|r| r.file.clone())
}

/// Open files shared by the reopened sources of plans, per engine, and the sources
/// already opened from their records. One plan read from JSON gets its own; a
/// process that runs plan after plan on the same files (a rank of an MPI pool) keeps
/// one, so each file's header is parsed once. A kept source is used again only for
/// the same record (path, variable, options and identity), and every read of it
/// checks the file's identity again, so a replaced file is still an error.
#[derive(Debug, Default)]
pub(crate) struct FilePools {
    rust: OnceLock<Arc<Files>>,
    libnetcdf: OnceLock<Arc<Files>>,
    opened: Mutex<HashMap<OpenedKey, Kept>>,
}

/// A kept source with the options it was opened with.
type Kept = (OpenOptions, Arc<dyn ChunkSource>);

/// What a kept source is found by (the options are compared apart: they hold no hash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OpenedKey {
    path: PathBuf,
    variable: String,
    identity: (u64, i128, u64),
}

/// Most sources kept; past it the kept ones are let go (they are opened again).
const MAX_KEPT: usize = 1 << 16;

impl FilePools {
    fn get(&self, engine: Engine) -> Arc<Files> {
        let cell = match engine {
            Engine::Rust => &self.rust,
            Engine::Libnetcdf => &self.libnetcdf,
        };
        cell.get_or_init(|| Arc::new(Files::new(engine, default_capacity())))
            .clone()
    }

    fn key(file: &FileRef) -> OpenedKey {
        OpenedKey {
            path: file.path.clone(),
            variable: file.variable.clone(),
            identity: file.identity_parts(),
        }
    }

    fn kept(&self, file: &FileRef) -> Option<Arc<dyn ChunkSource>> {
        let opened = self.opened.lock().ok()?;
        opened
            .get(&FilePools::key(file))
            .filter(|(options, _)| *options == file.options)
            .map(|(_, source)| source.clone())
    }

    fn keep(&self, file: &FileRef, source: &Arc<dyn ChunkSource>) {
        if let Ok(mut opened) = self.opened.lock() {
            if opened.len() >= MAX_KEPT {
                opened.clear();
            }
            opened.insert(FilePools::key(file), (file.options.clone(), source.clone()));
        }
    }

    /// How many opened sources are kept.
    pub(crate) fn kept_count(&self) -> usize {
        self.opened.lock().map_or(0, |o| o.len())
    }
}

/// A file source made again from its record; opens the file when first read.
#[derive(Debug)]
pub(crate) struct Reopened {
    file: FileRef,
    pools: Arc<FilePools>,
    files: Arc<Files>,
    opened: OnceLock<Arc<dyn ChunkSource>>,
}

/// The source a record describes, reading through `pools`.
pub(crate) fn reopen(file: FileRef, pools: &Arc<FilePools>) -> Arc<dyn ChunkSource> {
    let files = pools.get(file.options.get_engine());
    Arc::new(Reopened {
        file,
        pools: pools.clone(),
        files,
        opened: OnceLock::new(),
    })
}

impl Reopened {
    fn error(&self, reason: String) -> Error {
        Error::FileVariable {
            path: self.file.path.clone(),
            variable: self.file.variable.clone(),
            reason,
        }
    }

    fn source(&self) -> Result<&Arc<dyn ChunkSource>> {
        if let Some(s) = self.opened.get() {
            return Ok(s);
        }
        let f = &self.file;
        let now = Identity::of(&f.path)?;
        if (now.size, now.mtime_ns, now.inode) != f.identity_parts() {
            return Err(Error::File {
                path: f.path.clone(),
                reason: format!(
                    "the file changed since the plan was made (size {} bytes, now {}; or \
                     modified, or replaced); open it again and make the plan again",
                    f.identity.size, now.size
                ),
            });
        }
        if let Some(kept) = self.pools.kept(f) {
            return Ok(self.opened.get_or_init(|| kept));
        }
        let opened = read_file(&f.path, &self.files, &f.options)?;
        let var = opened
            .dataset
            .data_vars()
            .iter()
            .chain(opened.dataset.coords())
            .find(|(n, _)| *n == f.variable)
            .map(|(_, v)| v)
            .ok_or_else(|| self.error("the variable is not in the file".into()))?;
        if var.dtype() != f.dtype || var.shape() != f.shape.as_slice() {
            return Err(self.error(format!(
                "the plan recorded {} {:?}, the file holds {} {:?}",
                f.dtype,
                f.shape,
                var.dtype(),
                var.shape()
            )));
        }
        let source: Arc<dyn ChunkSource> = match var.data() {
            Data::Lazy(lazy) => match lazy.chunks() {
                [only] => only.source.clone(),
                _ => return Err(self.error("the variable is not one chunk".into())),
            },
            Data::InMemory(a) => Arc::new(crate::compute::sources::MemoryChunk(a.clone())),
        };
        self.pools.keep(f, &source);
        Ok(self.opened.get_or_init(|| source))
    }
}

impl ChunkSource for Reopened {
    fn read(&self) -> Result<Arc<ArrayData>> {
        self.source()?.read()
    }

    fn read_part(&self, axis: usize, range: std::ops::Range<usize>) -> Result<Arc<ArrayData>> {
        self.source()?.read_part(axis, range)
    }

    fn read_into(&self, dtype: DType, window: &Window, out: &mut [u8]) -> Result<bool> {
        self.source()?.read_into(dtype, window, out)
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.file.path.display(), self.file.variable)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
