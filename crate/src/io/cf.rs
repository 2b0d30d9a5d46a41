//! CF decoding in one place, following xarray 2026.9's decoders step by step:
//!
//! 1. `_Unsigned = "true"` reads signed integers as unsigned (and `"false"` the
//!    reverse); only `_FillValue` follows the new type, as in xarray.
//! 2. `_FillValue` and every `missing_value` become NaN (NaT for times). Values are
//!    first converted to the float type chosen below, then compared with the fill
//!    values at the wider of the two types: a `float64` `missing_value` of 0.1 does not
//!    mask a `float32` 0.1.
//! 3. `scale_factor` and `add_offset` are applied *in the chosen type*, so a `float32`
//!    result has the very bits xarray gives (`25 * 0.4f32 - 10f32` is exactly 0).
//! 4. `"<unit> since <date>"` variables become dates in their calendar; masked or
//!    non-finite times become NaT.
//!
//! The chosen type (xarray's `_choose_float_dtype`): with `scale_factor` and
//! `add_offset` of one float type, that type (`float64` for 32-bit integers); with an
//! `add_offset` otherwise, `float64`; with a `scale_factor` alone, its own type, even
//! an integer one; with masking alone, floats keep their type and integers become
//! `float32` up to 16 bits, `float64` above. Attributes consumed by decoding move to
//! the variable's encoding, as in xarray; `decode_times(false)` and
//! `mask_and_scale(false)` leave the matching steps (and attributes) alone.

use super::options::OpenOptions;
use crate::model::{
    with_array, with_storage_type, ArrayData, AttrValue, Attrs, Calendar, DType, TimeUnits, NAT,
};
use ndarray::ArrayD;

/// How far off a whole second a decoded time may fall before decoding checks that
/// rounding merges no distinct times: above float noise (2e-5 s at a million days
/// in float64), below any real sub-second step (a millisecond).
const SUB_SECOND: f64 = 1e-4;

/// A number from an attribute and the type the file stores it in.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Number {
    value: f64,
    dtype: DType,
}

impl Number {
    fn from_attr(name: &str, v: &AttrValue) -> Result<Number, String> {
        let dtype =
            attr_dtype(v).ok_or_else(|| format!("attribute `{name}` is text, not a number"))?;
        let value = v
            .as_f64()
            .ok_or_else(|| format!("attribute `{name}` is empty"))?;
        Ok(Number { value, dtype })
    }
}

fn attr_dtype(v: &AttrValue) -> Option<DType> {
    Some(match v {
        AttrValue::Text(_) | AttrValue::Texts(_) => return None,
        AttrValue::I8(_) => DType::I8,
        AttrValue::U8(_) => DType::U8,
        AttrValue::I16(_) => DType::I16,
        AttrValue::U16(_) => DType::U16,
        AttrValue::I32(_) => DType::I32,
        AttrValue::U32(_) => DType::U32,
        AttrValue::I64(_) => DType::I64,
        AttrValue::U64(_) => DType::U64,
        AttrValue::F32(_) => DType::F32,
        AttrValue::F64(_) => DType::F64,
    })
}

/// Every number of a (possibly vector) attribute, NaN dropped.
fn all_numbers(v: &AttrValue) -> Vec<f64> {
    fn each<T: Copy + Into<f64>>(x: &[T]) -> Vec<f64> {
        x.iter().map(|v| (*v).into()).collect()
    }
    let values = match v {
        AttrValue::Text(_) | AttrValue::Texts(_) => Vec::new(),
        AttrValue::I8(x) => each(x),
        AttrValue::U8(x) => each(x),
        AttrValue::I16(x) => each(x),
        AttrValue::U16(x) => each(x),
        AttrValue::I32(x) => each(x),
        AttrValue::U32(x) => each(x),
        AttrValue::I64(x) => x.iter().map(|v| *v as f64).collect(),
        AttrValue::U64(x) => x.iter().map(|v| *v as f64).collect(),
        AttrValue::F32(x) => each(x),
        AttrValue::F64(x) => x.clone(),
    };
    values.into_iter().filter(|v| !v.is_nan()).collect()
}

fn is_integer(d: DType) -> bool {
    !d.is_float() && !matches!(d, DType::Time(_))
}

