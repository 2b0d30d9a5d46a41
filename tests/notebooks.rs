//! The notebooks, executed by Jupyter (nbconvert → nbclient) on the real evcxr
//! kernel, checked for what a user would see in each cell.

use std::process::Command;
use std::sync::OnceLock;

use geoxr_e2e::{assert_pictures, execute_notebook};
use xtask::outputs::{problems, CellOutput, Notebook};

/// The three notebooks, run once per test process one after the other, so each
/// starts on the kernel build the first left warm.
fn runs() -> &'static [Notebook; 3] {
    static RUNS: OnceLock<[Notebook; 3]> = OnceLock::new();
    RUNS.get_or_init(|| {
        let run = |name: &str| execute_notebook(name).unwrap_or_else(|e| panic!("{e}"));
        [
            run("01-parallel-imerg.ipynb"),
            run("02-larger-than-memory.ipynb"),
            run("03-scale-out.ipynb"),
        ]
    })
}

fn tutorial() -> &'static Notebook {
    &runs()[0]
}

fn streaming() -> &'static Notebook {
    &runs()[1]
}

fn scale_out_cell(tag: &str) -> CellOutput {
    runs()[2]
        .cell_tagged(tag)
        .unwrap_or_else(|| panic!("the third notebook has no cell tagged `{tag}`"))
}

fn streaming_cell(tag: &str) -> CellOutput {
    streaming()
        .cell_tagged(tag)
        .unwrap_or_else(|| panic!("the second notebook has no cell tagged `{tag}`"))
}

fn cell(tag: &str) -> CellOutput {
    tutorial()
        .cell_tagged(tag)
        .unwrap_or_else(|| panic!("the tutorial has no cell tagged `{tag}`"))
}

/// A chain of operations needs at most one `?` (errors defer to the door): read from
/// the committed notebooks, so it needs no kernel.
#[test]
fn every_statement_of_the_tutorials_has_at_most_one_question_mark() {
    let dir = xtask::Paths::from_checkout().notebooks();
    for name in [
        "01-parallel-imerg.ipynb",
        "02-larger-than-memory.ipynb",
        "03-scale-out.ipynb",
    ] {
        let notebook = Notebook::read(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        for cell in notebook.cells() {
            for statement in cell.source.split(';') {
                assert!(
                    statement.matches('?').count() <= 1,
                    "{name}, cell {}: more than one `?` in `{}`",
                    cell.index,
                    statement.trim()
                );
            }
        }
    }
}

#[test]
fn no_cell_reports_an_error() {
    for notebook in runs() {
        let found = problems(notebook);
        assert!(
            found.is_empty(),
            "{}: cells failed:\n{}",
            notebook.path.display(),
            found.join("\n")
        );
    }
}

#[test]
fn opening_the_year_shows_a_lazy_dataset() {
    let open = cell("open");
    for needle in [
        "<geoxr.Dataset>",
        "time: 303",
        "lon: 550",
        "lat: 501",
        "nv: 2",
        "HQprecipitation",
    ] {
        assert!(
            open.text.contains(needle),
            "`{needle}` missing from:\n{}",
            open.text
        );
    }
    assert!(
        open.text
            .contains("lazy<chunksize=(1, 550, 501), chunks=303>"),
        "{}",
        open.text
    );
    assert!(
        open.text.contains("2018-02-01") && open.text.contains("2018-11-30"),
        "{}",
        open.text
    );
    let html = open.html.first().expect("the dataset shows as text/html");
    assert!(html.contains("geoxr.Dataset") && html.contains("HQprecipitation"));
}

#[test]
fn cpu_count_is_the_machines() {
    let out = Command::new("getconf")
        .arg("_NPROCESSORS_ONLN")
        .output()
        .expect("getconf runs");
    let expected = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(cell("cpu").text.trim(), expected);
}

#[test]
fn memory_is_reported_in_two_lines() {
    let text = cell("memory").text;
    let value = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{text}"))
    };
    let (total, available) = (value("total:"), value("available:"));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(total, kib / 1024, "total MiB as /proc/meminfo says");
    assert!(available > 0 && available <= total);
}

