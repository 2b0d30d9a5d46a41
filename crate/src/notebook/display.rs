//! Inline display in Jupyter through evcxr: a value's `evcxr_display` prints MIME
//! blocks that the kernel forwards to the notebook. Each type sends a plain-text
//! block and, where it has one, an HTML block; the front end shows the richest.

use super::html::{dataarray_html, dataset_html};
use super::system::VirtualMemory;
use super::text::{dataarray_text, dataset_text};
use crate::model::{DataArray, Dataset, Sizes};
use crate::{Client, Resample};

/// Prints one evcxr MIME block.
pub(crate) fn send(mime: &str, content: &str) {
    println!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT");
}

impl Dataset {
    /// Shows the dataset inline in a notebook (called by evcxr for a cell's value).
    pub fn evcxr_display(&self) {
        send("text/plain", &dataset_text(self));
        send("text/html", &dataset_html(self));
    }
}

impl DataArray {
    /// Shows the array inline in a notebook (called by evcxr for a cell's value).
    pub fn evcxr_display(&self) {
        send("text/plain", &dataarray_text(self));
        send("text/html", &dataarray_html(self));
    }
}

impl Sizes {
    /// Shows the dimension sizes inline in a notebook.
    pub fn evcxr_display(&self) {
        send("text/plain", &self.to_string());
    }
}

impl VirtualMemory {
    /// Shows total and available memory inline in a notebook.
    pub fn evcxr_display(&self) {
        send("text/plain", &self.to_string());
    }
}

impl Client {
    /// Shows the client as a card: workers, threads, memory limit.
    pub fn evcxr_display(&self) {
        send("text/plain", &self.to_string());
        send("text/html", &super::html::client_html(self));
    }
}

impl Resample {
    /// Shows the bins waiting for a reduction.
    pub fn evcxr_display(&self) {
        send("text/plain", &self.to_string());
    }
}

impl crate::maps::Figure {
    /// Shows the figure inline as a PNG image.
    pub fn evcxr_display(&self) {
        use base64::Engine;
        match self.png() {
            Ok(png) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(png);
                send("image/png", &encoded);
                send(
                    "text/plain",
                    &format!("Figure ({} × {} px)", self.width(), self.height()),
                );
            }
            Err(e) => eprintln!("geoxr map error: {e}"),
        }
    }
}

impl crate::maps::Map {
    /// Draws the map and shows it inline; a map that cannot be drawn prints why
    /// (call `.draw()?` to get the error as a value).
    pub fn evcxr_display(&self) {
        match self.draw() {
            Ok(figure) => figure.evcxr_display(),
            Err(e) => {
                eprintln!("geoxr map error: {e}");
                send("text/plain", &format!("map not drawn: {e}"));
            }
        }
    }
}

macro_rules! layer_display {
    ($($t:ty),*) => {$(
        impl $t {
            /// Shows the layer alone on a map (Plate Carrée fitted to it, 500 × 300),
            /// as `da.hvplot()` shows a plot without an overlay.
            pub fn evcxr_display(&self) {
                crate::maps::Map::from(self.clone()).evcxr_display();
            }
        }
    )*};
}
layer_display!(
    crate::maps::Raster,
    crate::maps::Feature,
    crate::maps::Shape
);

macro_rules! plain_display {
    ($($t:ty),*) => {$(
        impl $t {
            /// Shows the value inline in a notebook (its text form).
            pub fn evcxr_display(&self) {
                send("text/plain", &self.to_string());
            }
        }
    )*};
}
plain_display!(
    crate::KMeans,
    crate::KMeansModel,
    crate::SpectralClustering,
    crate::SpectralModel
);