/// The type `_Unsigned` turns `raw` into.
fn unsigned_view(raw: DType, unsigned: &str) -> DType {
    match (raw, unsigned.trim()) {
        (DType::I8, "true") => DType::U8,
        (DType::I16, "true") => DType::U16,
        (DType::I32, "true") => DType::U32,
        (DType::I64, "true") => DType::U64,
        (DType::U8, "false") => DType::I8,
        (DType::U16, "false") => DType::I16,
        (DType::U32, "false") => DType::I32,
        (DType::U64, "false") => DType::I64,
        _ => raw,
    }
}

/// A fill value read in the signedness `_Unsigned` gives.
fn reinterpret(value: f64, from: DType, to: DType) -> f64 {
    let v = value as i64;
    match (from, to) {
        (DType::I8, DType::U8) => f64::from(v as i8 as u8),
        (DType::I16, DType::U16) => f64::from(v as i16 as u16),
        (DType::I32, DType::U32) => f64::from(v as i32 as u32),
        (DType::I64, DType::U64) => v as u64 as f64,
        (DType::U8, DType::I8) => f64::from(value as u8 as i8),
        (DType::U16, DType::I16) => f64::from(value as u16 as i16),
        (DType::U32, DType::I32) => f64::from(value as u32 as i32),
        (DType::U64, DType::I64) => value as u64 as i64 as f64,
        _ => value,
    }
}

/// xarray's `_choose_float_dtype`: the type packed (or masked) values decode to.
fn choose_dtype(stored: DType, scale: Option<Number>, offset: Option<Number>) -> DType {
    match (scale, offset) {
        (Some(s), Some(o)) if s.dtype == o.dtype && s.dtype.is_float() => {
            if matches!(stored, DType::I32 | DType::U32) {
                DType::F64
            } else {
                s.dtype
            }
        }
        (_, Some(_)) => DType::F64,
        (Some(s), None) => s.dtype,
        (None, None) => promote(stored),
    }
}

/// xarray's `maybe_promote`: a type that can hold NaN.
fn promote(stored: DType) -> DType {
    match stored {
        DType::F32 | DType::F64 => stored,
        DType::I8 | DType::U8 | DType::I16 | DType::U16 => DType::F32,
        _ => DType::F64,
    }
}

/// netCDF's default fill value for a type, which marks never-written values.
fn default_fill(d: DType) -> Option<f64> {
    Some(match d {
        DType::I8 => -127.0,
        DType::U8 => 255.0,
        DType::I16 => -32_767.0,
        DType::U16 => 65_535.0,
        DType::I32 => -2_147_483_647.0,
        DType::U32 => 4_294_967_295.0,
        DType::F32 => f64::from(9.969_21e36_f32),
        DType::F64 => 9.969_209_968_386_869e36,
        _ => return None,
    })
}

/// The time step of decoding.
#[derive(Debug, Clone, PartialEq)]
struct TimeDecoding {
    units: TimeUnits,
    text: String,
    calendar: Calendar,
}

/// How to turn a variable's stored values into the values users see.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CfDecoding {
    /// The type in the file.
    stored: DType,
    /// The type after `_Unsigned`.
    viewed: DType,
    fills: Vec<f64>,
    scale: Option<Number>,
    offset: Option<Number>,
    time: Option<TimeDecoding>,
    output: DType,
}

const MASK_ATTRS: [&str; 5] = [
    "_FillValue",
    "missing_value",
    "scale_factor",
    "add_offset",
    "_Unsigned",
];

impl CfDecoding {
    /// Reads the decoding rules from a variable's attributes, with the steps `options`
    /// turns on (`decode_times`, `mask_and_scale`). See [`CfDecoding::from_attrs_with`].
    pub(crate) fn from_attrs(
        raw: DType,
        attrs: &Attrs,
        options: &OpenOptions,
    ) -> Result<(Self, Attrs, Attrs), String> {
        Self::from_attrs_with(
            raw,
            attrs,
            options.get_decode_times(),
            options.get_mask_and_scale(),
        )
    }

