// Imported into every "Rust (geoxr)" notebook before its first cell.
use geoxr::prelude::*;
