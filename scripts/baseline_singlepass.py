#!/usr/bin/env python3
"""The clusterer a user would otherwise script: single-pass TF-IDF online clustering with
scikit-learn, the baseline that `storyline eval cluster` and `storyline bench ingest` are
compared with.

Articles are taken in date order where they are dated (undated ones keep their file
position among themselves, after the dated ones), as a stream would deliver them. Each joins
the most similar existing cluster centroid if the cosine similarity reaches the threshold,
else starts a cluster. The vectorizer is fitted on the whole input first (a batch step
storyline does not get to take); only the single pass is timed. Prints articles per second
and, with --gold, B-cubed precision, recall and F1 against the gold file's `--key` field.

    pip install scikit-learn
    python3 scripts/baseline_singlepass.py ARTICLES.jsonl [--limit N] [--threshold 0.3]
        [--gold GOLD.jsonl [--key event|topic]] [--out ASSIGNMENTS.jsonl]
"""
import argparse
import collections
import json
import sys
import time

import numpy as np
from scipy.sparse import vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


def bcubed(pred, gold):
    """B-cubed precision, recall and F1 of `pred` against `gold` (both id -> label), over
    the ids of `gold`."""
    by_pred, by_gold = collections.defaultdict(list), collections.defaultdict(list)
    for i in gold:
        by_pred[pred[i]].append(i)
        by_gold[gold[i]].append(i)
    p = r = 0.0
    for members in by_pred.values():
        counts = collections.Counter(gold[i] for i in members)
        for g, k in counts.items():
            p += k * k / len(members)
            r += k * k / len(by_gold[g])
    p, r = p / len(gold), r / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def stream_order(rows):
    """Dated articles by date (ties in file order), then the undated in file order."""
    dated = [i for i, a in enumerate(rows) if a.get("published")]
    undated = [i for i, a in enumerate(rows) if not a.get("published")]
    dated.sort(key=lambda i: (rows[i]["published"], i))
    return dated + undated


def single_pass(vectors, threshold):
    """Cluster labels, one per row of `vectors`, in row order."""
    sums = []  # per-cluster summed vectors (sparse rows)
    centroids = None  # normalised centroid matrix, rebuilt when a cluster changed
    dirty = True
    labels = []
    for i in range(vectors.shape[0]):
        v = vectors[i]
        best, score = -1, 0.0
        if sums:
            if dirty:
                centroids = normalize(vstack(sums))
                dirty = False
            sims = (centroids @ v.T).toarray().ravel()
            best = int(np.argmax(sims))
            score = float(sims[best])
        if best >= 0 and score >= threshold:
            sums[best] = sums[best] + v
            labels.append(best)
        else:
            sums.append(v)
            labels.append(len(sums) - 1)
        dirty = True
    return labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("articles")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--gold", help="gold JSONL ({id, event, topic}) to score against")
    ap.add_argument("--key", default="event", help="gold field to score (event or topic)")
    ap.add_argument("--out", help="write {id, cluster} lines here")
    args = ap.parse_args()
    rows = []
    with open(args.articles, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{args.articles}:{n}: not a JSON object ({e.msg})")
            if args.limit and len(rows) >= args.limit:
                break
    order = stream_order(rows)
    rows = [rows[i] for i in order]
    vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
        [a["text"] for a in rows]
    )
    started = time.perf_counter()
    labels = single_pass(vectors, args.threshold)
    seconds = time.perf_counter() - started
    n = len(labels)
    report = {
        "articles": n,
        "seconds": seconds,
        "articles_per_second": n / seconds if seconds else None,
        "clusters": len(set(labels)),
    }
    pred = {str(a["id"]): c for a, c in zip(rows, labels)}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for a, c in zip(rows, labels):
                f.write(json.dumps({"id": a["id"], "cluster": c}) + "\n")
    if args.gold:
        gold = {}
        with open(args.gold, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    g = json.loads(line)
                    if str(g["id"]) in pred:
                        gold[str(g["id"])] = g[args.key]
        p, r, f1 = bcubed(pred, gold)
        report.update({"key": args.key, "scored": len(gold), "bcubed": {"precision": p, "recall": r, "f1": f1}})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
