//! The seam for an optional dense text signal (sentence embeddings). The library defines
//! only the trait, so the default build carries no model runtime; `storyline-embed`
//! implements it with all-MiniLM-L6-v2 (int8) on ONNX Runtime.

use crate::error::Result;

/// Turns texts into L2-normalised vectors whose dot product is their cosine similarity.
pub trait Embedder: Send + Sync {
    /// One vector per text, in input order, each of length [`Embedder::dim`].
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    fn dim(&self) -> usize;
}
