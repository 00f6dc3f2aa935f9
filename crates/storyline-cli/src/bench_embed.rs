//! `bench embed`: how fast the sentence-embedding model reads articles, on the same texts
//! `scripts/bench_embed_torch.py` gives PyTorch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub struct EmbedBenchArgs {
    /// A JSONL file of articles.
    articles: PathBuf,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Write the last run's vectors here, one JSON array a line in input order (to compare
    /// with another implementation's).
    #[arg(long)]
    dump: Option<PathBuf>,
}

#[cfg(not(feature = "embeddings"))]
pub fn run(_: &EmbedBenchArgs, _: Option<&Path>, _: bool) -> Result<ExitCode> {
    anyhow::bail!("bench embed needs a storyline built with `--features embeddings`")
}

#[cfg(feature = "embeddings")]
pub fn run(args: &EmbedBenchArgs, model: Option<&Path>, json: bool) -> Result<ExitCode> {
    use anyhow::Context;
    use std::io::Write;
    use std::time::Instant;
    use storyline::embed::Embedder;

    let Some(dir) = model else {
        anyhow::bail!("bench embed needs --model (or STORYLINE_MODEL): scripts/fetch-model.sh");
    };
    let m = storyline_embed::MiniLm::load(dir)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let mut texts = Vec::new();
    for r in storyline::ingest::read_path(&args.articles, Some(storyline::ingest::Format::Jsonl)) {
        texts.push(storyline::pipeline::embed_text(&r?.article));
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "{}: no articles",
        args.articles.display()
    );
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens = m.count_tokens(&refs)?;
    let (mut rates, mut cpu_rates) = (Vec::new(), Vec::new());
    let mut vectors = Vec::new();
    for _ in 0..args.runs.max(1) {
        let start = Instant::now();
        let cpu_start = crate::bench::cpu_seconds();
        vectors.clear();
        // The pipeline's batch: the model sees 500 articles a call.
        for chunk in refs.chunks(500) {
            vectors.extend(m.embed(chunk)?);
        }
        rates.push(refs.len() as f64 / start.elapsed().as_secs_f64().max(1e-9));
        cpu_rates.push(refs.len() as f64 / (crate::bench::cpu_seconds() - cpu_start).max(1e-9));
    }
    if let Some(path) = &args.dump {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        for v in &vectors {
            writeln!(f, "{}", serde_json::to_string(v)?)?;
        }
    }
    let median = |xs: &[f64]| {
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    let (med, cpu_med) = (median(&rates), median(&cpu_rates));
    let per_token = tokens as f64 / refs.len() as f64;
    if json {
        crate::print::json(&serde_json::json!({
            "system": "storyline (all-MiniLM-L6-v2 int8, ONNX Runtime 1.22)",
            "articles": refs.len(), "tokens": tokens, "runs": rates.len(),
            "median_articles_per_second": med,
            "median_tokens_per_second": med * per_token,
            "runs_articles_per_second": rates,
            // Per second of CPU time (all threads): steadier than wall time on a busy machine.
            "median_articles_per_cpu_second": cpu_med,
        }))?;
    } else {
        println!(
            "{} articles ({tokens} tokens), {} runs: median {med:.1} articles/s, {:.0} tokens/s, \
             {cpu_med:.1} articles per CPU second",
            refs.len(),
            rates.len(),
            med * per_token
        );
    }
    Ok(ExitCode::SUCCESS)
}
