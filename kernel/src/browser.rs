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
    let script = paths
        .root
        .join("kernel")
        .join("browser")
        .join("check-html.mjs");
    // Node resolves `playwright-core` from the script's folder upwards, so run a
    // copy placed beside the installed module.
    let dir = browser_dir(paths);
    let runnable = dir.join("check-html.mjs");
    std::fs::copy(&script, &runnable).map_err(|e| format!("{}: {e}", script.display()))?;
    let printed = output(
        Command::new("node")
            .arg(&runnable)
            .arg(html)
            .arg(prefix)
            .env("GEOXR_CHROMIUM", CHROMIUM),
    )?;
    let line = printed.lines().last().unwrap_or_default();
    let json: Value =
        serde_json::from_str(line).map_err(|e| format!("check-html printed `{line}`: {e}"))?;
    let strings = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
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
