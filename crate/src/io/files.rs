//! Open NetCDF handles shared by the chunks of one dataset, so a file is opened once
//! when the dataset is opened and again only once it has been closed. At most `capacity`
//! files stay open (least recently used are closed first), as xarray's file cache
//! does, so a dataset of thousands of files does not run out of file descriptors.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Files kept open at once by one dataset. An open NetCDF-4 file costs about 1 MB
/// of HDF5 metadata cache, so this stays small.
pub(crate) const DEFAULT_CAPACITY: usize = 32;

/// A small LRU of open files.
#[derive(Debug)]
pub(crate) struct FilePool {
    capacity: usize,
    open: Mutex<VecDeque<(PathBuf, Arc<netcdf::File>)>>,
}

impl FilePool {
    pub(crate) fn new(capacity: usize) -> FilePool {
        FilePool {
            capacity: capacity.max(1),
            open: Mutex::new(VecDeque::new()),
        }
    }

    /// Opens a file (or returns its open handle).
    pub(crate) fn get(&self, path: &Path) -> Result<Arc<netcdf::File>> {
        if let Some(file) = self.lookup(path) {
            return Ok(file);
        }
        let file = Arc::new(open(path)?);
        self.insert(path, file.clone());
        Ok(file)
    }

    /// Keeps an already opened handle.
    pub(crate) fn insert(&self, path: &Path, file: Arc<netcdf::File>) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        open.retain(|(p, _)| p != path);
        open.push_back((path.to_owned(), file));
        while open.len() > self.capacity {
            open.pop_front();
        }
    }

    fn lookup(&self, path: &Path) -> Option<Arc<netcdf::File>> {
        let mut open = self.open.lock().ok()?;
        let at = open.iter().position(|(p, _)| p == path)?;
        let entry = open.remove(at)?;
        let file = entry.1.clone();
        open.push_back(entry);
        Some(file)
    }
}

/// Opens a NetCDF file for reading, with an error that says what is wrong with it.
pub(crate) fn open(path: &Path) -> Result<netcdf::File> {
    quiet_hdf5_on_this_thread();
    no_chunk_cache();
    let file_error = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    if !path.is_file() {
        return Err(file_error("no such file".into()));
    }
    netcdf::open(path).map_err(|e| {
        let text = e.to_string();
        file_error(
            if text.contains("Unknown file format") || text.contains("-51") {
                "not a NetCDF file (the NetCDF library does not recognise its format)".into()
            } else if text.contains("HDF") || text.contains("-101") {
                format!("damaged or truncated NetCDF-4/HDF5 file ({text})")
            } else {
                format!("cannot open as NetCDF: {text}")
            },
        )
    })
}

/// Every chunk is read exactly once per computation, so HDF5's chunk cache only
/// costs a copy and memory (one decompressed chunk per variable per open file).
/// Files opened after this call get no cache.
fn no_chunk_cache() {
    // SAFETY: sets three process-wide defaults of libnetcdf; no pointer is involved.
    unsafe {
        netcdf_sys::nc_set_chunk_cache(0, 0, 0.75);
    }
}

/// HDF5 prints a diagnostic for every (harmless) failed attribute probe that
/// libnetcdf makes, on any thread where automatic error printing was not switched
/// off; libnetcdf switches it off only on the thread that initialised it. Switch it
/// off on the current thread too. HDF5 is found at run time (it is already loaded as a
/// dependency of libnetcdf), so no extra link flag is needed.
pub(crate) fn quiet_hdf5_on_this_thread() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    type SetAuto = unsafe extern "C" fn(i64, *const libc::c_void, *mut libc::c_void) -> i32;
    // SAFETY: looks a symbol up by a NUL-terminated name; a null result is handled.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"H5Eset_auto2".as_ptr()) };
    if symbol.is_null() {
        return;
    }
    // SAFETY: `H5Eset_auto2(hid_t estack_id, H5E_auto2_t func, void *client_data)`;
    // hid_t is int64_t in HDF5 >= 1.10 and H5E_DEFAULT is 0. Null turns printing off.
    unsafe {
        let set_auto: SetAuto = std::mem::transmute::<*mut libc::c_void, SetAuto>(symbol);
        set_auto(0, std::ptr::null(), std::ptr::null_mut());
    }
}
