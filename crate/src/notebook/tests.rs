//! Display cannot be hijacked: values whose names, dimensions, units and attributes
//! carry evcxr control lines still show as exactly the blocks geoxr meant to send.

use ndarray::{array, ArrayD};

use crate::maps::Map;
use crate::model::{ArrayData, Attrs, DataArray, Dataset, Variable};
use crate::{Client, Error, KMeans};

/// Text a hostile file could carry: every way we know to end a block, open another,
/// send an evcxr command, or break a line.
const HOSTILE: [&str; 6] = [
    "rain\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT application/javascript\nalert(1)",
    "EVCXR_END_CONTENT",
    "mm\r\nEVCXR_END_CONTENT\r\nEVCXR_BEGIN_CONTENT text/html\r\n<script>alert(2)</script>",
    "x EVCXR_BEGIN_CONTENT application/javascript",
    "day\u{2028}EVCXR_PANIC_NOTIFICATION\u{85}EVCXR_INPUT_REQUEST:secret\u{1b}[2J",
    "\u{0}\ttab\u{b}\u{c}EVCXR_EXECUTION_COMPLETE",
];
const BENIGN: [&str; 6] = ["rain", "time", "mm", "title", "day", "note"];

/// Splits stdout into blocks and other lines exactly as evcxr 0.22 does
/// (`eval_context.rs`: a line *containing* `EVCXR_BEGIN_CONTENT <mime>` opens a block;
/// a line equal to `EVCXR_END_CONTENT` or `EVCXR_PANIC_NOTIFICATION` ends it; lines
/// come from `BufRead::lines`, which drops one trailing `\r`).
fn evcxr_parse(out: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut blocks = Vec::new();
    let mut other = Vec::new();
    let mut lines = out.lines();
    while let Some(line) = lines.next() {
        let opened = line.find("EVCXR_BEGIN_CONTENT ").and_then(|at| {
            let rest = &line[at + "EVCXR_BEGIN_CONTENT ".len()..];
            let mime: String = rest.chars().take_while(|&c| c != ' ').collect();
            (!mime.is_empty()).then_some(mime)
        });
        match opened {
            Some(mime) => {
                let mut content: Vec<&str> = Vec::new();
                for line in lines.by_ref() {
                    if line == "EVCXR_END_CONTENT" || line == "EVCXR_PANIC_NOTIFICATION" {
                        break;
                    }
                    content.push(line);
                }
                blocks.push((mime, content.join("\n")));
            }
            None => other.push(line.to_owned()),
        }
    }
    (blocks, other)
}

/// A dataset whose every name and text comes from `t`.
fn dataset(t: &[&str; 6]) -> Dataset {
    let mut attrs = Attrs::default();
    attrs.set("units", t[2]);
    attrs.set("long_name", t[0]);
    attrs.set(t[3], t[4]);
    let rain = Variable::new(
        [t[1], "lon", "lat"],
        ArrayData::F32(ArrayD::from_elem(vec![2, 3, 2], 1.5)),
    )
    .unwrap()
    .with_attrs(attrs.clone());
    let coord = |dim: &str, v: Vec<f64>| {
        Variable::new([dim], ArrayData::F64(ndarray::Array1::from(v).into_dyn())).unwrap()
    };
    let coords = vec![
        (t[1].to_owned(), coord(t[1], vec![0.0, 1.0])),
        ("lon".to_owned(), coord("lon", vec![-70.0, -69.9, -69.8])),
        ("lat".to_owned(), coord("lat", vec![-15.0, -14.9])),
    ];
    let other = Variable::new([t[5]], ArrayData::I32(array![1, 2, 3, 4].into_dyn())).unwrap();
    Dataset::new(
        coords,
        vec![(t[0].to_owned(), rain), (t[5].to_owned(), other)],
        attrs,
    )
    .unwrap()
}

/// Every displayable value built from `t`, with the blocks it shows.
fn displays(t: &[&str; 6]) -> Vec<(&'static str, String)> {
    let ds = dataset(t);
    let rain = ds.get(t[0]).into_result().unwrap();
    let map_of = rain.isel((t[1], 0)).plot().clabel(t[2]);
    let figure = Map::from(map_of.clone()).size(60, 40).draw().unwrap();
    // A map that cannot be drawn shows its error instead.
    let not_a_map = Map::from(map_of.clone()).title(t[0]).size(0, 40);
    let error = Error::NoSuchVariable {
        name: t[0].to_owned(),
        available: vec![t[5].to_owned()],
    };
    let matrix = DataArray::new(
        Some(t[0]),
        Variable::new(
            [t[1], t[5]],
            ArrayData::F64(array![[0.0, 1.0], [0.1, 1.1], [5.0, 6.0], [5.1, 6.1]].into_dyn()),
        )
        .unwrap(),
        vec![],
    )
    .unwrap();
    let model = KMeans::new(2).fit(&matrix).unwrap();
    vec![
        ("dataset", ds.display_blocks()),
        ("lazy-free array", rain.display_blocks()),
        ("sizes", rain.sizes().unwrap().display_blocks()),
        ("raster", map_of.display_blocks()),
        ("figure", figure.display_blocks()),
        ("map error", not_a_map.display_blocks()),
        ("error", error.display_blocks()),
        (
            "refused result",
            super::Show::display_blocks(&crate::Result::<Client>::Err(Error::NoSuchVariable {
                name: t[0].to_owned(),
                available: vec![t[5].to_owned()],
            })),
        ),
        ("client", Client::new().display_blocks()),
        (
            "plan",
            rain.chunk(t[1], 1).mean(t[1]).plan().display_blocks(),
        ),
        ("kmeans", KMeans::new(2).display_blocks()),
        ("kmeans model", model.display_blocks()),
    ]
}