#[test]
fn hq_precipitation_shows_as_a_labelled_lazy_array() {
    let hq = cell("hqprecipitation");
    assert!(
        hq.text
            .contains("<geoxr.DataArray 'HQprecipitation' (time: 303, lon: 550, lat: 501)>"),
        "{}",
        hq.text
    );
    assert!(
        hq.text
            .contains("float32 lazy<chunksize=(1, 550, 501), chunks=303>"),
        "{}",
        hq.text
    );
    assert!(
        hq.text.contains("units:") && hq.text.contains("mm"),
        "{}",
        hq.text
    );
    assert!(hq
        .html
        .first()
        .is_some_and(|h| h.contains("HQprecipitation")));
}

#[test]
fn the_client_card_shows_workers_threads_and_memory() {
    let card = cell("client");
    assert!(
        card.text
            .contains("Workers: 2, threads per worker: 10, threads: 20"),
        "{}",
        card.text
    );
    assert!(
        card.text.contains("8GB per worker, 16GB in all"),
        "{}",
        card.text
    );
    assert!(card
        .html
        .first()
        .is_some_and(|h| h.contains("geoxr.Client")));
    assert!(
        cell("shutdown").text.trim().is_empty(),
        "shutting down shows nothing"
    );
}

#[test]
fn the_box_keeps_131_longitudes_and_47_latitudes() {
    let dims = cell("subset").text;
    for needle in ["lon: 131", "lat: 47", "time: 303", "nv: 2"] {
        assert!(dims.contains(needle), "`{needle}` missing from {dims}");
    }
}

#[test]
fn stacking_gives_6157_pixel_series() {
    let stacked = cell("stack").text;
    assert!(stacked.contains("(time: 303, z: 6157)>"), "{stacked}");
    assert!(stacked.contains("MultiIndex[lat, lon]"), "{stacked}");
    let x = cell("persist").text;
    assert!(x.contains("(z: 6157, time: 303)>"), "{x}");
    assert!(x.contains("persisted<"), "persisted data say so: {x}");
}

#[test]
fn weekly_std_is_timed_and_identical_lazy_and_eager() {
    for tag in ["weekly-lazy", "weekly-eager"] {
        let c = cell(tag);
        assert!(
            c.text.contains("CPU times: user ") && c.text.contains("Wall time: "),
            "{tag}: {}",
            c.text
        );
        assert!(
            c.text
                .contains("<geoxr.DataArray 'HQprecipitation' (lon: 550, lat: 501)>"),
            "{tag}: {}",
            c.text
        );
    }
    assert_eq!(value_text(&cell("weekly-equal").text), "true");
}

#[test]
fn the_pixels_fall_into_eight_regimes_that_unstack_to_a_map() {
    assert!(
        cell("estimator")
            .text
            .contains("SpectralClustering(Nyström, n_clusters=8"),
        "{}",
        cell("estimator").text
    );
    let fit = cell("fit");
    assert!(
        fit.text.contains("CPU times: user ") && fit.text.contains("Wall time: "),
        "{}",
        fit.text
    );
    assert!(fit.text.contains("fitted on 6157 samples"), "{}", fit.text);
    assert_eq!(value_text(&cell("labels").text), "[6157]");
    let regimes = cell("regimes").text;
    assert!(
        regimes.contains("<geoxr.DataArray 'labels' (lat: 47, lon: 131)>"),
        "{regimes}"
    );
    assert!(regimes.contains("int64"), "{regimes}");
    // Every value shown is a regime number 0-7.
    let values_line = regimes.lines().nth(1).unwrap_or_default();
    let numbers: Vec<i64> = values_line
        .split_whitespace()
        .skip(1)
        .filter(|w| *w != "...")
        .map(|w| w.parse().unwrap_or(-99))
        .collect();
    assert!(
        !numbers.is_empty() && numbers.iter().all(|n| (0..8).contains(n)),
        "{values_line}"
    );
}

