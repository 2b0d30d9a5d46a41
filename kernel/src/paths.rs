//! Where everything lives: the checkout, and the ignored build area under
//! `target/notebook/` that holds the Python venv, the kernel's start-up files and
//! evcxr's compilation cache.

use std::path::{Path, PathBuf};

/// The project's folders.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The checkout (workspace root).
    pub root: PathBuf,
}

/// The name Jupyter knows the kernel by.
pub const KERNEL_NAME: &str = "geoxr";
/// The name users see in the launcher.
pub const KERNEL_DISPLAY_NAME: &str = "Rust (geoxr)";
/// The evcxr release the kernel runs on.
pub const EVCXR_VERSION: &str = "0.22.0";

impl Paths {
    /// The checkout this driver was built from.
    pub fn from_checkout() -> Paths {
        let kernel_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        Paths {
            root: kernel_dir.parent().unwrap_or(kernel_dir).to_path_buf(),
        }
    }

    /// `target/notebook`: everything the notebooks need that is built, not committed.
    pub fn build_area(&self) -> PathBuf {
        self.root.join("target").join("notebook")
    }

    /// The project's Python environment.
    pub fn venv(&self) -> PathBuf {
        self.build_area().join("venv")
    }

    /// A program of the venv (`python`, `jupyter`).
    pub fn venv_bin(&self, program: &str) -> PathBuf {
        self.venv().join("bin").join(program)
    }

    /// The kernel spec folder, inside the venv so no user kernel is touched.
    pub fn kernel_spec_dir(&self) -> PathBuf {
        self.venv()
            .join("share")
            .join("jupyter")
            .join("kernels")
            .join(KERNEL_NAME)
    }

    /// evcxr's configuration folder (`init.evcxr`).
    pub fn evcxr_config(&self) -> PathBuf {
        self.build_area().join("evcxr-config")
    }

    /// Where evcxr keeps compiled dependencies between kernel starts.
    pub fn evcxr_cache(&self) -> PathBuf {
        self.build_area().join("cache")
    }

    /// Build folders of running kernels (`slot-N`), kept between starts.
    pub fn evcxr_builds(&self) -> PathBuf {
        self.build_area().join("evcxr-build")
    }

    /// The committed start-up file templates.
    pub fn kernel_templates(&self) -> PathBuf {
        self.root.join("kernel").join("config")
    }

    /// The sample IMERG files.
    pub fn imerg_data(&self) -> PathBuf {
        self.root.join("data").join("IMERG")
    }

    /// The tutorial notebooks.
    pub fn notebooks(&self) -> PathBuf {
        self.root.join("notebooks")
    }

    /// Executed notebooks, HTML exports and figures.
    pub fn out(&self) -> PathBuf {
        self.root.join("out")
    }

    /// The library crate the kernel preloads.
    pub fn crate_dir(&self) -> PathBuf {
        self.root.join("crate")
    }
}
