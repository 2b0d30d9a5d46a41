//! Small utilities every layer may use and that use no other layer: text that is safe
//! to show in a notebook ([`text`]), files written whole or not at all ([`fsx`]) and
//! byte counts for people ([`bytes`]) the memory the machine has ([`sys`]) and the memory a computation may
//! take ([`budget`]).

pub mod budget;
pub mod bytes;
pub mod fsx;
pub mod sys;
pub mod text;

#[cfg(test)]
#[cfg(test)]
pub(crate) mod child;
