//! `open_mfdataset`: many files joined into one lazy dataset by their coordinates.
//!
//! The files are ordered by the values of the coordinate they are joined along (not
//! by name); every other coordinate must agree exactly; every file must hold the same
//! variables. Each file becomes one chunk of each joined variable.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use rayon::prelude::*;

use super::files::{default_capacity, Identity};
use super::options::OpenOptions;
use super::read::{read_file, FileDataset, Files};
use crate::error::{Error, Result};
use crate::model::{ArrayData, CfDateTime, ChunkedArray, Data, Dataset, Variable};

/// Opens every file matching a glob pattern as one lazy `Dataset`, joined along the
/// coordinate whose values differ between files (the unlimited `time`, typically).
///
/// Variables without the joined dimension are taken from the first file. When files
/// disagree on the calendar of their times, each time keeps its year-month-day and is
/// re-expressed in the calendar of the first file (by name).
///
/// ```no_run
/// let imerg = geoxr::open_mfdataset("../data/IMERG/3B-DAY.MS.MRG.3IMERG.2018*.nc4")?;
/// assert_eq!(imerg.dims().get("time"), Some(303));
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn open_mfdataset(pattern: &str) -> Result<Dataset> {
    open_many(pattern, &OpenOptions::new())
}

/// `open_mfdataset` with options.
pub(crate) fn open_many(pattern: &str, options: &OpenOptions) -> Result<Dataset> {
    let paths = glob_paths(pattern)?;
    let handles = Arc::new(Files::new(options.get_engine(), default_capacity()));
    let files = paths
        .par_iter()
        .map(|p| read_file(p, &handles, options))
        .collect::<Result<Vec<_>>>()?;
    combine_by_coords(files)
}

fn glob_paths(pattern: &str) -> Result<Vec<PathBuf>> {
    let entries = glob::glob(pattern).map_err(|e| Error::BadPattern {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::File {
            path: e.path().to_owned(),
            reason: e.error().to_string(),
        })?;
        Identity::of(&path)?;
        paths.push(path);
    }
    if paths.is_empty() {
        return Err(Error::NoFilesMatch {
            pattern: pattern.to_owned(),
        });
    }
    paths.sort();
    Ok(paths)
}

/// A label along the joined dimension, comparable across files.
fn labels(v: &Variable) -> Vec<f64> {
    v.values().map(ArrayData::to_f64_vec).unwrap_or_default()
}

fn label_text(v: &Variable, i: usize) -> String {
    match v.values() {
        Some(a) => match a.as_times() {
            Some(t) => t[i].to_string(),
            None => a.get_f64(i).map(|x| x.to_string()).unwrap_or_default(),
        },
        None => String::new(),
    }
}

