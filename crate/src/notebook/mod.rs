//! The notebook face: text and HTML representations, evcxr display hooks and
//! machine facts.

mod display;
mod format;
mod html;
mod system;
mod text;

pub use html::escape;

/// Bytes as xarray prints them (`334MB`).
pub(crate) fn human_bytes_pub(n: u64) -> String {
    format::human_bytes(n as usize)
}
pub use system::{cpu_count, virtual_memory, VirtualMemory};

#[cfg(test)]
pub(crate) fn dataset_html_for_tests(ds: &crate::Dataset) -> String {
    html::dataset_html(ds)
}

#[cfg(test)]
pub(crate) fn dataarray_html_for_tests(da: &crate::DataArray) -> String {
    html::dataarray_html(da)
}