    /// Reads the decoding rules from a variable's attributes. Returns the rules, the
    /// attributes left for the user, and the encoding attributes; or a message saying
    /// which attribute cannot be decoded (for times: the units, the calendar, and that
    /// `decode_times(false)` opens the file anyway).
    pub(crate) fn from_attrs_with(
        raw: DType,
        attrs: &Attrs,
        decode_times: bool,
        mask_and_scale: bool,
    ) -> Result<(Self, Attrs, Attrs), String> {
        let mut kept = attrs.clone();
        let mut encoding = Attrs::default();
        if mask_and_scale {
            for name in MASK_ATTRS {
                if let Some(v) = kept.remove(name) {
                    encoding.set(name, v);
                }
            }
        }
        let unsigned = encoding.get("_Unsigned").and_then(AttrValue::as_str);
        let viewed = unsigned.map_or(raw, |u| unsigned_view(raw, u));
        let mut fills: Vec<f64> = encoding
            .get("_FillValue")
            .map(all_numbers)
            .unwrap_or_default()
            .into_iter()
            .map(|f| reinterpret(f, raw, viewed))
            .collect();
        fills.extend(
            encoding
                .get("missing_value")
                .map(all_numbers)
                .unwrap_or_default(),
        );
        fills.sort_by(f64::total_cmp);
        fills.dedup();
        let number = |name: &str| {
            encoding
                .get(name)
                .map(|v| Number::from_attr(name, v))
                .transpose()
        };
        let (scale, offset) = (number("scale_factor")?, number("add_offset")?);

        let time = if decode_times {
            time_decoding(&kept)?
        } else {
            None
        };
        let packed = scale.is_some() || offset.is_some();
        let output = match &time {
            Some(time) => {
                for name in ["units", "calendar"] {
                    if let Some(v) = kept.remove(name) {
                        encoding.set(name, v);
                    }
                }
                DType::Time(time.calendar)
            }
            None if packed => {
                let chosen = choose_dtype(viewed, scale, offset);
                // xarray fails on masked values with an integer scale; NaN needs a float.
                if is_integer(chosen) && (!fills.is_empty() || viewed.is_float()) {
                    DType::F64
                } else {
                    chosen
                }
            }
            None if !fills.is_empty() => promote(viewed),
            None => viewed,
        };
        let decoding = CfDecoding {
            stored: raw,
            viewed,
            fills,
            scale,
            offset,
            time,
            output,
        };
        Ok((decoding, kept, encoding))
    }

    /// The element type of decoded values.
    pub(crate) fn output(&self) -> DType {
        self.output
    }

    /// Decodes stored values; fails only for times that cannot be represented.
    pub(crate) fn decode(&self, raw: ArrayData) -> Result<ArrayData, String> {
        let raw = if self.viewed == raw.dtype() {
            raw
        } else {
            cast_ints(&raw, self.viewed)
        };
        if let Some(time) = &self.time {
            return self.decode_times(time, &raw);
        }
        let packed = self.scale.is_some() || self.offset.is_some();
        if !packed && self.fills.is_empty() && self.output == raw.dtype() {
            return Ok(raw);
        }
        match self.output {
            DType::F32 => {
                #[allow(clippy::unnecessary_cast)]
                let mut a = match raw {
                    ArrayData::F32(a) => a,
                    other => with_array!(&other, a => a.mapv(|x| x as f32)),
                };
                self.mask_scale_f32(contiguous(&mut a));
                Ok(ArrayData::F32(a))
            }
            DType::F64 => {
                #[allow(clippy::unnecessary_cast)]
                let mut a = match raw {
                    ArrayData::F64(a) => a,
                    other => with_array!(&other, a => a.mapv(|x| x as f64)),
                };
                self.mask_scale_f64(contiguous(&mut a));
                Ok(ArrayData::F64(a))
            }
            target => {
                // An integer scale_factor alone: integer arithmetic in its type,
                // wrapping as numpy does.
                let scale = self.scale.map_or(1, |s| s.value as i64);
                #[allow(clippy::unnecessary_cast)]
                let a = with_array!(&raw, a => a.mapv(|x| (x as i64).wrapping_mul(scale)));
                Ok(cast_ints(&ArrayData::I64(a), target))
            }
        }
    }

