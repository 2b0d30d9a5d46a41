//! The notebook driver behind `cargo xtask`: installs what the notebooks need,
//! writes the "Rust (geoxr)" kernel spec, generates sample data, executes notebooks
//! with Jupyter's own client and exports what they show.
//!
//! The end-to-end tests use the same functions, so a test runs a notebook exactly as
//! `cargo xtask tutorial` does.

pub mod browser;
pub mod child;
pub mod fuzz;
pub mod naturalearth;
pub mod outputs;
pub mod paths;
pub mod run;
pub mod setup;

pub use paths::Paths;

/// Errors of the driver are messages for a person at a terminal.
pub type Result<T> = std::result::Result<T, String>;

/// Prints a progress line of the driver.
pub fn say(message: impl AsRef<str>) {
    println!("[xtask] {}", message.as_ref());
}
