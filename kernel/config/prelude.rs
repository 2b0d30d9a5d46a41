// Imported into every "Rust (geoxr)" notebook before its first cell.
use geoxr::prelude::*;
// evcxr pays a one-time cost of several seconds the first time a cell binds a
// variable (it compiles once more to learn the variable's type). Binding one here
// moves that cost into kernel start-up, so a notebook's first cell runs at the
// speed of the cells after it.
let _geoxr_warm_up = geoxr::cpu_count();
