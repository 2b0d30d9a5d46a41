//! Reading an exported notebook the way a person would: in headless Chromium
//! (Debian's package), driven by Playwright (`playwright-core` from npm, which
//! brings no browser of its own) through `kernel/browser/check-html.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::setup::{apt_install, output, run};
use crate::{say, Paths, Result};

/// The Playwright release that drives Chromium (the one this workplace's probe
/// used with Debian's Chromium).
pub const PLAYWRIGHT_VERSION: &str = "1.64.1";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs Chromium (apt) and playwright-core (npm, into `target/notebook/browser`)
/// when missing.
pub fn install(paths: &Paths) -> Result<()> {
    if !Path::new(CHROMIUM).exists() {
        say(
            "installing Chromium for the HTML export check: apt-get install chromium (1-2 minutes)",
        );
        apt_install(&["chromium"])?;
    }
    let dir = browser_dir(paths);
    let installed = std::fs::read_to_string(dir.join("node_modules/playwright-core/package.json"))
        .unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{PLAYWRIGHT_VERSION}\"")) {
        say(format!(
            "installing playwright-core {PLAYWRIGHT_VERSION} with npm into {} (a few seconds)",
            dir.display()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        run(Command::new("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--no-save"])
            .arg(format!("playwright-core@{PLAYWRIGHT_VERSION}")))?;
    }
    Ok(())
}

fn browser_dir(paths: &Paths) -> PathBuf {
    paths.build_area().join("browser")
}

/// What Chromium showed of an exported page.
#[derive(Debug, Clone)]
pub struct PageCheck {
    /// Uncaught script errors.
    pub script_errors: Vec<String>,
    /// Requests that failed (the export links require.js and MathJax from a CDN,
    /// which an offline reader cannot reach; their absence breaks nothing here).
    pub failed_requests: Vec<String>,
    /// Each `<img>`: loaded, natural width and height.
    pub images: Vec<(bool, u32, u32)>,
    /// The whole page, then each image as rendered.
    pub screenshots: Vec<PathBuf>,
}

impl PageCheck {
    /// Problems a reader would see: script errors, images that did not load.
    pub fn problems(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .script_errors
            .iter()
            .map(|e| format!("script error: {e}"))
            .collect();
        for (k, &(loaded, w, h)) in self.images.iter().enumerate() {
            if !loaded || w == 0 || h == 0 {
                found.push(format!("image {k} did not load ({w} × {h})"));
            }
        }
        found
    }
}

/// Opens `html` in headless Chromium; screenshots go to `<prefix>-page.png` and
/// `<prefix>-image<k>.png`.
pub fn check_page(paths: &Paths, html: &Path, prefix: &Path) -> Result<PageCheck> {
    let printed = node(
        paths,
        "check-html.mjs",
        &[html.as_os_str(), prefix.as_os_str()],
    )?;
    let json = json_line(&printed, "check-html")?;
    let strings = |key: &str| strings(&json, key);
    let images = json["images"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["complete"].as_bool().unwrap_or(false),
                        i["width"].as_u64().unwrap_or(0) as u32,
                        i["height"].as_u64().unwrap_or(0) as u32,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PageCheck {
        script_errors: strings("scriptErrors"),
        failed_requests: strings("failedRequests"),
        images,
        screenshots: strings("screenshots")
            .into_iter()
            .map(PathBuf::from)
            .collect(),
    })
}

/// Runs one of the scripts in `kernel/browser/` with Node, Chromium named by
/// `GEOXR_CHROMIUM`; returns what it printed.
fn node(paths: &Paths, script: &str, args: &[&std::ffi::OsStr]) -> Result<String> {
    // Node resolves `playwright-core` from the script's folder upwards, so run a
    // copy placed beside the installed module, with the module it imports.
    for file in [script, "chromium.mjs"] {
        let source = paths.root.join("kernel").join("browser").join(file);
        std::fs::copy(&source, browser_dir(paths).join(file))
            .map_err(|e| format!("{}: {e}", source.display()))?;
    }
    let runnable = browser_dir(paths).join(script);
    output(
        Command::new("node")
            .arg(&runnable)
            .args(args)
            .env("GEOXR_CHROMIUM", CHROMIUM),
    )
}

