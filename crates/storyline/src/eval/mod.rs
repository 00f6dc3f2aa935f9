//! Scoring against gold labels. Evaluation only reads gold after the system has run.

pub mod cluster;
pub mod entities;
pub mod extract;
pub mod rouge;
