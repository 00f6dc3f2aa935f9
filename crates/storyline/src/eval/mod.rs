//! Scoring against gold labels. Evaluation only reads gold after the system has run.

pub mod cluster;
pub mod rouge;
