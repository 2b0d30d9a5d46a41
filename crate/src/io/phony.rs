//! Names for the axes of HDF5 datasets that have no dimension scales (files written
//! by h5py and most HDF5 tools), chosen as libnetcdf chooses them, so that both
//! engines, and xarray, give a file the same dimensions.
//!
//! `netcdf-reader` names such an axis after its length (`dim_3`, then `dim_3_2` for
//! a second axis of that length in the same variable) and shares a name between the
//! variables of a group. libnetcdf numbers them instead: `phony_dim_N`, where `N`
//! counts every dimension of the file created before it. It first creates the
//! file's real dimensions, then walks the groups depth first, a group's subgroups
//! before its own variables, each in the file's order, and for each axis takes the
//! first dimension of the group of that length the variable does not use yet, or
//! creates the next one. The sharing rule is the same, so only the names need
//! mapping: each `netcdf-reader` name, met in libnetcdf's order, gets the next number.
//!
//! Checked against netCDF4-python (libnetcdf 4.9) on h5py files: plain datasets,
//! several axes of one length, groups, and a NetCDF-4 file that h5py added datasets
//! to (`engine_tests::phony_dimensions_are_named_as_libnetcdf_names_them`). One
//! difference is left: in such a mixed file, a dataset without scales in a subgroup
//! may take a same-length dimension inherited from above, where libnetcdf creates a
//! phony one, because the reader matches lengths against every visible dimension.

use std::collections::HashMap;

use netcdf_reader::NcGroup;

/// Deeper group trees than this keep `netcdf-reader`'s names (no real file nests so).
const MAX_DEPTH: usize = 64;

/// The libnetcdf names of a file's phony dimensions, by group path (`""` for the
/// root, `"a/b"` below it) and the name `netcdf-reader` gave.
#[derive(Debug, Default)]
pub(crate) struct PhonyNames(HashMap<(String, String), String>);

impl PhonyNames {
    /// Numbers the phony dimensions of the file whose root group is `root`.
    pub(crate) fn of(root: &NcGroup) -> PhonyNames {
        let mut next = real_dimensions(root, &[], 0);
        let mut names = HashMap::new();
        number(root, "", &[], 0, &mut next, &mut names);
        PhonyNames(names)
    }

    /// Whether any variable of `group` (whose ancestors are `above`, root first)
    /// has an axis that is not a declared dimension: only then are names needed.
    pub(crate) fn needed(group: &NcGroup, above: &[&NcGroup]) -> bool {
        group.variables.iter().any(|v| {
            v.dimensions
                .iter()
                .any(|d| !declared(&d.name, group, above))
        })
    }

    /// The name to show for dimension `name` of a variable in group `path`
    /// (`"a/b"`, with or without slashes around it).
    pub(crate) fn name<'a>(&'a self, path: &str, name: &'a str) -> &'a str {
        self.0
            .get(&(group_key(path), name.to_owned()))
            .map_or(name, String::as_str)
    }
}

/// The groups above the group at `path` (`"a/b"`), root first; empty for the root.
pub(crate) fn ancestors<'a>(root: &'a NcGroup, path: Option<&str>) -> Vec<&'a NcGroup> {
    let mut line = Vec::new();
    let mut at = root;
    for part in path.unwrap_or("").split('/').filter(|p| !p.is_empty()) {
        let Some(sub) = at.groups.iter().find(|g| g.name == part) else {
            break;
        };
        line.push(at);
        at = sub;
    }
    line
}

fn group_key(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    parts.join("/")
}

fn declared(name: &str, group: &NcGroup, above: &[&NcGroup]) -> bool {
    std::iter::once(group)
        .chain(above.iter().copied())
        .any(|g| g.dimensions.iter().any(|d| d.name == name))
}

/// The dimensions the file defines (a subgroup's list repeats those it inherits).
fn real_dimensions(group: &NcGroup, above: &[&NcGroup], depth: usize) -> usize {
    if depth > MAX_DEPTH {
        return 0;
    }
    let own = group
        .dimensions
        .iter()
        .filter(|d| {
            !above.iter().any(|g| {
                g.dimensions
                    .iter()
                    .any(|a| a.name == d.name && a.size == d.size)
            })
        })
        .count();
    let mut line: Vec<&NcGroup> = above.to_vec();
    line.push(group);
    own + group
        .groups
        .iter()
        .map(|g| real_dimensions(g, &line, depth + 1))
        .sum::<usize>()
}

fn number(
    group: &NcGroup,
    path: &str,
    above: &[&NcGroup],
    depth: usize,
    next: &mut usize,
    names: &mut HashMap<(String, String), String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut line: Vec<&NcGroup> = above.to_vec();
    line.push(group);
    for sub in &group.groups {
        number(
            sub,
            &group_key(&format!("{path}/{}", sub.name)),
            &line,
            depth + 1,
            next,
            names,
        );
    }
    for dim in group.variables.iter().flat_map(|v| &v.dimensions) {
        if declared(&dim.name, group, above) {
            continue;
        }
        let key = (path.to_owned(), dim.name.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(key) {
            slot.insert(format!("phony_dim_{next}"));
            *next += 1;
        }
    }
}
