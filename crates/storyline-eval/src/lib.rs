//! Scoring storyline's output against gold labels, kept out of the engine: evaluation only reads gold
//! after the system has run, and the engine never needs it.

pub mod baseline;
pub mod cluster;
pub mod entities;
pub mod extract;
pub mod rouge;