fn coord<'a>(ds: &'a Dataset, name: &str) -> Option<&'a Variable> {
    ds.coords().iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn combine_by_coords(mut files: Vec<FileDataset>) -> Result<Dataset> {
    if files.len() == 1 {
        return Ok(files.remove(0).dataset);
    }
    let first = &files[0];
    let joined = join_dim(&files)?;
    // Every coordinate other than the joined one must agree exactly.
    for (name, c) in first.dataset.coords() {
        if *name == joined || c.dims().contains(&joined) {
            continue;
        }
        for other in &files[1..] {
            let oc = coord(&other.dataset, name).ok_or_else(|| Error::MissingInFile {
                variable: name.clone(),
                path: other.path.clone(),
                reference: first.path.clone(),
            })?;
            check_same_grid(name, c, oc, &first.path, &other.path)?;
        }
    }
    same_variables(&files)?;
    harmonise_calendars(&mut files, &joined)?;

    // Order by the first label along the joined dimension, then forbid overlap.
    let first_label = |f: &FileDataset| {
        coord(&f.dataset, &joined)
            .and_then(|c| c.values()?.get_f64(0))
            .unwrap_or(f64::NAN)
    };
    let mut keyed: Vec<(f64, FileDataset)> =
        files.into_iter().map(|f| (first_label(&f), f)).collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let files: Vec<FileDataset> = keyed.into_iter().map(|(_, f)| f).collect();
    for pair in files.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (ca, cb) = (coord(&a.dataset, &joined), coord(&b.dataset, &joined));
        let (Some(ca), Some(cb)) = (ca, cb) else {
            continue;
        };
        let (la, lb) = (labels(ca), labels(cb));
        if let (Some(last), Some(next)) = (la.last(), lb.first()) {
            if last >= next {
                return Err(Error::DuplicateLabel {
                    dim: joined.clone(),
                    label: label_text(cb, 0),
                    first: a.path.clone(),
                    other: b.path.clone(),
                });
            }
        }
    }

    let reference = &files[0].dataset;
    let mut coords = Vec::new();
    for (name, c) in reference.coords() {
        if *name == joined {
            let parts: Vec<&Variable> = files
                .iter()
                .filter_map(|f| coord(&f.dataset, name))
                .collect();
            coords.push((name.clone(), concat_in_memory(&parts, &files[0].path)?));
        } else if c.dims().contains(&joined) {
            // A coordinate that is not an index but runs along the joined dimension
            // (CF `coordinates`, such as a forecast period per time) is joined lazily.
            let joined_coord = join_lazy(&files, name, c, &joined, Dataset::coords)?;
            coords.push((name.clone(), joined_coord));
        } else {
            coords.push((name.clone(), c.clone()));
        }
    }
    let mut data_vars = Vec::new();
    for (name, v) in reference.data_vars() {
        if !v.dims().contains(&joined) {
            data_vars.push((name.clone(), v.clone()));
            continue;
        }
        let var = join_lazy(&files, name, v, &joined, Dataset::data_vars)?;
        data_vars.push((name.clone(), var));
    }
    Dataset::new(coords, data_vars, reference.attrs().clone()).map(|ds| {
        ds.with_dim_order(&reference.dims().names())
            .with_unread(reference.unread().to_vec())
    })
}

/// The variable `name` of every file (found by `list`, the data variables or the
/// coordinates), joined lazily along `joined`; `v` is the first file's.
fn join_lazy(
    files: &[FileDataset],
    name: &str,
    v: &Variable,
    joined: &str,
    list: fn(&Dataset) -> &[(String, Variable)],
) -> Result<Variable> {
    let axis = v.dims().iter().position(|d| d == joined).unwrap_or(0);
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let fv = list(&f.dataset)
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::MissingInFile {
                variable: name.to_owned(),
                path: f.path.clone(),
                reference: files[0].path.clone(),
            })?;
        if fv.dims() != v.dims() {
            return Err(Error::FileVariable {
                path: f.path.clone(),
                variable: name.to_owned(),
                reason: format!(
                    "dimensions ({}) differ from ({}) in {}",
                    fv.dims().join(", "),
                    v.dims().join(", "),
                    files[0].path.display()
                ),
            });
        }
        match fv.data() {
            Data::Lazy(c) => parts.push(c.clone()),
            Data::InMemory(_) => {
                return Err(Error::FileVariable {
                    path: f.path.clone(),
                    variable: name.to_owned(),
                    reason: "expected a lazy variable".into(),
                })
            }
        }
    }
    let joined_data = ChunkedArray::concat(&parts, axis).map_err(|e| Error::FileVariable {
        path: files[0].path.clone(),
        variable: name.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(Variable::new(v.dims().to_vec(), Data::Lazy(joined_data))?
        .with_attrs(v.attrs().clone())
        .with_encoding(v.encoding().clone()))
}

/// The dimension to join along: the unlimited dimension with a coordinate when there
/// is one, otherwise the only coordinate whose values differ between files.
fn join_dim(files: &[FileDataset]) -> Result<String> {
    let first = &files[0];
    for u in &first.unlimited {
        if coord(&first.dataset, u).is_some() {
            return Ok(u.clone());
        }
    }
    let differing: Vec<String> = first
        .dataset
        .coords()
        .iter()
        .filter(|(name, c)| {
            files[1..]
                .iter()
                .any(|f| coord(&f.dataset, name).map(labels) != Some(labels(c)))
        })
        .map(|(n, _)| n.clone())
        .collect();
    match differing.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::invalid(
            format!("combining {} files", files.len()),
            "no coordinate differs between the files, so there is nothing to join along",
        )),
        many => Err(Error::invalid(
            format!("combining {} files", files.len()),
            format!(
                "several coordinates differ between files ({}); expected one",
                many.join(", ")
            ),
        )),
    }
}