#[test]
fn the_exact_fit_is_timed_and_says_what_is_wrong() {
    let exact = cell("exact");
    assert!(
        exact.text.contains("CPU times: user ") && exact.text.contains("Wall time: "),
        "{}",
        exact.text
    );
    assert!(
        exact
            .text
            .contains("SpectralClustering(exact, n_clusters=8"),
        "{}",
        exact.text
    );
    assert!(
        exact.text.contains("fitted on 6157 samples"),
        "{}",
        exact.text
    );
    let solver = exact
        .text
        .lines()
        .find(|l| l.starts_with("solver: "))
        .unwrap_or_else(|| panic!("no solver line in {}", exact.text));
    assert!(
        solver.ends_with(" converged") && !solver.contains("NOT converged"),
        "{solver}"
    );
    assert!(
        exact.text.contains("warning: the graph is nearly empty"),
        "{}",
        exact.text
    );
}

/// The one image a map cell shows, decoded, with its number of distinct colours.
fn map_image(tag: &str) -> (image::RgbImage, usize) {
    image_of(tag, cell(tag))
}

fn image_of(tag: &str, c: CellOutput) -> (image::RgbImage, usize) {
    assert_eq!(c.png.len(), 1, "{tag}: one figure per map cell");
    let img = image::load_from_memory(&c.png[0])
        .unwrap_or_else(|e| panic!("{tag}: not a PNG: {e}"))
        .to_rgb8();
    let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    (img, colours.len())
}

fn has_colour(img: &image::RgbImage, rgb: [u8; 3]) -> bool {
    img.pixels().any(|p| p.0 == rgb)
}

#[test]
fn the_study_box_is_drawn_on_a_regional_map() {
    let (img, colours) = map_image("bbox");
    assert_eq!(img.dimensions(), (500, 300));
    assert!(colours > 10, "{colours} colours");
    assert!(has_colour(&img, [0x98, 0xb7, 0xe2]), "ocean");
    assert!(has_colour(&img, [0xf0, 0xf0, 0xdc]), "land");
    let text = cell("bbox").text;
    assert!(text.contains("lon -74.13671875 .. -60.984375"), "{text}");
}

#[test]
fn regimes_and_mean_rainfall_are_drawn_on_the_globe() {
    let (regimes, colours) = map_image("regimes-map");
    assert_eq!(regimes.dimensions(), (500, 300));
    assert!(colours > 10, "{colours} colours");
    // Category10's first colours appear (clusters and the colour bar's blocks).
    for rgb in [[0x1f, 0x77, 0xb4], [0xff, 0x7f, 0x0e], [0x2c, 0xa0, 0x2c]] {
        assert!(has_colour(&regimes, rgb), "regime colour {rgb:?}");
    }
    let (rain, colours) = map_image("rain-map");
    assert_eq!(rain.dimensions(), (500, 300));
    assert!(
        colours > 50,
        "a continuous colour map gives many colours: {colours}"
    );
    // Jet's ends: dark blue (0, 0, 128) and dark red (128, 0, 0) on the colour bar.
    assert!(has_colour(&rain, [0, 0, 128]) && has_colour(&rain, [128, 0, 0]));
}

#[test]
fn the_html_export_shows_every_figure_in_chromium() {
    let paths = xtask::Paths::from_checkout();
    let html = xtask::run::export_html(&paths, &tutorial().path).expect("nbconvert exports HTML");
    let prefix = html.with_file_name("tutorial-chromium");
    let page = xtask::browser::check_page(&paths, &html, &prefix).expect("Chromium opens the page");
    assert!(page.problems().is_empty(), "{:?}", page.problems());
    assert_eq!(
        page.images,
        vec![(true, 500, 300); 3],
        "three maps, each decoded"
    );
    // Each map as Chromium painted it: a real picture, not a blank box.
    assert_eq!(page.screenshots.len(), 4, "{:?}", page.screenshots);
    assert_pictures(&page.screenshots[1..]);
}

