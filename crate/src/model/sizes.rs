//! `Sizes`: dimension names with their lengths, in order.

use std::fmt;

/// Dimension names and lengths, in order: what xarray shows as `.sizes` / `.dims`.
///
/// ```
/// use geoxr::Sizes;
/// let s = Sizes::from_pairs([("time".to_string(), 303), ("lon".to_string(), 550)]);
/// assert_eq!(s.get("lon"), Some(550));
/// assert_eq!(s.to_string(), "{time: 303, lon: 550}");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes(Vec<(String, usize)>);

impl Sizes {
    /// From name-length pairs, in order.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, usize)>) -> Sizes {
        Sizes(pairs.into_iter().collect())
    }

    /// Length of a dimension.
    pub fn get(&self, dim: &str) -> Option<usize> {
        self.0.iter().find(|(d, _)| d == dim).map(|(_, n)| *n)
    }

    /// Names and lengths, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        self.0.iter().map(|(d, n)| (d.as_str(), *n))
    }

    /// Names, in order.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|(d, _)| d.clone()).collect()
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds a dimension at the end, unless it is present; reports a clash of lengths
    /// as `Err(existing length)`.
    pub(crate) fn insert(&mut self, dim: &str, len: usize) -> Result<(), usize> {
        match self.get(dim) {
            Some(n) if n != len => Err(n),
            Some(_) => Ok(()),
            None => {
                self.0.push((dim.to_owned(), len));
                Ok(())
            }
        }
    }
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (d, n)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            // Names come from files: escaped so they cannot break lines or script
            // the notebook (see `base::text`).
            write!(f, "{}: {n}", crate::base::text::plain(d))?;
        }
        f.write_str("}")
    }
}
