//! A fast path for reading whole chunks of NetCDF-4 variables.
//!
//! libnetcdf (and HDF5 under it) is not thread-safe, so every call into it runs
//! behind one process-wide lock, and the lock is held while HDF5 decompresses. For the
//! common layout of daily files (one chunk holds the whole slab we want, compressed
//! with deflate and possibly shuffled) we instead ask HDF5 only for the stored bytes of
//! the chunk (`H5Dread_chunk`, quick, under the same lock) and inflate and unshuffle
//! them ourselves, outside the lock, so every core decompresses at once. Anything else
//! (other filters, big-endian data, partial chunks, unallocated chunks) returns `None`
//! and the caller reads through libnetcdf as usual.

use std::ffi::CString;
use std::io::Read;
use std::path::Path;

use hdf5_metno_sys::h5::hsize_t;
use hdf5_metno_sys::h5d::{
    H5Dclose, H5Dget_chunk_info_by_coord, H5Dget_create_plist, H5Dget_type, H5Dopen2, H5Dread_chunk,
};
use hdf5_metno_sys::h5f::{H5Fclose, H5Fopen, H5F_ACC_RDONLY};
use hdf5_metno_sys::h5i::hid_t;
use hdf5_metno_sys::h5p::{H5Pclose, H5Pget_chunk, H5Pget_filter2, H5Pget_nfilters, H5P_DEFAULT};
use hdf5_metno_sys::h5t::{H5T_order_t, H5Tclose, H5Tget_order, H5Tget_size};
use hdf5_metno_sys::h5z::{H5Z_FILTER_DEFLATE, H5Z_FILTER_SHUFFLE};

/// How one chunk of a variable is stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    elem_size: usize,
    shuffle: bool,
    deflate: bool,
}

/// The stored (compressed) bytes of a chunk, and how to decode them.
pub(crate) struct StoredChunk {
    bytes: Vec<u8>,
    layout: Layout,
    elements: usize,
}

/// Closes an HDF5 identifier when dropped.
struct Id(hid_t, unsafe extern "C" fn(hid_t) -> i32);

impl Drop for Id {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: the identifier was opened by the matching H5*open call.
            unsafe {
                (self.1)(self.0);
            }
        }
    }
}

/// Reads the stored bytes of the chunk that holds all of `variable` in `path`, when
/// the variable is exactly one chunk of a layout we can decode. `shape` is the
/// variable's shape.
pub(crate) fn read_whole_chunk(
    path: &Path,
    variable: &str,
    shape: &[usize],
) -> Option<StoredChunk> {
    let c_path = CString::new(path.to_str()?).ok()?;
    let c_name = CString::new(format!("/{variable}")).ok()?;
    let elements: usize = shape.iter().product();
    if elements == 0 || shape.is_empty() {
        return None;
    }
    let _guard = hdf5_metno_sys::LOCK.lock();
    super::files::quiet_hdf5_on_this_thread();
    // SAFETY: plain HDF5 C calls on identifiers we open and close here, with buffers
    // sized from HDF5's own answers; all under the library lock libnetcdf also uses.
    unsafe {
        let file = Id(
            H5Fopen(c_path.as_ptr(), H5F_ACC_RDONLY, H5P_DEFAULT),
            H5Fclose,
        );
        if file.0 < 0 {
            return None;
        }
        let dset = Id(H5Dopen2(file.0, c_name.as_ptr(), H5P_DEFAULT), H5Dclose);
        if dset.0 < 0 {
            return None;
        }
        let plist = Id(H5Dget_create_plist(dset.0), H5Pclose);
        let mut chunk = vec![0 as hsize_t; shape.len()];
        if H5Pget_chunk(plist.0, chunk.len() as i32, chunk.as_mut_ptr()) != shape.len() as i32 {
            return None; // contiguous storage, or another rank
        }
        if chunk.iter().zip(shape).any(|(c, s)| *c as usize != *s) {
            return None; // the variable spans several chunks
        }
        let dtype = Id(H5Dget_type(dset.0), H5Tclose);
        if H5Tget_order(dtype.0) != H5T_order_t::H5T_ORDER_LE {
            return None;
        }
        let elem_size = H5Tget_size(dtype.0);
        let mut layout = Layout {
            elem_size,
            shuffle: false,
            deflate: false,
        };
        let filters = H5Pget_nfilters(plist.0);
        for i in 0..filters.max(0) as u32 {
            let (mut flags, mut n, mut config) = (0u32, 0usize, 0u32);
            let id = H5Pget_filter2(
                plist.0,
                i,
                &mut flags,
                &mut n,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &mut config,
            );
            match id {
                H5Z_FILTER_SHUFFLE if !layout.deflate => layout.shuffle = true,
                H5Z_FILTER_DEFLATE => layout.deflate = true,
                _ => return None,
            }
        }
        let offset = vec![0 as hsize_t; shape.len()];
        let (mut mask, mut addr, mut size) = (0u32, 0u64, 0 as hsize_t);
        if H5Dget_chunk_info_by_coord(dset.0, offset.as_ptr(), &mut mask, &mut addr, &mut size) < 0
            || size == 0
        {
            return None; // never written: the fill value applies
        }
        if mask != 0 {
            return None; // a filter was skipped for this chunk
        }
        let mut bytes = vec![0u8; size as usize];
        let mut filters_used = 0u32;
        if H5Dread_chunk(
            dset.0,
            H5P_DEFAULT,
            offset.as_ptr(),
            &mut filters_used,
            bytes.as_mut_ptr().cast(),
        ) < 0
        {
            return None;
        }
        Some(StoredChunk {
            bytes,
            layout,
            elements,
        })
    }
}