#[test]
fn a_small_memory_limit_refuses_loading_but_streams_reductions() {
    let refused = streaming_cell("refused").text;
    assert!(
        refused.contains("memory limit") && refused.contains("100"),
        "the refusal gives the sizes: {refused}"
    );
    let mean = streaming_cell("stream-mean").text;
    assert!(mean.contains("Wall time: "), "{mean}");
    assert!(
        mean.contains("<geoxr.DataArray 'HQprecipitation' (lon: 550, lat: 501)>"),
        "{mean}"
    );
    let weekly = streaming_cell("stream-weekly").text;
    assert!(weekly.contains("Wall time: "), "{weekly}");
    assert_eq!(value_text(&streaming_cell("compare").text), "true");
    let peak = streaming_cell("peak").text;
    // `... kernel: 812.3 MB (HQprecipitation: 334 MB)`, decimal units.
    let shown = peak.split("kernel: ").nth(1).unwrap_or_default();
    let mut words = shown.split_whitespace();
    let (number, unit) = (words.next(), words.next());
    let scale = match unit {
        Some("GB") => 1e9,
        Some("MB") => 1e6,
        _ => panic!("no peak figure in MB or GB in {peak}"),
    };
    let bytes = number.and_then(|n| n.parse::<f64>().ok()).unwrap_or(-1.0) * scale;
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap();
    // A kernel that has compiled and run cells holds tens of MB at least, and no
    // process holds more than the machine has.
    assert!(bytes > 20e6 && bytes < total_kib * 1024.0, "{peak}");
}

#[test]
fn results_are_saved_read_back_and_mapped_to_files() {
    let saved = streaming_cell("save").text;
    assert!(
        saved.contains("<geoxr.Dataset>") && saved.contains("HQprecipitation"),
        "{saved}"
    );
    assert_eq!(value_text(&streaming_cell("read-back").text), "true");
    let (weekly, colours) = image_of("weekly-map", streaming_cell("weekly-map"));
    assert_eq!(weekly.dimensions(), (500, 300));
    assert!(colours > 50, "{colours} colours");
    let (mean, colours) = image_of("mean-map", streaming_cell("mean-map"));
    assert_eq!(mean.dimensions(), (500, 420));
    assert!(colours > 50, "{colours} colours");
    let files = streaming_cell("files").text;
    assert!(files.contains("5 files in ../out/streaming"), "{files}");
    assert!(
        !files.contains("()"),
        "the listing ends without a stray unit value: {files}"
    );
    for name in [
        "mean-rain.nc",
        "weekly-std.nc",
        "weekly-std.png",
        "weekly-std.svg",
        "mean-rain.png",
    ] {
        assert!(files.contains(name), "`{name}` missing from:\n{files}");
    }
    // The PNG on disk is the figure shown inline.
    let dir = xtask::Paths::from_checkout()
        .root
        .join("out")
        .join("streaming");
    let on_disk = std::fs::read(dir.join("weekly-std.png")).expect("weekly-std.png written");
    assert_eq!(on_disk, streaming_cell("weekly-map").png[0]);
}

/// The rows a terminal or Jupyter leaves on screen for `raw`: each `\r` returns to
/// the start of the row and what follows covers what was there.
fn on_screen(raw: &str) -> Vec<String> {
    raw.split_terminator('\n')
        .map(|row| {
            let mut shown: Vec<char> = Vec::new();
            for part in row.split('\r') {
                for (i, c) in part.chars().enumerate() {
                    match shown.get_mut(i) {
                        Some(slot) => *slot = c,
                        None => shown.push(c),
                    }
                }
            }
            shown.into_iter().collect::<String>().trim_end().to_owned()
        })
        .collect()
}

