//! Naming dimensions in calls: one name, or several.

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
