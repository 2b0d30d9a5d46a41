//! HTML representations in the spirit of xarray's: a header, the dimensions, and
//! collapsible sections for coordinates, data variables and attributes. Works without
//! JavaScript (plain `<details>`), so exported notebooks show it too. Every piece of
//! text that comes from a file is escaped.

use std::fmt::Write;

use super::format::{human_bytes, tuple, values_column};
use crate::base::text::html as escape;
use crate::model::{Attrs, Data, DataArray, Dataset, Sizes, Unread, Variable};

const STYLE: &str = "<style>\
.gx-repr{font-family:var(--jp-code-font-family,monospace);font-size:12px;line-height:1.45;max-width:860px}\
.gx-repr .gx-head{font-weight:600;margin-bottom:2px}\
.gx-repr .gx-head .gx-type{color:#777;font-weight:400}\
.gx-repr .gx-dims{color:#444;margin:2px 0 4px}\
.gx-repr details{margin:1px 0}\
.gx-repr summary{cursor:pointer;font-weight:600;color:#2a5da8}\
.gx-repr summary .gx-count{color:#888;font-weight:400}\
.gx-repr table{border-collapse:collapse;margin-left:14px}\
.gx-repr table tr td{padding:1px 10px 1px 0;vertical-align:top;text-align:left;white-space:nowrap}\
.gx-repr td.gx-name{font-weight:600}\
.gx-repr td.gx-index{font-weight:700;text-decoration:underline}\
.gx-repr td.gx-dtype,.gx-repr td.gx-size{color:#777}\
.gx-repr td.gx-preview{color:#555;white-space:normal}\
.gx-repr .gx-lazy{background:#eef4fb;border:1px solid #c9dbef;border-radius:3px;padding:0 4px}\
.gx-repr dl{display:grid;grid-template-columns:max-content auto;margin:0 0 0 14px;gap:0 12px}\
.gx-repr dt{font-weight:600;color:#333}.gx-repr dd{margin:0;white-space:pre-wrap;color:#555}\
</style>";

fn sizes_html(sizes: &Sizes, indexed: &[&str]) -> String {
    let parts: Vec<String> = sizes
        .iter()
        .map(|(d, n)| {
            let name = escape(d);
            let name = if indexed.contains(&d) {
                format!("<b><u>{name}</u></b>")
            } else {
                name
            };
            format!("{name}: {n}")
        })
        .collect();
    format!("({})", parts.join(", "))
}

fn preview_html(v: &Variable) -> String {
    match v.data() {
        Data::Lazy(lazy) => format!(
            "<span class=\"gx-lazy\">{} · chunksize {} · {} chunks</span>",
            if lazy.is_persisted() {
                "persisted in memory"
            } else {
                "lazy"
            },
            tuple(&lazy.chunk_shape()),
            lazy.chunks().len()
        ),
        Data::InMemory(_) => escape(&values_column(v, 60)),
    }
}

fn variables_table(vars: &[(String, Variable)], index_names: &[&str]) -> String {
    let mut out = String::from("<table>");
    for (name, v) in vars {
        let class = if index_names.contains(&name.as_str()) {
            "gx-index"
        } else {
            "gx-name"
        };
        let _ = write!(
            out,
            "<tr><td class=\"{class}\">{}</td><td>({})</td><td class=\"gx-dtype\">{}</td>\
             <td class=\"gx-size\">{}</td><td class=\"gx-preview\">{}</td></tr>",
            escape(name),
            escape(&v.dims().join(", ")),
            escape(&v.dtype().to_string()),
            human_bytes(v.nbytes()),
            preview_html(v)
        );
    }
    out.push_str("</table>");
    out
}

fn section(title: &str, count: usize, body: &str, open: bool) -> String {
    let open = if open { " open" } else { "" };
    format!(
        "<details{open}><summary>{title} <span class=\"gx-count\">({count})</span></summary>{body}</details>"
    )
}

fn attrs_html(attrs: &Attrs) -> String {
    let mut out = String::from("<dl>");
    for (k, v) in attrs.iter() {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            escape(k),
            escape(&v.to_string())
        );
    }
    out.push_str("</dl>");
    out
}

fn index_names(coords: &[(String, Variable)]) -> Vec<&str> {
    coords
        .iter()
        .filter(|(n, c)| c.dims().len() == 1 && c.dims()[0] == *n)
        .map(|(n, _)| n.as_str())
        .collect()
}