/// A cell's output without its progress lines: a computation that takes over a
/// second (any on a busy machine) reports progress before the cell's value.
fn value_text(text: &str) -> String {
    on_screen(text)
        .into_iter()
        .filter(|row| !row.starts_with("[geoxr] "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[test]
fn progress_is_one_line_per_computation_ending_with_the_total_time() {
    let mut shown = 0;
    for notebook in runs() {
        for c in notebook.cells() {
            let rows: Vec<String> = on_screen(&c.text)
                .into_iter()
                .filter(|r| r.starts_with("[geoxr] "))
                .collect();
            // A notebook gets the final line alone: no hidden updates before it.
            assert!(
                rows.is_empty() || !c.text.contains('\r'),
                "cell {} received progress updates, not just the final line:\n{:?}",
                c.index,
                c.text
            );
            // Each one reached Jupyter as a display the kernel's proxy updated in
            // place (kernel/progress_proxy.py), not as stream text.
            assert_eq!(
                c.progress_displays.len(),
                rows.len(),
                "cell {}: progress came as stream lines, not as a display:\n{:?}",
                c.index,
                c.text
            );
            for row in &rows {
                assert!(
                    row.contains(" chunks, done in ") && row.ends_with(" s"),
                    "cell {} shows an unfinished or piled progress line `{row}`:\n{:?}",
                    c.index,
                    c.text
                );
                let (done, total) = row
                    .split("] ")
                    .nth(2)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|r| r.split_once('/'))
                    .unwrap_or_else(|| panic!("no done/total in `{row}`"));
                assert_eq!(done, total, "the final line counts every chunk: `{row}`");
            }
            shown += rows.len();
        }
    }
    // Whether any computation shows progress depends on the machine: on a quiet one
    // every cell finishes inside the silent first second (seen on 2 cores), on a busy
    // one the streaming reductions report. The line's behaviour itself (silent under
    // 1 s, rewritten in place in a terminal, the final line alone elsewhere) is
    // unit-tested in compute/progress.rs; here every line a notebook did show must
    // be a single finished one.
    println!("{shown} computations showed progress");
}

#[test]
fn four_mpi_ranks_show_their_plan_and_share_and_equal_the_in_process_result() {
    let plan = scale_out_cell("plan").text;
    // Weeks are grouped by how many days they hold, each group naming its files as a
    // range "(N files)"; together they are the year's 303 files.
    let files: usize = plan
        .split(" files)")
        .filter_map(|before| before.rsplit('(').next()?.parse::<usize>().ok())
        .sum();
    assert!(
        files == 303 && plan.contains("HQprecipitation") && plan.contains("6 pieces"),
        "the plan should name the variable, its 6 pieces and the 303 files:\n{plan}"
    );
    let ranks = scale_out_cell("ranks").text;
    assert!(
        !ranks.lines().any(|l| l.trim() == "()"),
        "a cell ending in `if let` shows no value:\n{ranks}"
    );
    assert!(ranks.contains("MPI job: 4 ranks"), "{ranks}");
    let rows: Vec<&str> = ranks
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u32>().is_ok())
        })
        .collect();
    assert_eq!(rows.len(), 4, "one row per rank:\n{ranks}");
    assert!(!ranks.contains("(failed)"), "{ranks}");
    let loaded = scale_out_cell("mpi-load").text;
    assert!(
        loaded.contains("Wall time: ")
            && loaded.contains("<geoxr.DataArray 'HQprecipitation' (lon: 550, lat: 501)>"),
        "{loaded}"
    );
    // The cell times the in-process load, then shows whether the two are equal.
    let equals = value_text(&scale_out_cell("equals").text);
    assert_eq!(equals.lines().last(), Some("true"), "{equals}");
}