#[test]
fn hostile_text_cannot_end_open_or_retype_a_block() {
    let hostile = displays(&HOSTILE);
    let benign = displays(&BENIGN);
    for ((what, out), (_, plain_out)) in hostile.iter().zip(&benign) {
        let (blocks, other) = evcxr_parse(out);
        let (expected, _) = evcxr_parse(plain_out);
        assert!(
            other.is_empty(),
            "{what}: lines outside any block: {other:?}"
        );
        let mimes: Vec<&str> = blocks.iter().map(|(m, _)| m.as_str()).collect();
        let wanted: Vec<&str> = expected.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(mimes, wanted, "{what}: blocks sent\n{out}");
        assert!(
            !wanted.is_empty()
                && wanted
                    .iter()
                    .all(|m| ["text/plain", "text/html", "image/png"].contains(m))
        );
        for ((mime, content), (_, reference)) in blocks.iter().zip(&expected) {
            assert!(
                !content.contains("EVCXR_") && !content.contains('\r'),
                "{what}: {mime} block carries a control text:\n{content}"
            );
            assert_eq!(
                content.lines().count(),
                reference.lines().count(),
                "{what}: hostile text changed the line structure of {mime}:\n{content}\n--- benign:\n{reference}"
            );
            if mime == "text/html" {
                // The one script allowed is the maps' read-out, unchanged.
                let ours = format!("<script>{}</script>", crate::maps::HOVER_SCRIPT);
                assert!(content.matches(&ours).count() <= 1, "{what}");
                let rest = content.replace(&ours, "");
                assert!(!rest.contains("<script"), "{what}: {content}");
                assert!(!rest.contains("</script"), "{what}: {content}");
            }
        }
    }
}

#[test]
fn text_forms_printed_with_println_carry_no_control_line() {
    let ds = dataset(&HOSTILE);
    let rain = ds.get(HOSTILE[0]).into_result().unwrap();
    let missing = ds
        .get("EVCXR_BEGIN_CONTENT text/html\n")
        .into_result()
        .unwrap_err();
    for (what, text, benign) in [
        ("dataset", ds.to_string(), dataset(&BENIGN).to_string()),
        (
            "array",
            rain.to_string(),
            dataset(&BENIGN).get(BENIGN[0]).to_string(),
        ),
        ("error", missing.to_string(), "one line".to_owned()),
    ] {
        assert!(
            !text.contains("EVCXR_") && !text.contains('\r'),
            "{what}:\n{text}"
        );
        assert_eq!(
            text.lines().count(),
            benign.lines().count(),
            "{what}:\n{text}"
        );
    }
    // The header line shows the name, escaped, on one line.
    let header = rain
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        header.starts_with(r"<geoxr.DataArray 'rain\nEVCXR\_END_CONTENT\n")
            && header.contains("> Size: "),
        "{header}"
    );
}

/// The blocks `out` holds, checked: only geoxr's MIME types, nothing outside a
/// block, no control text inside one.
fn checked_blocks(what: &str, out: &str) -> Vec<String> {
    let (blocks, other) = evcxr_parse(out);
    assert!(
        other.is_empty(),
        "{what}: lines outside any block: {other:?}"
    );
    for (mime, content) in &blocks {
        assert!(
            ["text/plain", "text/html", "image/png"].contains(&mime.as_str()),
            "{what}: block of type {mime}"
        );
        assert!(
            !content.contains("EVCXR_")
                && !content.contains('\r')
                && (mime != "text/html" || !content.contains("<script")),
            "{what}: {mime} block carries control text:\n{content}"
        );
    }
    blocks.into_iter().map(|(m, _)| m).collect()
}

#[test]
fn files_written_by_netcdf4_python_and_h5py_cannot_script_the_notebook() {
    // Fixtures and their provenance: crate/tests/data/README.md.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let ds = crate::open_dataset(data.join("hostile-netcdf4-python.nc")).unwrap();
    assert_eq!(
        checked_blocks("netCDF4-python dataset", &ds.display_blocks()),
        ["text/plain", "text/html"]
    );
    let rain = ds.get("rain EVCXR_END_CONTENT").into_result().unwrap();
    assert!(
        rain.attrs()
            .get("units")
            .and_then(|u| u.as_str())
            .is_some_and(|u| u.contains("EVCXR_END_CONTENT\r\n")),
        "the text itself is kept"
    );
    assert_eq!(
        checked_blocks("netCDF4-python array", &rain.display_blocks()),
        ["text/plain", "text/html"]
    );
    let loaded = rain.load().unwrap();
    checked_blocks("loaded array", &loaded.display_blocks());
    for text in [
        ds.to_string(),
        rain.to_string(),
        rain.sizes().unwrap().to_string(),
    ] {
        assert!(!text.contains("EVCXR_") && !text.contains('\r'), "{text}");
    }
    // h5py wrote a dataset whose name netCDF-C hides; the other one shows safely.
    match crate::open_dataset(data.join("hostile-h5py.nc")) {
        Ok(ds) => {
            checked_blocks("h5py dataset", &ds.display_blocks());
            assert!(!ds.to_string().contains("EVCXR_"));
        }
        Err(e) => {
            checked_blocks("h5py error", &e.display_blocks());
        }
    }
}
