//! Reading what an executed notebook shows: problems in any cell, the text and HTML
//! each cell displays, and the images, written out as PNG files.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::Result;

/// An executed notebook, parsed.
#[derive(Debug, Clone)]
pub struct Notebook {
    /// The file it was read from.
    pub path: PathBuf,
    json: Value,
}

/// What one code cell showed.
#[derive(Debug, Clone, Default)]
pub struct CellOutput {
    /// Position among all cells (0-based).
    pub index: usize,
    /// The cell's tags (`metadata.tags`).
    pub tags: Vec<String>,
    /// The cell's source.
    pub source: String,
    /// Text printed to stdout and `text/plain` results, joined.
    pub text: String,
    /// Text printed to stderr.
    pub stderr: String,
    /// `text/html` results.
    pub html: Vec<String>,
    /// `image/png` results, decoded.
    pub png: Vec<Vec<u8>>,
    /// Error outputs (`ename: evalue`).
    pub errors: Vec<String>,
    /// Progress lines that arrived as displays (the kernel's progress proxy gives
    /// each computation one display id and updates it; nbclient keeps its last
    /// state): their `text/plain`, also part of `text`.
    pub progress_displays: Vec<String>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

impl Notebook {
    /// Reads an `.ipynb` file.
    pub fn read(path: &Path) -> Result<Notebook> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Notebook {
            path: path.to_owned(),
            json,
        })
    }

    /// The outputs of every code cell, in order.
    pub fn cells(&self) -> Vec<CellOutput> {
        let empty = Vec::new();
        let cells = self.json["cells"].as_array().unwrap_or(&empty);
        cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c["cell_type"] == "code")
            .map(|(index, c)| {
                let mut out = CellOutput {
                    index,
                    source: text_of(&c["source"]),
                    tags: c["metadata"]["tags"]
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    ..CellOutput::default()
                };
                for o in c["outputs"].as_array().unwrap_or(&empty) {
                    match o["output_type"].as_str() {
                        Some("stream") if o["name"] == "stderr" => {
                            out.stderr += &text_of(&o["text"])
                        }
                        Some("stream") => out.text += &text_of(&o["text"]),
                        Some("error") => out.errors.push(format!(
                            "{}: {}",
                            o["ename"].as_str().unwrap_or("error"),
                            o["evalue"].as_str().unwrap_or("")
                        )),
                        Some("execute_result") | Some("display_data") => {
                            let data = &o["data"];
                            out.text += &text_of(&data["text/plain"]);
                            if o["output_type"] == "display_data"
                                && text_of(&data["text/plain"]).starts_with("[geoxr] ")
                            {
                                out.progress_displays.push(text_of(&data["text/plain"]));
                            }
                            // One output is one thing in several MIME types: a PNG
                            // and an HTML view embedding it are the same figure.
                            let has_png = data["image/png"].is_string();
                            if !data["text/html"].is_null() {
                                let html = text_of(&data["text/html"]);
                                if !has_png {
                                    out.png.extend(inline_pngs(&html));
                                }
                                out.html.push(html);
                            }
                            if let Some(png) = data["image/png"].as_str() {
                                let clean: String = png.split_whitespace().collect();
                                if let Ok(bytes) =
                                    base64::engine::general_purpose::STANDARD.decode(clean)
                                {
                                    out.png.push(bytes);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                out
            })
            .collect()
    }

    /// Seconds each code cell took to run, from the timestamps Jupyter's client
    /// records (`metadata.execution`), with the cell's first line.
    pub fn cell_times(&self) -> Vec<(String, f64)> {
        let empty = Vec::new();
        let cells = self.json["cells"].as_array().unwrap_or(&empty);
        cells
            .iter()
            .filter(|c| c["cell_type"] == "code")
            .filter_map(|c| {
                let e = &c["metadata"]["execution"];
                let start = seconds_of_day(e["iopub.execute_input"].as_str()?)?;
                let end = seconds_of_day(e["shell.execute_reply"].as_str()?)?;
                let first = text_of(&c["source"])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                Some((first, (end - start).rem_euclid(86_400.0)))
            })
            .collect()
    }

    /// The first code cell carrying a tag.
    pub fn cell_tagged(&self, tag: &str) -> Option<CellOutput> {
        self.cells()
            .into_iter()
            .find(|c| c.tags.iter().any(|t| t == tag))
    }
}

/// Seconds since midnight of an ISO timestamp such as `2026-11-25T22:31:09.123456Z`.
fn seconds_of_day(stamp: &str) -> Option<f64> {
    let time = stamp.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// PNG images embedded in HTML as `data:image/png;base64,...`.
fn inline_pngs(html: &str) -> Vec<Vec<u8>> {
    const PREFIX: &str = "data:image/png;base64,";
    html.match_indices(PREFIX)
        .filter_map(|(at, _)| {
            let rest = &html[at + PREFIX.len()..];
            let end = rest.find(['"', '\'', ')']).unwrap_or(rest.len());
            base64::engine::general_purpose::STANDARD
                .decode(&rest[..end])
                .ok()
        })
        .collect()
}

/// Everything a user would see as a failure: error outputs, and (because evcxr
/// reports a panicking or erroring cell as "ok") error text on a cell's stderr.
pub fn problems(notebook: &Notebook) -> Vec<String> {
    let mut found = Vec::new();
    for cell in notebook.cells() {
        let first_line = cell.source.lines().next().unwrap_or("").to_owned();
        for e in &cell.errors {
            found.push(format!("cell {} (`{first_line}`): {e}", cell.index));
        }
        let stderr = cell.stderr.to_lowercase();
        if stderr.contains("panicked at") || stderr.contains("error") {
            found.push(format!(
                "cell {} (`{first_line}`): {}",
                cell.index,
                cell.stderr.trim()
            ));
        }
    }
    found
}

/// Writes every image the notebook shows into `dir`, named after the notebook and
/// the cell's first tag (`<stem>-<tag>[-k].png`), or its position when untagged
/// (`<stem>-cell<N>[-k].png`).
pub fn write_images(notebook: &Notebook, dir: &Path) -> Result<Vec<PathBuf>> {
    let stem = notebook
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("notebook");
    let mut written = Vec::new();
    for cell in notebook.cells() {
        for (k, png) in cell.png.iter().enumerate() {
            let suffix = if k == 0 {
                String::new()
            } else {
                format!("-{k}")
            };
            let name = match cell.tags.first() {
                Some(tag) => tag.clone(),
                None => format!("cell{:02}", cell.index),
            };
            let path = dir.join(format!("{stem}-{name}{suffix}.png"));
            std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notebook(outputs: serde_json::Value) -> Notebook {
        let json = serde_json::json!({"cells": [
            {"cell_type": "markdown", "source": "# title", "metadata": {}},
            {"cell_type": "code", "source": ["let x = 1;\n", "x"], "metadata": {"tags": ["t"]},
             "outputs": outputs}
        ]});
        Notebook {
            path: PathBuf::from("t.ipynb"),
            json,
        }
    }

    #[test]
    fn a_panic_on_stderr_counts_as_a_problem() {
        // evcxr reports a panicking cell with status "ok" and the panic on stderr.
        let nb = notebook(serde_json::json!([
            {"output_type": "stream", "name": "stderr", "text": "thread '<unnamed>' panicked at src/lib.rs:1:1"}
        ]));
        let found = problems(&nb);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("cell 1") && found[0].contains("let x = 1;"),
            "{found:?}"
        );
    }

    #[test]
    fn error_outputs_count_and_clean_cells_do_not() {
        let nb = notebook(serde_json::json!([
            {"output_type": "error", "ename": "Error", "evalue": "cannot find value `y`", "traceback": []}
        ]));
        assert_eq!(problems(&nb).len(), 1);
        let clean = notebook(serde_json::json!([
            {"output_type": "execute_result", "data": {"text/plain": "1", "text/html": "<b>1</b>"},
             "metadata": {}, "execution_count": 1}
        ]));
        assert!(problems(&clean).is_empty());
        let cell = clean.cell_tagged("t").unwrap();
        assert_eq!((cell.text.as_str(), cell.html.len()), ("1", 1));
    }

    #[test]
    fn cell_times_come_from_the_execution_metadata() {
        let json = serde_json::json!({"cells": [{"cell_type": "code", "source": "cpu_count()\n", "outputs": [],
            "metadata": {"execution": {"iopub.execute_input": "2026-11-25T22:31:09.250Z",
                                       "shell.execute_reply": "2026-11-25T22:31:10.000Z"}}}]});
        let nb = Notebook {
            path: PathBuf::from("t.ipynb"),
            json,
        };
        let times = nb.cell_times();
        assert_eq!(times.len(), 1);
        assert_eq!(times[0].0, "cpu_count()");
        assert!((times[0].1 - 0.75).abs() < 1e-9);
    }

    #[test]
    fn images_are_found_in_png_outputs_and_inline_html() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG fake");
        let nb = notebook(serde_json::json!([
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": png.clone()}},
            {"output_type": "display_data", "metadata": {},
             "data": {"text/html": format!("<img src=\"data:image/png;base64,{png}\">")}}
        ]));
        let cell = nb.cell_tagged("t").unwrap();
        assert_eq!(cell.png.len(), 2);
        assert_eq!(cell.png[0], b"\x89PNG fake");
    }

    #[test]
    fn a_png_and_its_html_view_in_one_output_are_one_image() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG fake");
        let nb = notebook(serde_json::json!([
            {"output_type": "display_data", "metadata": {}, "data": {
                "image/png": png.clone(),
                "text/html": format!("<div><img src=\"data:image/png;base64,{png}\"></div>")}}
        ]));
        let cell = nb.cell_tagged("t").unwrap();
        assert_eq!(cell.png.len(), 1);
        assert_eq!(cell.html.len(), 1);
    }
}
