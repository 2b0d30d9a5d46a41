//! The notebook face: text and HTML representations, evcxr display hooks and
//! machine facts.

mod display;
mod format;
mod html;
mod system;
mod text;
mod timing;

pub use display::Show;
pub(crate) use format::general as format_number;
pub use system::{
    cpu_count, peak_memory, reset_peak_memory, resident_memory, virtual_memory, VirtualMemory,
};
#[doc(hidden)]
pub use timing::Timer;

#[cfg(test)]
pub(crate) fn dataset_html_for_tests(ds: &crate::Dataset) -> String {
    html::dataset_html(ds)
}

#[cfg(test)]
pub(crate) fn dataarray_html_for_tests(da: &crate::DataArray) -> String {
    html::dataarray_html(da)
}

#[cfg(test)]
mod tests;
