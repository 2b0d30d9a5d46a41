//! Small formatting helpers shared by the text and HTML representations: numbers as
//! Python's `{:.4}` shows them, byte sizes as xarray shows them, value previews.

use crate::model::{ArrayData, ChunkedArray, Data, Variable};

/// A float as Python's `format(x, ".{precision}")`: like `g`, but fixed notation keeps
/// at least one digit after the point, and so switches to scientific one power sooner.
pub(crate) fn general(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let precision = precision.max(1);
    let sci = format!("{:.*e}", precision - 1, x);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 - 1 {
        let mantissa = trim_zeros(mantissa, false);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}"), true)
    }
}

fn trim_zeros(s: &str, keep_one: bool) -> String {
    if !s.contains('.') {
        return if keep_one {
            format!("{s}.0")
        } else {
            s.to_owned()
        };
    }
    let t = s.trim_end_matches('0');
    match (t.strip_suffix('.'), keep_one) {
        (Some(_), true) => format!("{t}0"),
        (Some(stripped), false) => stripped.to_owned(),
        (None, _) => t.to_owned(),
    }
}

/// Bytes as xarray prints them: decimal units, no decimals (`334MB`, `2kB`).
pub(crate) fn human_bytes(n: usize) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = n as f64;
    let mut unit = UNITS[0];
    for (i, u) in UNITS.iter().enumerate() {
        unit = u;
        if value < 1000.0 || i == UNITS.len() - 1 {
            break;
        }
        value /= 1000.0;
    }
    format!("{value:.0}{unit}")
}

/// `(a, b, c)` as a Python tuple prints.
pub(crate) fn tuple(values: &[usize]) -> String {
    let parts: Vec<String> = values.iter().map(usize::to_string).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// One element as text.
fn element(data: &ArrayData, i: usize, dates_only: bool) -> String {
    if let ArrayData::Time(a, c) = data {
        let seconds = a.iter().nth(i).copied().unwrap_or(0);
        let t = crate::model::CfDateTime::from_seconds(*c, seconds);
        return if dates_only {
            t.date_string()
        } else {
            t.to_string()
        };
    }
    let v = data.get_f64(i).unwrap_or(f64::NAN);
    if data.dtype().is_float() {
        general(v, 4)
    } else {
        format!("{v}")
    }
}

/// The first and last few values, fitting in `width` characters:
/// `-84.95 -84.85 -84.75 ... -30.15 -30.05`.
pub(crate) fn preview(data: &ArrayData, width: usize) -> String {
    let n: usize = data.shape().iter().product();
    if n == 0 {
        return "[]".into();
    }
    let dates_only = match data {
        ArrayData::Time(a, _) => a
            .iter()
            .all(|s| *s == crate::NAT || s.rem_euclid(86_400) == 0),
        _ => false,
    };
    let mut front: Vec<String> = Vec::new();
    let mut back: Vec<String> = Vec::new();
    let mut used = 0;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let take_front = front.len() <= back.len();
        let i = if take_front { lo } else { hi - 1 };
        let s = element(data, i, dates_only);
        let extra = if lo + 1 < hi { 4 } else { 0 };
        if used + s.len() + 1 + extra > width && !(front.is_empty() && back.is_empty()) {
            break;
        }
        used += s.len() + 1;
        if take_front {
            front.push(s);
            lo += 1;
        } else {
            back.push(s);
            hi -= 1;
        }
    }
    back.reverse();
    let mut out = front.join(" ");
    if lo < hi {
        out.push_str(" ...");
    }
    if !back.is_empty() {
        out.push(' ');
        out.push_str(&back.join(" "));
    }
    out
}

/// What a lazy array is made of, as one line.
pub(crate) fn lazy_summary(lazy: &ChunkedArray) -> String {
    let kind = if lazy.is_persisted() {
        "persisted"
    } else {
        "lazy"
    };
    format!(
        "{kind}<chunksize={}, chunks={}>",
        tuple(&lazy.chunk_shape()),
        lazy.chunks().len()
    )
}

/// The value column of a variable's line: a preview, or the lazy summary.
pub(crate) fn values_column(v: &Variable, width: usize) -> String {
    match v.data() {
        Data::InMemory(a) => preview(a, width),
        Data::Lazy(lazy) => lazy_summary(lazy),
    }
}

/// Cuts text to `width` characters, marking the cut with `...`.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    let one_line = text.replace('\n', "\\n");
    if one_line.chars().count() <= width {
        return one_line;
    }
    let kept: String = one_line.chars().take(width.saturating_sub(3)).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_matches_python() {
        // Reference strings from CPython 3.11's format(x, ".4").
        assert_eq!(general(-84.95, 4), "-84.95");
        assert_eq!(general(-84.74999237060547, 4), "-84.75");
        assert_eq!(general(14.95, 4), "14.95");
        assert_eq!(general(550.0, 4), "550.0");
        assert_eq!(general(1234.56, 4), "1.235e+03");
        assert_eq!(general(123.456, 4), "123.5");
        assert_eq!(general(0.0001234, 4), "0.0001234");
        assert_eq!(general(0.00001234, 4), "1.234e-05");
        assert_eq!(general(2.0, 4), "2.0");
        assert_eq!(general(f64::NAN, 4), "nan");
    }

    #[test]
    fn bytes_like_xarray() {
        assert_eq!(human_bytes(2200), "2kB");
        assert_eq!(human_bytes(333_957_000), "334MB");
        assert_eq!(human_bytes(12), "12B");
    }
}