    /// Whether [`CfDecoding::decode_in_place`] can decode values where they were read:
    /// no times, and each decoded value as wide as the stored one (decoding that only
    /// reinterprets, or floats masked and scaled in their own type).
    pub(crate) fn in_place(&self) -> bool {
        let packed = self.scale.is_some() || self.offset.is_some();
        let untouched = !packed && self.fills.is_empty() && self.output == self.viewed;
        self.time.is_none()
            && self.stored.size() == self.viewed.size()
            && (untouched
                || (self.stored == self.viewed
                    && self.stored == self.output
                    && self.output.is_float()))
    }

    /// Decodes, in place, the bytes of stored values (this machine's byte order), which
    /// become the bytes of the decoded values; the same values as
    /// [`CfDecoding::decode`]. Only when [`CfDecoding::in_place`] says so.
    pub(crate) fn decode_in_place(&self, bytes: &mut [u8]) -> Result<(), String> {
        if !self.in_place() {
            return Err(format!("{} values cannot be decoded in place", self.stored));
        }
        let misaligned = |e: bytemuck::PodCastError| format!("cannot decode in place ({e:?})");
        match self.output {
            DType::F32 if self.output == self.stored => {
                self.mask_scale_f32(bytemuck::try_cast_slice_mut(bytes).map_err(misaligned)?);
            }
            DType::F64 if self.output == self.stored => {
                self.mask_scale_f64(bytemuck::try_cast_slice_mut(bytes).map_err(misaligned)?);
            }
            // Integers whose signedness `_Unsigned` changes keep their bits (`as`).
            _ => {}
        }
        Ok(())
    }

    fn mask_scale_f32(&self, values: &mut [f32]) {
        // A fill compared at float64 matches a float32 value only when the fill is
        // itself a float32 number, and then exactly when it equals it as float32.
        let fills: Vec<f32> = self
            .fills
            .iter()
            .filter(|f| f64::from(**f as f32) == **f)
            .map(|f| *f as f32)
            .collect();
        let scale = self.scale.map(|s| s.value as f32);
        let offset = self.offset.map(|o| o.value as f32);
        mask_scale(values, &fills, scale, offset, f32::NAN);
    }

    fn mask_scale_f64(&self, values: &mut [f64]) {
        let scale = self.scale.map(|s| s.value);
        let offset = self.offset.map(|o| o.value);
        mask_scale(values, &self.fills, scale, offset, f64::NAN);
    }

    /// Decodes times to whole seconds, refusing distinct values that fall within one
    /// second: rounding would merge them (0.25 s and 0.75 s) without a word.
    fn decode_times(&self, time: &TimeDecoding, raw: &ArrayData) -> Result<ArrayData, String> {
        let (scale, offset) = (
            self.scale.map_or(1.0, |s| s.value),
            self.offset.map_or(0.0, |o| o.value),
        );
        let default = default_fill(self.stored);
        let mut seconds = Vec::with_capacity(raw.shape().iter().product());
        let mut between_seconds = false;
        let values: Vec<f64> = raw
            .to_f64_vec()
            .into_iter()
            .map(|v| {
                if v.is_nan() || self.fills.contains(&v) {
                    f64::NAN
                } else {
                    v * scale + offset
                }
            })
            .collect();
        for (&v, &value) in raw.to_f64_vec().iter().zip(&values) {
            if value.is_nan() {
                seconds.push(NAT);
                continue;
            }
            between_seconds |= time.units.lost_fraction(value).abs() > SUB_SECOND;
            match time.units.decode(value) {
                Some(t) => seconds.push(t.seconds()),
                None if value.is_infinite() => seconds.push(NAT),
                None => {
                    let why = if Some(v) == default && self.fills.is_empty() {
                        format!(
                            " ({v} is netCDF's default fill value for {}, and the variable \
                             has no _FillValue attribute)",
                            self.stored
                        )
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "time value {value:?} in units `{}` (calendar `{}`) lies more than \
                         292 000 years from the reference date and cannot be decoded{why}; \
                         open the file with decode_times(false) to read the raw numbers",
                        time.text, time.calendar
                    ));
                }
            }
        }
        let merged = between_seconds
            .then(|| merged_by_rounding(&values, &time.units))
            .flatten();
        if let Some((a, b)) = merged {
            return Err(format!(
                "time values {a:?} and {b:?} in units `{}` (calendar `{}`) fall within one \
                 second, and geoxr's times hold whole seconds, so they would become one time; \
                 open the file with decode_times(false) to read the raw numbers",
                time.text, time.calendar
            ));
        }
        let array =
            ArrayD::from_shape_vec(raw.shape().to_vec(), seconds).map_err(|e| e.to_string())?;
        Ok(ArrayData::Time(array, time.calendar))
    }
}

