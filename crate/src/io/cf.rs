//! CF decoding in one place: fill and missing values to NaN, `scale_factor` and
//! `add_offset`, and `"<unit> since <date>"` times in their calendar.
//!
//! The rules follow xarray's decoders: floats keep their width; integers that are
//! masked or scaled become `float32` when they are 8 or 16 bits wide (and the scale is
//! not `float64`), `float64` otherwise. Attributes consumed by decoding move to the
//! variable's encoding, as in xarray.

use super::options::OpenOptions;
use crate::model::{ArrayData, AttrValue, Attrs, Calendar, DType, TimeUnits};
use ndarray::ArrayD;

/// How to turn a variable's stored values into the values users see.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CfDecoding {
    fills: Vec<f64>,
    scale: Option<f64>,
    offset: Option<f64>,
    time: Option<TimeUnits>,
    output: DType,
}

const ENCODING_ATTRS: [&str; 4] = ["_FillValue", "missing_value", "scale_factor", "add_offset"];

impl CfDecoding {
    /// Reads the decoding rules from a variable's attributes. Returns the rules, the
    /// attributes left for the user, and the encoding attributes; or a message saying
    /// which attribute cannot be decoded. `options` says which decoding steps apply
    /// (`decode_times`, `mask_and_scale`; not yet honoured here).
    pub(crate) fn from_attrs(
        raw: DType,
        attrs: &Attrs,
        options: &OpenOptions,
    ) -> Result<(Self, Attrs, Attrs), String> {
        let _ = options;
        let mut kept = attrs.clone();
        let mut encoding = Attrs::default();
        for name in ENCODING_ATTRS {
            if let Some(v) = kept.remove(name) {
                encoding.set(name, v);
            }
        }
        let numbers = |v: &AttrValue| -> Vec<f64> {
            match v {
                AttrValue::F32(x) => x.iter().map(|x| *x as f64).collect(),
                AttrValue::F64(x) => x.clone(),
                other => other.as_f64().into_iter().collect(),
            }
        };
        let fills: Vec<f64> = ["_FillValue", "missing_value"]
            .iter()
            .filter_map(|n| encoding.get(n))
            .flat_map(numbers)
            .collect();
        let scale = encoding.get("scale_factor").and_then(AttrValue::as_f64);
        let offset = encoding.get("add_offset").and_then(AttrValue::as_f64);

        let units = kept
            .get("units")
            .and_then(AttrValue::as_str)
            .map(str::to_owned);
        if let Some(units) = units.filter(|u| u.contains(" since ")) {
            let calendar_name = kept
                .get("calendar")
                .and_then(AttrValue::as_str)
                .unwrap_or("standard")
                .to_owned();
            let calendar = Calendar::parse(&calendar_name)
                .ok_or_else(|| format!("unknown calendar `{calendar_name}`"))?;
            let time = TimeUnits::parse(&units, calendar)
                .ok_or_else(|| format!("cannot parse time units `{units}`"))?;
            for name in ["units", "calendar"] {
                if let Some(v) = kept.remove(name) {
                    encoding.set(name, v);
                }
            }
            let decoding = CfDecoding {
                fills,
                scale,
                offset,
                time: Some(time),
                output: DType::Time(calendar),
            };
            return Ok((decoding, kept, encoding));
        }

        let scale_is_f64 = ["scale_factor", "add_offset"]
            .iter()
            .any(|n| matches!(encoding.get(n), Some(AttrValue::F64(_))));
        let transforms = !fills.is_empty() || scale.is_some() || offset.is_some();
        let output = match raw {
            DType::F32 if scale_is_f64 => DType::F64,
            DType::F32 | DType::F64 => raw,
            _ if !transforms => raw,
            DType::I8 | DType::U8 | DType::I16 | DType::U16 if !scale_is_f64 => DType::F32,
            _ => DType::F64,
        };
        Ok((
            CfDecoding {
                fills,
                scale,
                offset,
                time: None,
                output,
            },
            kept,
            encoding,
        ))
    }

    /// The element type of decoded values.
    pub(crate) fn output(&self) -> DType {
        self.output
    }