/// The HTML representation of a dataset.
pub(crate) fn dataset_html(ds: &Dataset) -> String {
    let indexed = index_names(ds.coords());
    let mut out = format!("{STYLE}<div class=\"gx-repr\">");
    let _ = write!(
        out,
        "<div class=\"gx-head\"><span class=\"gx-type\">geoxr.Dataset</span> · {}</div>\
         <div class=\"gx-dims\">Dimensions: {}</div>",
        human_bytes(ds.nbytes()),
        sizes_html(ds.dims(), &indexed)
    );
    out.push_str(&section(
        "Coordinates",
        ds.coords().len(),
        &variables_table(ds.coords(), &indexed),
        true,
    ));
    out.push_str(&section(
        "Data variables",
        ds.data_vars().len(),
        &variables_table(ds.data_vars(), &[]),
        true,
    ));
    if !ds.unread().is_empty() {
        out.push_str(&section(
            "Not read (types geoxr does not read yet)",
            ds.unread().len(),
            &unread_table(ds.unread()),
            true,
        ));
    }
    out.push_str(&section(
        "Attributes",
        ds.attrs().len(),
        &attrs_html(ds.attrs()),
        false,
    ));
    out.push_str("</div>");
    out
}

fn unread_table(unread: &[Unread]) -> String {
    let mut out = String::from("<table>");
    for u in unread {
        let _ = write!(
            out,
            "<tr><td class=\"gx-name\">{}</td><td>({})</td><td class=\"gx-dtype\">{}</td></tr>",
            escape(&u.name),
            escape(&u.dims.join(", ")),
            escape(&u.kind)
        );
    }
    out.push_str("</table>");
    out
}

/// The HTML representation of a data array.
pub(crate) fn dataarray_html(da: &DataArray) -> String {
    if let Some(text) = super::text::failure_text(da) {
        return error_html(&text);
    }
    let indexed = index_names(da.coords());
    let mut out = format!("{STYLE}<div class=\"gx-repr\">");
    let name = da
        .name()
        .map(|n| format!("'{}' ", escape(n)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<div class=\"gx-head\"><span class=\"gx-type\">geoxr.DataArray</span> {name}{} · {} · {}</div>\
         <div class=\"gx-dims\">{}</div>",
        sizes_html(&da.variable().sizes(), &indexed),
        escape(&da.dtype().to_string()),
        human_bytes(da.variable().nbytes()),
        preview_html(da.variable())
    );
    let mut coords_html = String::new();
    for (dim, levels) in da.multi_indexes() {
        let _ = write!(
            coords_html,
            "<div class=\"gx-dims\"><b><u>{}</u></b> ({}) MultiIndex[{}]</div>",
            escape(dim),
            escape(dim),
            escape(&levels.join(", "))
        );
    }
    let levels = da
        .multi_indexes()
        .iter()
        .flat_map(|(_, l)| l.iter().map(String::as_str));
    let marked: Vec<&str> = indexed.iter().copied().chain(levels).collect();
    coords_html.push_str(&variables_table(da.coords(), &marked));
    out.push_str(&section(
        "Coordinates",
        da.coords().len(),
        &coords_html,
        true,
    ));
    out.push_str(&section(
        "Attributes",
        da.attrs().len(),
        &attrs_html(da.attrs()),
        false,
    ));
    out.push_str("</div>");
    out
}

/// The HTML card of a client.
pub(crate) fn client_html(client: &crate::Client) -> String {
    let memory = match client.memory_limit_total() {
        Some(total) => format!(
            "{} per worker, {} in all",
            human_bytes((total / client.workers() as u64) as usize),
            human_bytes(total as usize)
        ),
        None => "no limit".into(),
    };
    let scheduler = client.mpi_scheduler().unwrap_or_else(|| {
        "threads in this kernel, started for each computation; no dashboard".into()
    });
    format!(
        "{STYLE}<div class=\"gx-repr\"><div class=\"gx-head\"><span class=\"gx-type\">geoxr.Client</span></div>\
         <table><tr><td class=\"gx-name\">Workers</td><td>{}</td><td class=\"gx-name\">Threads per worker</td><td>{}</td></tr>\
         <tr><td class=\"gx-name\">Total threads</td><td>{}</td><td class=\"gx-name\">Memory</td><td>{}</td></tr>\
         <tr><td class=\"gx-name\">Scheduler</td><td colspan=\"3\">{}</td></tr></table></div>",
        client.workers(),
        client.threads() / client.workers(),
        client.threads(),
        escape(&memory),
        escape(&scheduler)
    )
}

/// An error as HTML: preformatted, in red, escaped (errors quote names from files).
pub(crate) fn error_html(text: &str) -> String {
    format!(
        r#"<pre class="geoxr-error" style="color: #a40000; white-space: pre-wrap">{}</pre>"#,
        escape(text)
    )
}
