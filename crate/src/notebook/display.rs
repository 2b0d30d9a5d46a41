//! Inline display in Jupyter through evcxr: a value's `evcxr_display` prints MIME
//! blocks that the kernel forwards to the notebook. Each type sends a plain-text
//! block and, where it has one, an HTML block; the front end shows the richest.
//!
//! Every block goes through [`block`], which keeps text from files from closing the
//! block or opening another (see `base::text`). Each type builds its blocks in
//! `display_blocks`, which tests read back as evcxr would.

use super::html::{dataarray_html, dataset_html};
use super::system::VirtualMemory;
use super::text::{dataarray_text, dataset_text};
use crate::base::text::{block, Mime};
use crate::model::{DataArray, Dataset, Sizes};
use crate::{Client, Resample};

/// Values a notebook shows inline. evcxr calls `evcxr_display` on a cell's final
/// value; with this trait in scope (the prelude brings it) a `Result` shows too:
/// its value when it is `Ok`, the error (text and HTML) when it is `Err`. So a cell
/// that ends with `client.load(&rain)` shows the data or says why it was refused.
///
/// ```
/// use geoxr::prelude::*;
/// let refused: geoxr::Result<Client> = Client::new().memory_limit("lots");
/// refused.evcxr_display(); // prints the error's text and HTML blocks
/// ```
pub trait Show {
    /// The MIME blocks evcxr forwards to the notebook.
    fn display_blocks(&self) -> String;

    /// Prints [`Show::display_blocks`]: the notebook shows the value.
    fn evcxr_display(&self) {
        print!("{}", self.display_blocks());
    }
}

impl<T: Show> Show for crate::Result<T> {
    fn display_blocks(&self) -> String {
        match self {
            Ok(value) => value.display_blocks(),
            Err(e) => e.display_blocks(),
        }
    }
}

/// Defines `evcxr_display` (printing) from `display_blocks` (building) for each type,
/// and [`Show`].
macro_rules! display_from_blocks {
    ($($t:ty),*) => {$(
        impl $t {
            /// Shows the value inline in a notebook (evcxr calls this for a cell's value).
            pub fn evcxr_display(&self) {
                print!("{}", self.display_blocks());
            }
        }
        impl Show for $t {
            fn display_blocks(&self) -> String {
                <$t>::display_blocks(self)
            }
        }
    )*};
}

display_from_blocks!(
    crate::base::bytes::Bytes,
    Dataset,
    DataArray,
    Sizes,
    VirtualMemory,
    Client,
    Resample,
    crate::Plan,
    crate::maps::Figure,
    crate::maps::Map,
    crate::maps::Raster,
    crate::maps::Feature,
    crate::maps::Shape,
    crate::KMeans,
    crate::KMeansModel,
    crate::SpectralClustering,
    crate::SpectralModel,
    crate::Error
);

impl Dataset {
    pub(crate) fn display_blocks(&self) -> String {
        block(Mime::Text, &dataset_text(self)) + &block(Mime::Html, &dataset_html(self))
    }
}

impl DataArray {
    /// The array's text and HTML; a failed array shows its error, and also writes
    /// it to stderr, as a map that cannot be drawn does (where notebook tests and
    /// Jupyter's error styling find it).
    pub(crate) fn display_blocks(&self) -> String {
        if let Some(text) = super::text::failure_text(self) {
            eprintln!("{text}");
        }
        block(Mime::Text, &dataarray_text(self)) + &block(Mime::Html, &dataarray_html(self))
    }
}

impl Client {
    pub(crate) fn display_blocks(&self) -> String {
        block(Mime::Text, &self.to_string()) + &block(Mime::Html, &super::html::client_html(self))
    }
}

impl crate::Plan {
    /// The plan as text (file-supplied text already escaped by its `Display`) and
    /// as a preformatted HTML block.
    pub(crate) fn display_blocks(&self) -> String {
        let text = self.to_string();
        let html = format!(
            r#"<pre class="geoxr-plan" style="white-space: pre; overflow-x: auto">{}</pre>"#,
            crate::base::text::html(&text)
        );
        block(Mime::Text, &text) + &block(Mime::Html, &html)
    }
}

impl crate::maps::Figure {
    pub(crate) fn display_blocks(&self) -> String {
        use base64::Engine;
        // The PNG for exports and image viewers; the HTML (the same PNG with the
        // hover read-out) is what Jupyter shows.
        match self.png() {
            Ok(png) => {
                let html = self.html_with(&png);
                let encoded = base64::engine::general_purpose::STANDARD.encode(png);
                block(Mime::Png, &encoded)
                    + &block(Mime::Html, &html)
                    + &block(
                        Mime::Text,
                        &format!("Figure ({} × {} px)", self.width(), self.height()),
                    )
            }
            Err(e) => map_error_blocks(&e),
        }
    }
}

/// A map that cannot be drawn says why, on stderr (where notebook tests look for
/// errors) and in place of the image.
fn map_error_blocks(e: &crate::Error) -> String {
    eprintln!("geoxr map error: {e}");
    block(Mime::Text, &format!("map not drawn: {e}"))
}

impl crate::maps::Map {
    /// The drawn map; a map that cannot be drawn shows why (call `.draw()?` to get
    /// the error as a value).
    pub(crate) fn display_blocks(&self) -> String {
        match self.draw() {
            Ok(figure) => figure.display_blocks(),
            Err(e) => map_error_blocks(&e),
        }
    }
}

impl crate::Error {
    /// An error shown as a value: what went wrong, as text and as HTML (escaped:
    /// errors quote names and text from files).
    pub(crate) fn display_blocks(&self) -> String {
        let text = format!("geoxr error: {self}");
        block(Mime::Text, &text) + &block(Mime::Html, &super::html::error_html(&text))
    }
}

/// A layer shows alone on a map (Plate Carrée fitted to it, 500 × 300), as
/// `da.hvplot()` shows a plot without an overlay.
macro_rules! layer_blocks {
    ($($t:ty),*) => {$(
        impl $t {
            pub(crate) fn display_blocks(&self) -> String {
                crate::maps::Map::from(self.clone()).display_blocks()
            }
        }
    )*};
}
layer_blocks!(
    crate::maps::Raster,
    crate::maps::Feature,
    crate::maps::Shape
);

/// Values shown by their text form alone.
macro_rules! text_blocks {
    ($($t:ty),*) => {$(
        impl $t {
            pub(crate) fn display_blocks(&self) -> String {
                block(Mime::Text, &self.to_string())
            }
        }
    )*};
}
text_blocks!(
    crate::base::bytes::Bytes,
    Sizes,
    VirtualMemory,
    Resample,
    crate::KMeans,
    crate::KMeansModel,
    crate::SpectralClustering,
    crate::SpectralModel
);