/// Two distinct values that round to the same second, if any (NaN is skipped): a
/// time a few tenths off a second (float32 hours) is rounded to it, as the docs
/// say, but distinct times are never merged.
fn merged_by_rounding(values: &[f64], units: &TimeUnits) -> Option<(f64, f64)> {
    let mut rounded: Vec<(i64, f64)> = values
        .iter()
        .filter_map(|v| Some((units.decode(*v)?.seconds(), *v)))
        .collect();
    rounded.sort_by(|p, q| p.0.cmp(&q.0).then(p.1.total_cmp(&q.1)));
    rounded
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
        .map(|w| (w[0].1, w[1].1))
}

/// The time decoding a variable's `units` and `calendar` ask for, if any.
fn time_decoding(attrs: &Attrs) -> Result<Option<TimeDecoding>, String> {
    let Some(units) = attrs.get("units").and_then(AttrValue::as_str) else {
        return Ok(None);
    };
    if !units.contains(" since ") {
        return Ok(None);
    }
    let name = attrs
        .get("calendar")
        .and_then(AttrValue::as_str)
        .unwrap_or("standard");
    let hint = "open the file with decode_times(false) to read the raw numbers";
    let calendar = Calendar::parse(name).ok_or_else(|| {
        format!("time units `{units}` are in the unknown calendar `{name}`; {hint}")
    })?;
    let parsed = TimeUnits::parse(units, calendar).ok_or_else(|| {
        format!("cannot decode time units `{units}` in the `{name}` calendar; {hint}")
    })?;
    Ok(Some(TimeDecoding {
        units: parsed,
        text: units.to_owned(),
        calendar,
    }))
}

