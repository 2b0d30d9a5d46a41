//! Attributes: the small named values that files attach to variables and datasets.

use std::fmt;

/// One attribute value, typed as the file stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Text(String),
    Texts(Vec<String>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl AttrValue {
    /// The value as text, if it is text: a `char` attribute, or a single NC_STRING
    /// (what h5py and many tools write for `units` or `calendar`).
    ///
    /// ```
    /// use geoxr::AttrValue;
    /// assert_eq!(AttrValue::Texts(vec!["noleap".into()]).as_str(), Some("noleap"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Texts(v) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }

    /// The first number, as `f64`, if the value is numeric and not empty.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Text(_) | AttrValue::Texts(_) => None,
            AttrValue::I8(v) => v.first().map(|x| *x as f64),
            AttrValue::U8(v) => v.first().map(|x| *x as f64),
            AttrValue::I16(v) => v.first().map(|x| *x as f64),
            AttrValue::U16(v) => v.first().map(|x| *x as f64),
            AttrValue::I32(v) => v.first().map(|x| *x as f64),
            AttrValue::U32(v) => v.first().map(|x| *x as f64),
            AttrValue::I64(v) => v.first().map(|x| *x as f64),
            AttrValue::U64(v) => v.first().map(|x| *x as f64),
            AttrValue::F32(v) => v.first().map(|x| *x as f64),
            AttrValue::F64(v) => v.first().copied(),
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, v: &[T]) -> fmt::Result {
            if v.len() == 1 {
                return write!(f, "{}", v[0]);
            }
            f.write_str("[")?;
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str("]")
        }
        match self {
            AttrValue::Text(s) => f.write_str(s),
            AttrValue::Texts(v) => list(f, v),
            AttrValue::I8(v) => list(f, v),
            AttrValue::U8(v) => list(f, v),
            AttrValue::I16(v) => list(f, v),
            AttrValue::U16(v) => list(f, v),
            AttrValue::I32(v) => list(f, v),
            AttrValue::U32(v) => list(f, v),
            AttrValue::I64(v) => list(f, v),
            AttrValue::U64(v) => list(f, v),
            AttrValue::F32(v) => list(f, v),
            AttrValue::F64(v) => list(f, v),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Text(s.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Text(s)
    }
}

/// Named attributes in the order the file lists them.
///
/// ```
/// use geoxr::Attrs;
/// let mut a = Attrs::default();
/// a.set("units", "mm");
/// assert_eq!(a.get("units").and_then(|v| v.as_str()), Some("mm"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attrs(Vec<(String, AttrValue)>);

impl Attrs {
    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets an attribute, replacing any value of the same name in place.
    pub fn set(&mut self, name: &str, value: impl Into<AttrValue>) {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// Removes an attribute and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<AttrValue> {
        let pos = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.remove(pos).1)
    }

    /// The attributes in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