impl StoredChunk {
    /// Inflates and unshuffles the bytes into little-endian elements; `None` when the
    /// bytes do not decode to the expected size.
    pub(crate) fn decode(self) -> Option<Vec<u8>> {
        let want = self.elements * self.layout.elem_size;
        let inflated = if self.layout.deflate {
            let mut out = Vec::with_capacity(want);
            flate2::read::ZlibDecoder::new(self.bytes.as_slice())
                .read_to_end(&mut out)
                .ok()?;
            out
        } else {
            self.bytes
        };
        if inflated.len() != want {
            return None;
        }
        if !self.layout.shuffle || self.layout.elem_size == 1 {
            return Some(inflated);
        }
        Some(unshuffle(&inflated, self.elements, self.layout.elem_size))
    }
}

/// Undoes HDF5's shuffle filter: byte `b` of every element was stored together in
/// plane `b`. Writes each element's bytes side by side, in order.
fn unshuffle(planes: &[u8], n: usize, size: usize) -> Vec<u8> {
    fn fixed<const S: usize>(planes: &[u8], n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n * S];
        let planes: Vec<&[u8]> = planes.chunks_exact(n).collect();
        for (i, element) in out.chunks_exact_mut(S).enumerate() {
            for b in 0..S {
                element[b] = planes[b][i];
            }
        }
        out
    }
    match size {
        2 => fixed::<2>(planes, n),
        4 => fixed::<4>(planes, n),
        8 => fixed::<8>(planes, n),
        _ => {
            let mut out = vec![0u8; n * size];
            for (b, plane) in planes.chunks_exact(n).enumerate() {
                for (i, byte) in plane.iter().enumerate() {
                    out[i * size + b] = *byte;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_restores_element_bytes() {
        // Two 4-byte elements stored as four planes of two bytes.
        let planes = [1, 5, 2, 6, 3, 7, 4, 8];
        assert_eq!(unshuffle(&planes, 2, 4), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(unshuffle(&[1, 4, 2, 5, 3, 6], 2, 3), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn reads_a_compressed_shuffled_chunk_as_netcdf_does() {
        let dir = std::env::temp_dir().join(format!("geoxr-direct-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chunk.nc4");
        let values: Vec<f32> = (0..6 * 5)
            .map(|i| if i % 4 == 0 { 0.0 } else { i as f32 * 1.25 })
            .collect();
        {
            let mut f = netcdf::create(&path).unwrap();
            f.add_dimension("y", 6).unwrap();
            f.add_dimension("x", 5).unwrap();
            let mut v = f.add_variable::<f32>("rain", &["y", "x"]).unwrap();
            v.set_chunking(&[6, 5]).unwrap();
            v.set_compression(4, true).unwrap();
            v.put_values(&values, ..).unwrap();
            let mut split = f.add_variable::<f32>("split", &["y", "x"]).unwrap();
            split.set_chunking(&[3, 5]).unwrap();
            split.put_values(&values, ..).unwrap();
        }
        let bytes = read_whole_chunk(&path, "rain", &[6, 5])
            .expect("one deflated chunk")
            .decode()
            .unwrap();
        let got: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(got, values);
        assert!(
            read_whole_chunk(&path, "split", &[6, 5]).is_none(),
            "two chunks: use libnetcdf"
        );
        assert!(read_whole_chunk(&path, "missing", &[6, 5]).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
