//! Naming dimensions in calls: one name, or several; and the coordinates that
//! survive when dimensions go away.

use crate::model::Variable;

/// One or more dimension names: `"time"`, `["lat", "lon"]`, a `Vec` or a slice.
pub trait IntoDims {
    /// The names, in order.
    fn into_dims(self) -> Vec<String>;
}

impl IntoDims for &str {
    fn into_dims(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoDims for String {
    fn into_dims(self) -> Vec<String> {
        vec![self]
    }
}

impl<const N: usize> IntoDims for [&str; N] {
    fn into_dims(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}

impl IntoDims for &[&str] {
    fn into_dims(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}

impl IntoDims for Vec<&str> {
    fn into_dims(self) -> Vec<String> {
        self.into_iter().map(str::to_owned).collect()
    }
}

impl IntoDims for Vec<String> {
    fn into_dims(self) -> Vec<String> {
        self
    }
}

impl IntoDims for &[String] {
    fn into_dims(self) -> Vec<String> {
        self.to_vec()
    }
}

/// The coordinates that use none of `dims` (what is left after reducing or stacking
/// them).
pub(crate) fn coords_without(
    coords: &[(String, Variable)],
    dims: &[String],
) -> Vec<(String, Variable)> {
    coords
        .iter()
        .filter(|(_, c)| !c.dims().iter().any(|d| dims.contains(d)))
        .cloned()
        .collect()
}
