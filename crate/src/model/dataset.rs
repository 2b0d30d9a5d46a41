//! `Dataset`: named variables sharing dimensions and coordinates.

use std::path::PathBuf;

use super::attrs::Attrs;
use super::dataarray::DataArray;
use super::sizes::Sizes;
use super::variable::Variable;
use crate::error::{Error, Result};

/// Variables on shared dimensions: xarray's `Dataset`.
///
/// ```
/// use geoxr::{ArrayData, Attrs, Dataset, Variable};
/// use geoxr::ndarray::ArrayD;
/// let rain = Variable::new(["time"], ArrayData::from(ArrayD::<f32>::zeros(vec![3])))?;
/// let ds = Dataset::new(vec![], vec![("rain".into(), rain)], Attrs::default())?;
/// assert_eq!(ds.get("rain").sizes()?.get("time"), Some(3));
/// assert!(ds.get("snow").check().is_err());
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    sizes: Sizes,
    coords: Vec<(String, Variable)>,
    data_vars: Vec<(String, Variable)>,
    attrs: Attrs,
    unread: Vec<Unread>,
}

/// A variable of a file whose element type geoxr cannot hold yet (variable-length
/// strings, character arrays, compound, opaque and vlen types). A dataset keeps
/// the list, shows it under "Not read", and [`Dataset::get`] of one of them is an error
/// that names the variable, its type and the file: nothing in a file is dropped
/// without a word.
///
/// ```
/// use geoxr::{Attrs, Dataset, Unread};
/// let ds = Dataset::new(vec![], vec![], Attrs::default())?.with_unread(vec![Unread {
///     name: "station".into(),
///     dims: vec!["lat".into()],
///     kind: "string".into(),
///     file: "cf.nc".into(),
/// }]);
/// let err = ds.get("station").check().unwrap_err().to_string();
/// assert!(err.contains("cf.nc") && err.contains("string"), "{err}");
/// # Ok::<(), geoxr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// The variable's name.
    pub name: String,
    /// Its dimensions, in order.
    pub dims: Vec<String>,
    /// Its type in the file, in words: `string`, `char`, `compound pair_t`, ...
    pub kind: String,
    /// The file it is in.
    pub file: PathBuf,
}

impl Dataset {
    /// A dataset from coordinates and data variables; dimensions of the same name
    /// must have the same length everywhere.
    pub fn new(
        coords: Vec<(String, Variable)>,
        data_vars: Vec<(String, Variable)>,
        attrs: Attrs,
    ) -> Result<Dataset> {
        let mut sizes = Sizes::default();
        for (name, v) in coords.iter().chain(&data_vars) {
            for (d, n) in v.sizes().iter() {
                if let Err(m) = sizes.insert(d, n) {
                    return Err(Error::Shape {
                        what: format!("variable `{name}` along `{d}`"),
                        expected: vec![m],
                        found: vec![n],
                    });
                }
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in coords.iter().chain(&data_vars) {
            if seen.contains(&name.as_str()) {
                return Err(Error::invalid(format!("variable `{name}`"), "named twice"));
            }
            seen.push(name);
        }
        Ok(Dataset {
            sizes,
            coords,
            data_vars,
            attrs,
            unread: Vec::new(),
        })
    }

    /// The same dataset, recording variables of its file that were not read (see
    /// [`Unread`]); a name that is also a variable here is not recorded.
    pub fn with_unread(mut self, unread: Vec<Unread>) -> Dataset {
        let names = self.names();
        self.unread = unread
            .into_iter()
            .filter(|u| !names.contains(&u.name))
            .collect();
        self
    }

    /// The same dataset with its dimensions in this order (as xarray orders a file's:
    /// by first use in the file's variables); dimensions not named keep their order,
    /// after those named, and names that are not dimensions are skipped.
    pub(crate) fn with_dim_order(mut self, order: &[String]) -> Dataset {
        let mut pairs: Vec<(String, usize)> = Vec::with_capacity(self.sizes.len());
        for d in order {
            if let (Some(n), false) = (self.sizes.get(d), pairs.iter().any(|(p, _)| p == d)) {
                pairs.push((d.clone(), n));
            }
        }
        for (d, n) in self.sizes.iter() {
            if !pairs.iter().any(|(p, _)| p == d) {
                pairs.push((d.to_owned(), n));
            }
        }
        self.sizes = Sizes::from_pairs(pairs);
        self
    }

    /// The variables of the file that geoxr did not read, in file order.
    pub fn unread(&self) -> &[Unread] {
        &self.unread
    }

    /// The same attributes around other variables (dimensions are recomputed, those
    /// that remain in their order here); the unread variables whose dimensions all
    /// remain are still listed.
    pub(crate) fn with_variables(
        &self,
        coords: Vec<(String, Variable)>,
        data_vars: Vec<(String, Variable)>,
    ) -> Result<Dataset> {
        let out = Dataset::new(coords, data_vars, self.attrs.clone())?
            .with_dim_order(&self.sizes.names());
        let unread = self
            .unread
            .iter()
            .filter(|u| u.dims.iter().all(|d| out.sizes.get(d).is_some()))
            .cloned()
            .collect();
        Ok(out.with_unread(unread))
    }

    /// Dimension names and lengths.
    pub fn dims(&self) -> &Sizes {
        &self.sizes
    }

    /// Coordinate variables, in order.
    pub fn coords(&self) -> &[(String, Variable)] {
        &self.coords
    }

    /// Data variables, in order.
    pub fn data_vars(&self) -> &[(String, Variable)] {
        &self.data_vars
    }

    /// Global attributes.
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// Names of all variables, coordinates first.
    pub fn names(&self) -> Vec<String> {
        self.coords
            .iter()
            .chain(&self.data_vars)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Total bytes of all variables once in memory.
    pub fn nbytes(&self) -> usize {
        self.coords
            .iter()
            .chain(&self.data_vars)
            .map(|(_, v)| v.nbytes())
            .sum()
    }

    /// A variable (data variable or coordinate) as a `DataArray` with the coordinates
    /// that label its dimensions: xarray's `ds["name"]`. A name the dataset lacks
    /// gives a failed array whose error lists the names it has (see [`DataArray`]).
    pub fn get(&self, name: &str) -> DataArray {
        self.try_get(name)
            .unwrap_or_else(|e| DataArray::failed(format!("get({name})"), e))
    }

    fn try_get(&self, name: &str) -> Result<DataArray> {
        let variable = self
            .data_vars
            .iter()
            .chain(&self.coords)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| match self.unread.iter().find(|u| u.name == name) {
                Some(u) => Error::FileVariable {
                    path: u.file.clone(),
                    variable: u.name.clone(),
                    reason: format!(
                        "its type is {}, which geoxr does not read yet (it is listed \
                         under \"Not read\" in the dataset)",
                        u.kind
                    ),
                },
                None => Error::NoSuchVariable {
                    name: name.to_owned(),
                    available: self.names(),
                },
            })?;
        let coords = self
            .coords
            .iter()
            .filter(|(_, c)| c.dims().iter().all(|d| variable.dims().contains(d)))
            .cloned()
            .collect();
        DataArray::new(Some(name), variable, coords)
    }
}
