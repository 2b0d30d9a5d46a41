//! JupyterLab as a person uses it: `cargo xtask lab` on a free port, notebook 01
//! opened in headless Chromium, its first cells run with Shift+Enter, the Dataset's
//! HTML and the study-area map seen on the page. Screenshots go to `out/lab/`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use geoxr_e2e::{assert_pictures, checkout};
use xtask::outputs::Notebook;
use xtask::Paths;

/// The server, stopped when this goes out of scope, test passed or not.
struct Server {
    child: Child,
}

impl Server {
    fn stop(&mut self) {
        let group = format!("-{}", self.child.id());
        // SIGTERM first: the Jupyter server shuts its kernels down on it.
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Local addresses (`/proc/net/tcp{,6}`, hex as the kernel writes them) listening on `port`.
fn listening_addresses(port: u16) -> Vec<String> {
    let wanted = format!("{port:04X}");
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // State 0A is LISTEN.
            if let [_, local, _, "0A", ..] = fields[..] {
                if let Some((address, p)) = local.split_once(':') {
                    if p == wanted {
                        found.push(address.to_owned());
                    }
                }
            }
        }
    }
    found
}

/// A notebook folder beside the checkout's data: the run's outputs and JupyterLab's
/// autosaves land in this copy, never in the committed notebook. JupyterLab's user
/// settings and workspaces for the test live beside it (the user's are untouched):
/// every cell stays in the page (no windowing) and nothing is autosaved.
fn notebook_copy(paths: &Paths) -> PathBuf {
    let area = paths.build_area().join("lab-test");
    let settings = [
        (
            "notebook-extension",
            "tracker",
            r#"{"windowingMode": "none"}"#,
        ),
        ("docmanager-extension", "plugin", r#"{"autosave": false}"#),
        (
            "apputils-extension",
            "notification",
            r#"{"fetchNews": "false", "checkForUpdates": false}"#,
        ),
    ];
    for (extension, plugin, json) in settings {
        let dir = area.join("settings").join("@jupyterlab").join(extension);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{plugin}.jupyterlab-settings")), json).unwrap();
    }
    let dir = area.join("notebooks");
    std::fs::create_dir_all(&dir).unwrap();
    let data = area.join("data");
    if std::fs::symlink_metadata(&data).is_err() {
        std::os::unix::fs::symlink(paths.root.join("data"), &data).unwrap();
    }
    let name = "01-parallel-imerg.ipynb";
    std::fs::copy(paths.notebooks().join(name), dir.join(name)).unwrap();
    dir
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[test]
fn jupyterlab_runs_the_first_cells_and_shows_the_dataset_and_the_map() {
    let paths = checkout();
    let dir = notebook_copy(&paths);
    let port = free_port();
    let token = format!("geoxr-{}-{port}", std::process::id());
    let log = paths.build_area().join("lab-test").join("lab.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(env!("CARGO"))
            .current_dir(&paths.root)
            .args(["xtask", "lab", "--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .env("JUPYTER_TOKEN", &token)
            .env("JUPYTERLAB_SETTINGS_DIR", dir.with_file_name("settings"))
            .env(
                "JUPYTERLAB_WORKSPACES_DIR",
                dir.with_file_name("workspaces"),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            // Its own process group, so stopping it reaches cargo, xtask and Jupyter.
            .process_group(0)
            .spawn()
            .expect("cargo xtask lab starts")
    };
    let mut server = Server { child };

    // Set-up is done, but the warm-up start of the kernel may rebuild geoxr.
    let until = Instant::now() + Duration::from_secs(20 * 60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "cargo xtask lab ended ({status}) before listening:\n{}",
                log_tail(&log)
            );
        }
        assert!(
            Instant::now() < until,
            "JupyterLab did not listen on port {port} within 20 minutes:\n{}",
            log_tail(&log)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        listening_addresses(port),
        vec!["0100007F".to_owned()],
        "JupyterLab listens on 127.0.0.1 only"
    );

    // Run the cells up to the study-area map (the cell tagged `bbox`).
    let name = "01-parallel-imerg.ipynb";
    let last = Notebook::read(&paths.notebooks().join(name))
        .and_then(|n| {
            n.cell_tagged("bbox")
                .ok_or_else(|| "no cell tagged `bbox`".into())
        })
        .unwrap_or_else(|e| panic!("notebook 01: {e}"))
        .index;

    let out = paths.out().join("lab");
    std::fs::create_dir_all(&out).unwrap();
    let checked = xtask::browser::drive_lab(
        &paths,
        &format!("http://127.0.0.1:{port}"),
        &token,
        name,
        last,
        &out.join("lab"),
    );
    server.stop();
    // cargo exits on the signal at once; Jupyter, below it, shuts its kernel down
    // first and then closes the port.
    let until = Instant::now() + Duration::from_secs(30);
    while !listening_addresses(port).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        listening_addresses(port).is_empty(),
        "the server stopped: nothing listens on {port} 30 s after the signal"
    );
    let checked = checked.unwrap_or_else(|e| panic!("{e}\n{}", log_tail(&log)));

    for needle in [
        "geoxr.Dataset",
        "HQprecipitation",
        "time",
        "303",
        "550",
        "501",
    ] {
        assert!(
            checked.dataset_text.contains(needle),
            "`{needle}` missing from the Dataset's HTML as shown:\n{}",
            checked.dataset_text
        );
    }
    assert_eq!(checked.map_size, (500, 300), "the study-area map is shown");
    assert!(
        checked.stderr.is_empty(),
        "cells wrote errors: {:?}",
        checked.stderr
    );
    assert!(
        checked.script_errors.is_empty(),
        "page script errors: {:?}",
        checked.script_errors
    );
    assert_eq!(checked.screenshots.len(), 3, "{:?}", checked.screenshots);
    assert_pictures(&checked.screenshots);
}