    /// Decodes stored values; fails only for times that cannot be represented.
    pub(crate) fn decode(&self, raw: ArrayData) -> Result<ArrayData, String> {
        if let Some(time) = &self.time {
            let calendar = match self.output {
                DType::Time(c) => c,
                _ => Calendar::Standard,
            };
            let values = raw.to_f64_vec();
            let mut seconds = Vec::with_capacity(values.len());
            for v in values {
                if self.fills.contains(&v) {
                    return Err("missing values in a time variable".into());
                }
                let v = v * self.scale.unwrap_or(1.0) + self.offset.unwrap_or(0.0);
                let t = time
                    .decode(v)
                    .ok_or_else(|| format!("time value {v} out of range"))?;
                seconds.push(t.seconds());
            }
            let shape = raw.shape().to_vec();
            let array = ArrayD::from_shape_vec(shape, seconds).map_err(|e| e.to_string())?;
            return Ok(ArrayData::Time(array, calendar));
        }
        if self.output == raw.dtype() && self.scale.is_none() && self.offset.is_none() {
            return Ok(match raw {
                ArrayData::F32(mut a) => {
                    let fills: Vec<f32> = self.fills.iter().map(|f| *f as f32).collect();
                    if !fills.is_empty() {
                        a.mapv_inplace(|x| if fills.contains(&x) { f32::NAN } else { x });
                    }
                    ArrayData::F32(a)
                }
                ArrayData::F64(mut a) => {
                    if !self.fills.is_empty() {
                        a.mapv_inplace(|x| if self.fills.contains(&x) { f64::NAN } else { x });
                    }
                    ArrayData::F64(a)
                }
                other => other,
            });
        }
        let (scale, offset) = (self.scale.unwrap_or(1.0), self.offset.unwrap_or(0.0));
        let shape = raw.shape().to_vec();
        let decoded: Vec<f64> = raw
            .to_f64_vec()
            .into_iter()
            .map(|x| {
                if self.fills.contains(&x) {
                    f64::NAN
                } else {
                    x * scale + offset
                }
            })
            .collect();
        let array = ArrayD::from_shape_vec(shape, decoded).map_err(|e| e.to_string())?;
        Ok(match self.output {
            DType::F32 => ArrayData::F32(array.mapv(|x| x as f32)),
            _ => ArrayData::F64(array),
        })
    }
}

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
    fn packed_int16_decodes_to_float32() {
        let a = attrs(&[
            ("scale_factor", AttrValue::F32(vec![0.5])),
            ("add_offset", AttrValue::F32(vec![10.0])),
            ("_FillValue", AttrValue::I16(vec![-1])),
        ]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::I16, &a, &OpenOptions::new()).unwrap();
        assert_eq!(dec.output(), DType::F32);
        let raw = ArrayData::I16(ArrayD::from_shape_vec(IxDyn(&[3]), vec![0, 4, -1]).unwrap());
        let out = dec.decode(raw).unwrap();
        assert_eq!(out.dtype(), DType::F32);
        let v = out.to_f64_vec();
        assert_eq!(&v[..2], &[10.0, 12.0]);
        assert!(v[2].is_nan());
    }

    #[test]
    fn int_without_encoding_stays_int() {
        let a = attrs(&[("units", "count".into())]);
        let (dec, _, _) = CfDecoding::from_attrs(DType::I16, &a, &OpenOptions::new()).unwrap();
        assert_eq!(dec.output(), DType::I16);
        let (dec, _, _) = CfDecoding::from_attrs(
            DType::I32,
            &attrs(&[("scale_factor", AttrValue::F64(vec![0.1]))]),
            &OpenOptions::new(),
        )
        .unwrap();
        assert_eq!(dec.output(), DType::F64);
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
    fn bad_calendar_or_units_are_named() {
        let a = attrs(&[
            ("units", "days since 1970-01-01".into()),
            ("calendar", "mayan".into()),
        ]);
        let err = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap_err();
        assert!(err.contains("mayan"), "{err}");
        let a = attrs(&[("units", "moons since 1970-01-01".into())]);
        let err = CfDecoding::from_attrs(DType::F64, &a, &OpenOptions::new()).unwrap_err();
        assert!(err.contains("moons since"), "{err}");
    }
}
