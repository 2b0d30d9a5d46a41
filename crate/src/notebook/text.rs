//! Plain-text representations in xarray's layout.

use std::fmt::{self, Write};

use super::format::{human_bytes, truncate, values_column};
use crate::model::{Attrs, DataArray, Dataset, Sizes, Variable};

const WIDTH: usize = 80;

fn column_width(names: impl Iterator<Item = usize>) -> usize {
    names.max().unwrap_or(0).max(7) + 6
}

fn variable_line(out: &mut String, name: &str, v: &Variable, is_index: bool, col: usize) {
    let marker = if is_index { "  * " } else { "    " };
    let head = format!("{marker}{name}");
    let mut line = format!(
        "{head:<col$}({}) {} {} ",
        v.dims().join(", "),
        v.dtype(),
        human_bytes(v.nbytes())
    );
    let room = WIDTH.saturating_sub(line.len()).max(20);
    line.push_str(&values_column(v, room));
    let _ = writeln!(out, "{line}");
}

fn attrs_section(out: &mut String, attrs: &Attrs) {
    if attrs.is_empty() {
        return;
    }
    out.push_str("Attributes:\n");
    let col = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (k, v) in attrs.iter() {
        let key = format!("{k}:");
        let line = format!("    {key:<col$} {v}");
        let _ = writeln!(out, "{}", truncate(&line, WIDTH));
    }
}

fn coords_section(out: &mut String, coords: &[(String, Variable)], col: usize) {
    if coords.is_empty() {
        return;
    }
    out.push_str("Coordinates:\n");
    for (name, c) in coords {
        let is_index = c.dims().len() == 1 && c.dims()[0] == *name;
        variable_line(out, name, c, is_index, col);
    }
}

fn sizes_inline(sizes: &Sizes) -> String {
    let parts: Vec<String> = sizes.iter().map(|(d, n)| format!("{d}: {n}")).collect();
    format!("({})", parts.join(", "))
}

/// The text representation of a dataset.
pub(crate) fn dataset_text(ds: &Dataset) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<geoxr.Dataset> Size: {}", human_bytes(ds.nbytes()));
    let names = ds
        .coords()
        .iter()
        .chain(ds.data_vars())
        .map(|(n, _)| n.len());
    let col = column_width(names);
    let _ = writeln!(out, "{:<col$}{}", "Dimensions:", sizes_inline(ds.dims()));
    coords_section(&mut out, ds.coords(), col);
    let without: Vec<&str> = ds
        .dims()
        .iter()
        .map(|(d, _)| d)
        .filter(|d| !ds.coords().iter().any(|(n, _)| n == d))
        .collect();
    if !without.is_empty() {
        let _ = writeln!(
            out,
            "Dimensions without coordinates: {}",
            without.join(", ")
        );
    }
    out.push_str("Data variables:\n");
    if ds.data_vars().is_empty() {
        out.push_str("    *empty*\n");
    }
    for (name, v) in ds.data_vars() {
        variable_line(&mut out, name, v, false, col);
    }
    attrs_section(&mut out, ds.attrs());
    out.trim_end().to_owned()
}

/// The text representation of a data array.
pub(crate) fn dataarray_text(da: &DataArray) -> String {
    let mut out = String::new();
    let name = da.name().map(|n| format!(" '{n}'")).unwrap_or_default();
    let _ = writeln!(
        out,
        "<geoxr.DataArray{name} {}> Size: {}",
        sizes_inline(&da.sizes()),
        human_bytes(da.variable().nbytes())
    );
    let _ = writeln!(
        out,
        "{} {}",
        da.dtype(),
        values_column(da.variable(), WIDTH)
    );
    let col = column_width(da.coords().iter().map(|(n, _)| n.len()));
    coords_section(&mut out, da.coords(), col);
    attrs_section(&mut out, da.attrs());
    out.trim_end().to_owned()
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dataset_text(self))
    }
}

impl fmt::Display for DataArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dataarray_text(self))
    }
}
