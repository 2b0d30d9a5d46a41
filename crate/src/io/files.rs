//! The files behind a dataset: who they are and the handles kept open on them.
//!
//! Each file's identity (size, modification time, inode) is recorded when it is
//! opened; every later read checks it again, so a file replaced or rewritten after
//! `open_*` is an error naming it instead of other values under the old labels.
//! Open handles are shared by the chunks of one dataset in a small LRU: a file is
//! opened once when the dataset is opened and again only once it has been closed, and
//! a dataset of thousands of files does not run out of file descriptors.

use std::collections::VecDeque;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Files kept open at once by one dataset: half of this process's file-descriptor
/// limit, between 32 and 4096, so the files of a usual dataset are opened (and their
/// headers parsed) once, and a dataset of very many files does not run out of file
/// descriptors. An open file costs one descriptor and its parsed metadata (tens of KB).
pub(crate) fn default_capacity() -> usize {
    // SAFETY: getrlimit fills the struct it is given.
    let soft = unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 32;
        }
        limit.rlim_cur
    };
    usize::try_from(soft / 2).unwrap_or(4096).clamp(32, 4096)
}

/// What makes a file the same file: its size, modification time and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub size: u64,
    pub mtime_ns: i128,
    pub dev: u64,
    pub inode: u64,
}

impl Identity {
    /// Looks a path up; an error names it when it is not a readable regular file.
    pub(crate) fn of(path: &Path) -> Result<Identity> {
        let error = |reason: String| Error::File {
            path: path.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| {
            error(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    if std::fs::symlink_metadata(path).is_ok() {
                        "a symbolic link to nothing (dangling)".into()
                    } else {
                        "no such file".into()
                    }
                }
                _ if e.raw_os_error() == Some(libc::ELOOP) => "a symbolic link loop".into(),
                _ => format!("cannot read it: {e}"),
            })
        })?;
        if meta.is_dir() {
            return Err(error("a directory, not a NetCDF file".into()));
        }
        if !meta.is_file() {
            return Err(error("not a regular file".into()));
        }
        Ok(Identity::from_metadata(&meta))
    }

    fn from_metadata(meta: &std::fs::Metadata) -> Identity {
        Identity {
            size: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            dev: meta.dev(),
            inode: meta.ino(),
        }
    }

    /// Fails, naming the file, when it is no longer the file that was opened.
    pub(crate) fn check(&self, path: &Path) -> Result<()> {
        let now = Identity::of(path).map_err(|e| match e {
            Error::File { path, reason } => Error::File {
                path,
                reason: format!("{reason}; it was there when the dataset was opened"),
            },
            other => other,
        })?;
        if now != *self {
            return Err(Error::File {
                path: path.to_owned(),
                reason: format!(
                    "the file changed since it was opened ({}); open it again",
                    self.difference(&now)
                ),
            });
        }
        Ok(())
    }

    fn difference(&self, now: &Identity) -> String {
        if (self.dev, self.inode) != (now.dev, now.inode) {
            "it was replaced by another file".into()
        } else if self.size != now.size {
            format!("size {} bytes, now {}", self.size, now.size)
        } else {
            "it was modified".into()
        }
    }
}

/// A small LRU of open handles of one kind.
pub(crate) struct FilePool<T> {
    capacity: usize,
    open: Mutex<VecDeque<(PathBuf, Arc<T>)>>,
}

impl<T> FilePool<T> {
    pub(crate) fn new(capacity: usize) -> FilePool<T> {
        FilePool {
            capacity: capacity.max(1),
            open: Mutex::new(VecDeque::new()),
        }
    }

    /// The open handle of a file, or a new one from `open`.
    pub(crate) fn get(&self, path: &Path, open: impl FnOnce() -> Result<T>) -> Result<Arc<T>> {
        if let Some(file) = self.lookup(path) {
            return Ok(file);
        }
        let file = Arc::new(open()?);
        self.insert(path, file.clone());
        Ok(file)
    }

    /// Keeps an already opened handle.
    pub(crate) fn insert(&self, path: &Path, file: Arc<T>) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        open.retain(|(p, _)| p != path);
        open.push_back((path.to_owned(), file));
        while open.len() > self.capacity {
            open.pop_front();
        }
    }

    fn lookup(&self, path: &Path) -> Option<Arc<T>> {
        let mut open = self.open.lock().ok()?;
        let at = open.iter().position(|(p, _)| p == path)?;
        let entry = open.remove(at)?;
        let file = entry.1.clone();
        open.push_back(entry);
        Some(file)
    }
}

/// The most bytes one read may allocate: the machine's physical memory. A size read
/// from a file's metadata that is larger than this comes from a damaged file or
/// cannot be held anyway.
pub(crate) fn memory_cap() -> u64 {
    static CAP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| {
        // SAFETY: sysconf only reads system configuration values.
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages <= 0 || page <= 0 {
            return 16 << 30;
        }
        (pages as u64).saturating_mul(page as u64)
    })
}

/// Bytes needed for `shape` elements of `size` bytes, checked against overflow and
/// against memory; the message says how much was asked for.
pub(crate) fn checked_bytes(shape: &[usize], size: usize) -> std::result::Result<usize, String> {
    let too_big = || {
        format!(
            "its shape {shape:?} needs more memory than this machine has ({} bytes); \
             the file may be damaged",
            memory_cap()
        )
    };
    let n = shape
        .iter()
        .try_fold(size, |acc, &d| acc.checked_mul(d))
        .ok_or_else(too_big)?;
    if n as u64 > memory_cap() {
        return Err(too_big());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_names_what_is_not_a_regular_file() {
        let dir = std::env::temp_dir().join(format!("geoxr-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("folder.nc4")).unwrap();
        std::os::unix::fs::symlink(dir.join("gone.nc4"), dir.join("dangling.nc4")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop-b.nc4"), dir.join("loop-a.nc4")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop-a.nc4"), dir.join("loop-b.nc4")).unwrap();
        for (name, says) in [
            ("folder.nc4", "directory"),
            ("dangling.nc4", "dangling"),
            ("loop-a.nc4", "loop"),
            ("absent.nc4", "no such file"),
        ] {
            let err = Identity::of(&dir.join(name)).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        }
        let file = dir.join("a.nc4");
        std::fs::write(&file, b"one").unwrap();
        let id = Identity::of(&file).unwrap();
        id.check(&file).unwrap();
        std::fs::write(dir.join("b.nc4"), b"other").unwrap();
        std::fs::rename(dir.join("b.nc4"), &file).unwrap();
        let err = id.check(&file).unwrap_err().to_string();
        assert!(
            err.contains("a.nc4") && err.contains("open it again"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sizes_beyond_memory_are_refused() {
        assert_eq!(checked_bytes(&[2, 3], 4), Ok(24));
        assert!(checked_bytes(&[usize::MAX, 2], 4).is_err());
        let err = checked_bytes(&[1 << 40, 1 << 10], 8).unwrap_err();
        assert!(err.contains("damaged"), "{err}");
    }
}
