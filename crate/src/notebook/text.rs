//! Plain-text representations in xarray's layout.

use std::fmt::{self, Write};

use super::format::{human_bytes, truncate, values_column};
use crate::base::text::plain;
use crate::model::{Attrs, DataArray, Dataset, Sizes, Unread, Variable};

const WIDTH: usize = 80;

/// Names from a file, made safe and joined with commas.
fn safe_names<S: AsRef<str>>(list: &[S]) -> String {
    let safe: Vec<String> = list.iter().map(|n| plain(n.as_ref()).to_string()).collect();
    safe.join(", ")
}

fn column_width(names: impl Iterator<Item = usize>) -> usize {
    names.max().unwrap_or(0).max(7) + 6
}

fn variable_line(out: &mut String, name: &str, v: &Variable, is_index: bool, col: usize) {
    let marker = if is_index { "  * " } else { "    " };
    let head = format!("{marker}{}", plain(name));
    let dims = if v.dims().is_empty() {
        String::new()
    } else {
        format!("({}) ", safe_names(v.dims()))
    };
    let mut line = format!(
        "{head:<col$}{dims}{} {} ",
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
        let key = format!("{}:", plain(k));
        let line = format!("    {key:<col$} {}", plain(&v.to_string()));
        let _ = writeln!(out, "{}", truncate(&line, WIDTH));
    }
}

fn coords_section(
    out: &mut String,
    coords: &[(String, Variable)],
    multi: &[(String, Vec<String>)],
    col: usize,
) {
    if coords.is_empty() {
        return;
    }
    out.push_str("Coordinates:\n");
    for (dim, levels) in multi {
        let dim = plain(dim);
        let head = format!("  * {dim}");
        let _ = writeln!(
            out,
            "{head:<col$}({dim}) MultiIndex[{}]",
            safe_names(levels)
        );
    }
    for (name, c) in coords {
        let is_level = multi.iter().any(|(_, levels)| levels.contains(name));
        let is_index = is_level || (c.dims().len() == 1 && c.dims()[0] == *name);
        variable_line(out, name, c, is_index, col);
    }
}

/// The file's variables of types geoxr does not read: name, dimensions, type.
fn unread_section(out: &mut String, unread: &[Unread], col: usize) {
    if unread.is_empty() {
        return;
    }
    out.push_str("Not read (types geoxr does not read yet):\n");
    for u in unread {
        let head = format!("    {}", plain(&u.name));
        let line = format!("{head:<col$}({}) {}", safe_names(&u.dims), plain(&u.kind));
        let _ = writeln!(out, "{}", truncate(&line, WIDTH));
    }
}

fn sizes_inline(sizes: &Sizes) -> String {
    let parts: Vec<String> = sizes
        .iter()
        .map(|(d, n)| format!("{}: {n}", plain(d)))
        .collect();
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
        .map(|(n, _)| n.len())
        .chain(ds.unread().iter().map(|u| u.name.len()));
    let col = column_width(names);
    let _ = writeln!(out, "{:<col$}{}", "Dimensions:", sizes_inline(ds.dims()));
    coords_section(&mut out, ds.coords(), &[], col);
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
            safe_names(&without)
        );
    }
    out.push_str("Data variables:\n");
    if ds.data_vars().is_empty() {
        out.push_str("    *empty*\n");
    }
    for (name, v) in ds.data_vars() {
        variable_line(&mut out, name, v, false, col);
    }
    unread_section(&mut out, ds.unread(), col);
    attrs_section(&mut out, ds.attrs());
    out.trim_end().to_owned()
}

/// What a failed array shows: the step that failed and its error, as an exception
/// under a cell (`None` for an array that did not fail).
pub(crate) fn failure_text(da: &DataArray) -> Option<String> {
    let error = da.error()?;
    let step = da.failed_step().unwrap_or("a step");
    Some(format!("geoxr error in {}: {error}", plain(step)))
}

/// The text representation of a data array.
pub(crate) fn dataarray_text(da: &DataArray) -> String {
    if let Some(text) = failure_text(da) {
        return text;
    }
    let mut out = String::new();
    let name = da
        .name()
        .map(|n| format!(" '{}'", plain(n)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<geoxr.DataArray{name} {}> Size: {}",
        sizes_inline(&da.variable().sizes()),
        human_bytes(da.variable().nbytes())
    );
    let _ = writeln!(
        out,
        "{} {}",
        da.dtype(),
        values_column(da.variable(), WIDTH)
    );
    let col = column_width(da.coords().iter().map(|(n, _)| n.len()));
    coords_section(&mut out, da.coords(), da.multi_indexes(), col);
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

impl fmt::Display for crate::Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let memory = match self.memory_limit_total() {
            Some(total) => format!(
                "{} per worker, {} in all",
                human_bytes((total / self.workers() as u64) as usize),
                human_bytes(total as usize)
            ),
            None => "no limit".into(),
        };
        write!(
            f,
            "<geoxr.Client>\nWorkers: {}, threads per worker: {}, threads: {}\nMemory: {memory}\nScheduler: {}",
            self.workers(),
            self.threads() / self.workers(),
            self.threads(),
            self.mpi_scheduler()
                .unwrap_or_else(|| "threads in this kernel (no dashboard)".into())
        )
    }
}

impl fmt::Display for crate::Resample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bins = match self.bins() {
            Ok(bins) => bins,
            Err(_) => return f.write_str(&dataarray_text(self.array())),
        };
        write!(f, "<geoxr.Resample> {} bins", bins.len())?;
        if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
            write!(
                f,
                " labelled {} ... {}",
                first.0.date_string(),
                last.0.date_string()
            )?;
        }
        f.write_str("; reduce with .mean(), .sum(), .std(), ...")
    }
}