fn check_same_grid(name: &str, a: &Variable, b: &Variable, pa: &Path, pb: &Path) -> Result<()> {
    let mismatch = |detail: String| Error::GridMismatch {
        dim: name.to_owned(),
        first: pa.to_owned(),
        other: pb.to_owned(),
        detail,
    };
    let (la, lb) = (labels(a), labels(b));
    if la.len() != lb.len() {
        return Err(mismatch(format!(
            "{} values against {}",
            lb.len(),
            la.len()
        )));
    }
    if let Some(i) = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y && !(x.is_nan() && y.is_nan()))
    {
        return Err(mismatch(format!(
            "value {i} is {} against {}",
            lb[i], la[i]
        )));
    }
    Ok(())
}

fn same_variables(files: &[FileDataset]) -> Result<()> {
    let reference = &files[0];
    let names = |f: &FileDataset| -> Vec<String> {
        f.dataset
            .data_vars()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    };
    let ref_names = names(reference);
    for f in &files[1..] {
        let these = names(f);
        if let Some(missing) = ref_names.iter().find(|n| !these.contains(n)) {
            return Err(Error::MissingInFile {
                variable: missing.clone(),
                path: f.path.clone(),
                reference: reference.path.clone(),
            });
        }
        if let Some(extra) = these.iter().find(|n| !ref_names.contains(n)) {
            return Err(Error::MissingInFile {
                variable: extra.clone(),
                path: reference.path.clone(),
                reference: f.path.clone(),
            });
        }
    }
    Ok(())
}

/// Re-expresses times of other calendars in the first file's calendar, date by date.
fn harmonise_calendars(files: &mut [FileDataset], joined: &str) -> Result<()> {
    let Some(calendar) = coord(&files[0].dataset, joined).and_then(|c| match c.dtype() {
        crate::model::DType::Time(cal) => Some(cal),
        _ => None,
    }) else {
        return Ok(());
    };
    for f in files.iter_mut() {
        let Some(c) = coord(&f.dataset, joined) else {
            continue;
        };
        let Some(times) = c.values().and_then(ArrayData::as_times) else {
            continue;
        };
        if times.iter().all(|t| t.calendar() == calendar) {
            continue;
        }
        let mut seconds = Vec::with_capacity(times.len());
        for t in times {
            if t.is_nat() {
                // A missing time stays missing in any calendar.
                seconds.push(crate::model::NAT);
                continue;
            }
            let (y, m, d) = t.ymd();
            let (h, mi, s) = t.hms();
            if d > calendar.days_in_month(y, m) {
                return Err(Error::FileVariable {
                    path: f.path.clone(),
                    variable: joined.to_owned(),
                    reason: format!(
                        "{t} does not exist in the {calendar} calendar of the other files"
                    ),
                });
            }
            seconds.push(CfDateTime::from_ymd_hms(calendar, y, m, d, h, mi, s).seconds());
        }
        let array = ndarray::ArrayD::from_shape_vec(c.shape().to_vec(), seconds)
            .map_err(|e| Error::invalid(joined, e.to_string()))?;
        let new = c.with_data(ArrayData::Time(array, calendar))?;
        let coords: Vec<(String, Variable)> = f
            .dataset
            .coords()
            .iter()
            .map(|(n, v)| (n.clone(), if n == joined { new.clone() } else { v.clone() }))
            .collect();
        f.dataset = f
            .dataset
            .with_variables(coords, f.dataset.data_vars().to_vec())?;
    }
    Ok(())
}

fn concat_in_memory(parts: &[&Variable], path: &Path) -> Result<Variable> {
    let arrays: Vec<&ArrayData> = parts.iter().filter_map(|v| v.values()).collect();
    let first = parts
        .first()
        .ok_or_else(|| Error::invalid("concat", "no parts"))?;
    let joined = ArrayData::concat(&arrays, 0).map_err(|e| Error::File {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(first.with_data_unchecked(joined))
}