/// The strings of the array `json[key]`, in order; anything else in it (a
/// read-out that found no text) becomes an empty string, so positions stay.
fn strings(json: &Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The last line `script` printed, parsed as JSON.
fn json_line(printed: &str, script: &str) -> Result<Value> {
    let line = printed.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("{script} printed `{line}`: {e}"))
}

/// What JupyterLab showed when notebook 01 was opened and its first cells run.
#[derive(Debug, Clone)]
pub struct LabCheck {
    /// The HTML the `open` cell displayed (the Dataset's repr), as rendered text.
    pub dataset_text: String,
    /// Natural size of the image the `bbox` cell displayed.
    pub map_size: (u32, u32),
    /// Text the run cells printed to stderr (errors and panics land there).
    pub stderr: Vec<String>,
    /// Uncaught script errors of the JupyterLab page.
    pub script_errors: Vec<String>,
    /// The page after the run, the Dataset's output, the map.
    pub screenshots: Vec<PathBuf>,
}

/// Opens `notebook` in the JupyterLab at `base_url` (which has `token`), runs its
/// cells 0..=`last` with the keyboard as a person would (Shift+Enter) until the
/// first image output shows, and reports what the page showed. Screenshots go to
/// `<prefix>-*.png`.
pub fn drive_lab(
    paths: &Paths,
    base_url: &str,
    token: &str,
    notebook: &str,
    last: usize,
    prefix: &Path,
) -> Result<LabCheck> {
    let last = last.to_string();
    let printed = node(
        paths,
        "lab.mjs",
        &[
            base_url.as_ref(),
            token.as_ref(),
            notebook.as_ref(),
            last.as_ref(),
            prefix.as_os_str(),
        ],
    )?;
    let json = json_line(&printed, "lab.mjs")?;
    if let Some(failure) = json["failure"].as_str() {
        return Err(format!("JupyterLab: {failure}"));
    }
    let strings = |key: &str| strings(&json, key);
    let size = |key: &str| json["map"][key].as_u64().unwrap_or(0) as u32;
    Ok(LabCheck {
        dataset_text: json["dataset"].as_str().unwrap_or_default().to_owned(),
        map_size: (size("width"), size("height")),
        stderr: strings("stderr"),
        script_errors: strings("scriptErrors"),
        screenshots: strings("screenshots")
            .into_iter()
            .map(PathBuf::from)
            .collect(),
    })
}

/// What the read-out lines of the maps on `html` said with the mouse on each of
/// `points` (map index, pixel column, pixel row), whether a script of the page set
/// `window.hijacked`, uncaught script errors, and requests that left the machine.
#[derive(Debug, Clone)]
pub struct HoverCheck {
    /// One read-out per point, in order.
    pub readouts: Vec<String>,
    /// True when some script on the page set `window.hijacked`.
    pub hijacked: bool,
    /// Uncaught script errors.
    pub script_errors: Vec<String>,
    /// Requests to anything but `file:` and `data:` addresses.
    pub requests: Vec<String>,
}

/// Opens `html` in headless Chromium and hovers each of `points`.
pub fn hover(paths: &Paths, html: &Path, points: &[(usize, u32, u32)]) -> Result<HoverCheck> {
    let list: Vec<Value> = points
        .iter()
        .map(|&(map, x, y)| serde_json::json!({"map": map, "x": x, "y": y}))
        .collect();
    let file = html.with_extension("points.json");
    std::fs::write(&file, Value::Array(list).to_string())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let printed = node(paths, "hover.mjs", &[html.as_os_str(), file.as_os_str()])?;
    let json = json_line(&printed, "hover.mjs")?;
    let strings = |key: &str| strings(&json, key);
    Ok(HoverCheck {
        readouts: strings("readouts"),
        hijacked: json["hijacked"].as_bool().unwrap_or(true),
        script_errors: strings("scriptErrors"),
        requests: strings("requests"),
    })
}
