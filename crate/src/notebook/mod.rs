//! The notebook face: text and HTML representations, evcxr display hooks and
//! machine facts.

mod display;
mod format;
mod html;
mod system;
mod text;

pub use html::escape;
pub use system::{cpu_count, virtual_memory, VirtualMemory};
