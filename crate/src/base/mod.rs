//! Small utilities every layer may use and that use no other layer: text that is safe
//! to show in a notebook ([`text`]), files written whole or not at all ([`fsx`]) and
//! byte counts for people ([`bytes`]).

pub mod bytes;
pub mod fsx;
pub mod text;

#[cfg(test)]
pub(crate) mod child;