/// The names that CF `coordinates` attributes (each variable's, and the file's) list,
/// in order of first mention, without repeats: the variables xarray's
/// `decode_coords=True` makes coordinates. Names that are not variables of the file
/// are the caller's to skip.
pub(crate) fn coordinate_names<'a>(
    global: &'a Attrs,
    vars: impl IntoIterator<Item = &'a Attrs>,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let lists = vars.into_iter().chain(std::iter::once(global));
    for attrs in lists {
        let Some(list) = attrs.get("coordinates").and_then(AttrValue::as_str) else {
            continue;
        };
        for name in list.split_whitespace() {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The attributes of a CF bounds variable with the time `units` and `calendar` of
/// the variable whose `bounds` names it, where it has none of its own (CF 7.1; as
/// xarray does before decoding times). Unchanged when the parent is not a time.
pub(crate) fn with_parent_time(bounds: &Attrs, parent: &Attrs) -> Attrs {
    let mut out = bounds.clone();
    let Some(units) = parent
        .get("units")
        .filter(|u| u.as_str().is_some_and(|t| t.contains("since")))
    else {
        return out;
    };
    if out.get("units").is_none() {
        out.set("units", units.clone());
    }
    if let (None, Some(calendar)) = (out.get("calendar"), parent.get("calendar")) {
        out.set("calendar", calendar.clone());
    }
    out
}

/// The values of an array as one slice (memory order), made contiguous if needed.
fn contiguous<T: Clone>(a: &mut ArrayD<T>) -> &mut [T] {
    if a.as_slice_memory_order().is_none() {
        *a = a.as_standard_layout().into_owned();
    }
    a.as_slice_memory_order_mut().unwrap_or_default()
}

/// Fill values become `nan`; the others are multiplied by `scale`, then `offset` is
/// added, in the values' own type (never fused into one rounding). One loop per case,
/// so that each is simple enough to vectorize.
fn mask_scale<T>(values: &mut [T], fills: &[T], scale: Option<T>, offset: Option<T>, nan: T)
where
    T: Copy + PartialEq + std::ops::Mul<Output = T> + std::ops::Add<Output = T>,
{
    fn each<T: Copy + PartialEq>(values: &mut [T], fills: &[T], nan: T, f: impl Fn(T) -> T) {
        match fills {
            [] => values.iter_mut().for_each(|x| *x = f(*x)),
            [fill] => values
                .iter_mut()
                .for_each(|x| *x = if *x == *fill { nan } else { f(*x) }),
            _ => values
                .iter_mut()
                .for_each(|x| *x = if fills.contains(x) { nan } else { f(*x) }),
        }
    }
    match (scale, offset) {
        (None, None) if fills.is_empty() => {}
        (None, None) => each(values, fills, nan, |x| x),
        (Some(s), None) => each(values, fills, nan, |x| x * s),
        (None, Some(o)) => each(values, fills, nan, |x| x + o),
        (Some(s), Some(o)) => each(values, fills, nan, |x| x * s + o),
    }
}

/// Integer (or any) values converted to an integer type with `as`, as numpy's
/// `astype` wraps them.
#[allow(clippy::unnecessary_cast)]
fn cast_ints(data: &ArrayData, to: DType) -> ArrayData {
    with_storage_type!(to,
        T => ArrayData::from(with_array!(data, a => a.mapv(|x| x as T))),
        time => ArrayData::from(with_array!(data, a => a.mapv(|x| x as f64))))
}

#[cfg(test)]
#[path = "cf_file_tests.rs"]
mod file_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn attrs(pairs: &[(&str, AttrValue)]) -> Attrs {
        let mut a = Attrs::default();
        for (n, v) in pairs {
            a.set(n, v.clone());
        }
        a
    }

    fn decode(raw: ArrayData, pairs: &[(&str, AttrValue)]) -> ArrayData {
        let (dec, _, _) =
            CfDecoding::from_attrs(raw.dtype(), &attrs(pairs), &OpenOptions::new()).unwrap();
        let out = dec.decode(raw).unwrap();
        assert_eq!(out.dtype(), dec.output());
        out
    }

    fn i16s(v: &[i16]) -> ArrayData {
        ArrayData::I16(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
    }

    #[test]
    fn float_fill_becomes_nan_and_keeps_width() {
        let a = attrs(&[
            ("_FillValue", AttrValue::F32(vec![-9999.9])),
            ("units", "mm".into()),
        ]);
        let (dec, kept, enc) = CfDecoding::from_attrs(DType::F32, &a, &OpenOptions::new()).unwrap();
        assert_eq!(dec.output(), DType::F32);
        assert!(kept.get("_FillValue").is_none() && enc.get("_FillValue").is_some());
        assert_eq!(kept.get("units"), Some(&AttrValue::from("mm")));
        let raw =
            ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.5, -9999.9, 0.0]).unwrap());
        let out = dec.decode(raw).unwrap().to_f64_vec();
        assert_eq!(out[0], 1.5);
        assert!(out[1].is_nan());
        assert_eq!(out[2], 0.0);
    }

    #[test]
    fn packed_int16_decodes_in_float32_bits() {
        // xarray 2026.9: int16 [25, 0, -1] with scale_factor 0.4f, add_offset -10f and
        // _FillValue -1 gives float32 [0.0, -10.0, nan]; float64 arithmetic rounded to
        // float32 would give 1.5e-7 for the first.
        let out = decode(
            i16s(&[25, 0, -1]),
            &[
                ("scale_factor", AttrValue::F32(vec![0.4])),
                ("add_offset", AttrValue::F32(vec![-10.0])),
                ("_FillValue", AttrValue::I16(vec![-1])),
            ],
        );
        let ArrayData::F32(a) = out else {
            panic!("not float32: {out:?}")
        };
        assert_eq!(a[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(a[1], -10.0);
        assert!(a[2].is_nan());
    }

    #[test]
    fn float_dtype_follows_xarray_rules() {
        let f32v = |x: f32| AttrValue::F32(vec![x]);
        let f64v = |x: f64| AttrValue::F64(vec![x]);
        type Case<'a> = (DType, Vec<(&'a str, AttrValue)>, DType);
        let cases: Vec<Case> = vec![
            (DType::I16, vec![("units", "count".into())], DType::I16),
            (
                DType::I16,
                vec![("_FillValue", AttrValue::I16(vec![-1]))],
                DType::F32,
            ),
            (
                DType::I32,
                vec![("_FillValue", AttrValue::I32(vec![-1]))],
                DType::F64,
            ),
            (DType::I32, vec![("scale_factor", f64v(0.1))], DType::F64),
            (DType::I16, vec![("scale_factor", f32v(0.1))], DType::F32),
            (
                DType::I32,
                vec![("scale_factor", f32v(0.1)), ("add_offset", f32v(1.0))],
                DType::F64,
            ),
            (
                DType::I16,
                vec![("scale_factor", f32v(0.1)), ("add_offset", f64v(1.0))],
                DType::F64,
            ),
            (DType::I16, vec![("add_offset", f32v(1.0))], DType::F64),
            (DType::F32, vec![("scale_factor", f64v(0.1))], DType::F64),
            (
                DType::I16,
                vec![("scale_factor", AttrValue::I16(vec![2]))],
                DType::I16,
            ),
            (DType::I8, vec![("_Unsigned", "true".into())], DType::U8),
            (DType::U16, vec![("_Unsigned", "false".into())], DType::I16),
        ];
        for (raw, pairs, want) in cases {
            let (dec, _, _) =
                CfDecoding::from_attrs(raw, &attrs(&pairs), &OpenOptions::new()).unwrap();
            assert_eq!(dec.output(), want, "{raw} {pairs:?}");
        }
    }

    #[test]
    fn every_missing_value_masks_and_unsigned_moves_only_the_fill() {
        let out = decode(
            i16s(&[1, -1, -2, 3]),
            &[("missing_value", AttrValue::I16(vec![-1, -2]))],
        );
        let v = out.to_f64_vec();
        assert_eq!((v[0], v[3]), (1.0, 3.0));
        assert!(v[1].is_nan() && v[2].is_nan());
        // _Unsigned: -1 is 65535, the fill; -2 is 65534.
        let out = decode(
            i16s(&[-1, -2, 5]),
            &[
                ("_Unsigned", "true".into()),
                ("_FillValue", AttrValue::I16(vec![-1])),
            ],
        );
        let v = out.to_f64_vec();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[65_534.0, 5.0]);
    }

    #[test]
    fn float64_missing_value_is_compared_in_float64() {
        let raw = ArrayData::F32(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0.1, 0.5]).unwrap());
        let v = decode(raw, &[("missing_value", AttrValue::F64(vec![0.1, 0.5]))]).to_f64_vec();
        assert_eq!(v[0], f64::from(0.1f32));
        assert!(v[1].is_nan());
    }

    #[test]
    fn integer_scale_stays_integer_and_wraps_as_numpy() {
        let out = decode(
            i16s(&[3, 20_000]),
            &[("scale_factor", AttrValue::I16(vec![2]))],
        );
        assert_eq!(out, i16s(&[6, -25_536]));
    }

    #[test]
    fn mask_and_scale_off_keeps_raw_values_and_attributes() {
        let a = attrs(&[
            ("_FillValue", AttrValue::I16(vec![-1])),
            ("scale_factor", AttrValue::F32(vec![0.5])),
            ("_Unsigned", "true".into()),
        ]);
        let (dec, kept, enc) = CfDecoding::from_attrs_with(DType::I16, &a, true, false).unwrap();
        assert_eq!(dec.output(), DType::I16);
        assert_eq!(kept, a);
        assert!(enc.is_empty());
        assert_eq!(dec.decode(i16s(&[-1, 4])).unwrap(), i16s(&[-1, 4]));
    }

    #[test]
    fn decode_times_off_leaves_numbers_and_units() {
        let a = attrs(&[
            ("units", "days since 1970-01-01".into()),
            ("calendar", "mayan".into()),
            ("_FillValue", AttrValue::I32(vec![-1])),
        ]);
        let (dec, kept, _) = CfDecoding::from_attrs_with(DType::I32, &a, false, true).unwrap();
        assert_eq!(dec.output(), DType::F64);
        assert_eq!(
            kept.get("calendar").and_then(AttrValue::as_str),
            Some("mayan")
        );
        let raw = ArrayData::I32(ArrayD::from_shape_vec(IxDyn(&[2]), vec![5, -1]).unwrap());
        let v = dec.decode(raw).unwrap().to_f64_vec();
        assert_eq!(v[0], 5.0);
        assert!(v[1].is_nan());
    }

    #[test]
    fn times_within_one_second_are_refused_not_merged() {
        let a = attrs(&[("units", "seconds since 2000-01-01 00:00:00.5".into())]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap();
        let f64s = |v: &[f64]| {
            ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
        };
        // 00:00:00.5 and 00:00:00.75 (xarray 2026.9 keeps both) would both become 00:00:01.
        let err = dec.decode(f64s(&[0.0, 0.25])).unwrap_err();
        assert!(
            err.contains("0.25") && err.contains("decode_times(false)"),
            "{err}"
        );
        // Off whole seconds but one time per second (float32 hours): rounded, as documented.
        let t = dec.decode(f64s(&[0.0, 2.0, f64::NAN])).unwrap();
        let ArrayData::Time(t, _) = t else {
            panic!("{t:?}")
        };
        assert_eq!(
            t[1] - t[0],
            2,
            "00:00:00.5 and 00:00:02.5 round to :01 and :03"
        );
        assert_eq!(t[2], NAT);
    }

    #[test]
    fn times_decode_in_their_calendar() {
        let a = attrs(&[
            ("units", "days since 1970-01-01 00:00:00Z".into()),
            ("calendar", "julian".into()),
            ("bounds", "time_bnds".into()),
        ]);
        let (dec, kept, enc) = CfDecoding::from_attrs(DType::I32, &a, &OpenOptions::new()).unwrap();
        assert_eq!(dec.output(), DType::Time(Calendar::Julian));
        assert!(kept.get("units").is_none() && enc.get("calendar").is_some());
        assert!(kept.get("bounds").is_some());
        let raw = ArrayData::I32(ArrayD::from_shape_vec(IxDyn(&[1]), vec![17_563]).unwrap());
        let t = dec.decode(raw).unwrap().as_times().unwrap();
        assert_eq!(t[0].to_string(), "2018-02-01 00:00:00");
    }

    #[test]
    fn nc_string_units_and_calendar_are_text() {
        let a = attrs(&[
            (
                "units",
                AttrValue::Texts(vec!["days since 2001-01-01".into()]),
            ),
            ("calendar", AttrValue::Texts(vec!["noleap".into()])),
        ]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::I32, &a, &OpenOptions::new()).unwrap();
        assert_eq!(dec.output(), DType::Time(Calendar::NoLeap));
    }

    #[test]
    fn masked_and_nan_times_are_nat() {
        let a = attrs(&[
            ("units", "days since 2000-01-01".into()),
            ("_FillValue", AttrValue::F64(vec![-1.0])),
        ]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap();
        let raw =
            ArrayData::F64(ArrayD::from_shape_vec(IxDyn(&[3]), vec![0.0, -1.0, f64::NAN]).unwrap());
        let t = dec.decode(raw).unwrap().as_times().unwrap();
        assert_eq!(t[0].to_string(), "2000-01-01 00:00:00");
        assert!(t[1].is_nat() && t[2].is_nat());
    }

    #[test]
    fn undecodable_times_are_explained() {
        let a = attrs(&[("units", "days since 1970-01-01".into())]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::I32, &a, &OpenOptions::new()).unwrap();
        let raw =
            ArrayData::I32(ArrayD::from_shape_vec(IxDyn(&[1]), vec![-2_147_483_647]).unwrap());
        let err = dec.decode(raw).unwrap_err();
        for part in [
            "days since 1970-01-01",
            "standard",
            "default fill",
            "decode_times(false)",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
    }

    #[test]
    fn bad_calendar_or_units_are_named() {
        let a = attrs(&[
            ("units", "days since 1970-01-01".into()),
            ("calendar", "mayan".into()),
        ]);
        let err = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap_err();
        assert!(
            err.contains("mayan") && err.contains("decode_times(false)"),
            "{err}"
        );
        let a = attrs(&[("units", "moons since 1970-01-01".into())]);
        let err = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap_err();
        assert!(
            err.contains("moons since") && err.contains("standard"),
            "{err}"
        );
        let a = attrs(&[("scale_factor", "0.1".into())]);
        let err = CfDecoding::from_attrs(DType::I16, &a, &OpenOptions::new()).unwrap_err();
        assert!(err.contains("scale_factor"), "{err}");
    }
}
