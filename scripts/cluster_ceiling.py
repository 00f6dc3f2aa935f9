#!/usr/bin/env python3
"""How far can word and name vectors go on ECB+, even with help no streaming clusterer has?

Two oracle studies on ../shared/data/cluster/ecbplus-dev (or the folder given), both
*optimistic*: each takes part of the answer from the gold file and picks its threshold by
looking at the gold scores. They bound what storyline's kind of evidence (TF-IDF over words,
capitalised names and numbers) can reach, so that a figure under the issue's target is read
as a limit of the evidence, not of the clusterer.

1. Stories from perfect events: every gold event becomes one unit (the mean of its
   articles' TF-IDF vectors), and units are linked into stories by single and average link
   at every threshold; the best B-cubed F1 against the gold topics is printed with the
   closest pairs of units from different topics.
2. Events inside perfect stories: the articles of each gold topic are clustered by
   agglomerative average and complete link at every threshold, on TF-IDF over all content
   words and over names and numbers only; the best B-cubed F1 against the gold events.

With `--vectors FILE` both studies run again on sentence embeddings, and the first on a
mix of both similarities: FILE is a fresh
`STORYLINE_EMBED_CACHE` file written by a `--features embeddings` build, e.g.
    STORYLINE_EMBED_CACHE=/tmp/ecb.emb storyline -q --model DIR cluster ARTICLES --out /dev/null
Its lines are taken in article order (true for a fresh cache of a set whose texts are all
distinct and undated, as ECB+'s are); the script prints the mean cosine of same-event and
other pairs so that a file out of order shows at once.

Usage: scripts/cluster_ceiling.py [DATA_DIR] [--vectors FILE]   (pip install numpy scipy scikit-learn)
"""
import collections
import json
import re
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer


def bcubed(pred, gold, weight=None):
    """B-cubed precision, recall and F1; `weight` gives each item's article count."""
    weight = weight or {i: 1 for i in gold}
    pc, gc = collections.defaultdict(list), collections.defaultdict(list)
    for i in gold:
        pc[pred[i]].append(i)
        gc[gold[i]].append(i)
    total = sum(weight.values())
    p = r = 0.0
    for members in pc.values():
        size = sum(weight[i] for i in members)
        by_gold = collections.Counter()
        for i in members:
            by_gold[gold[i]] += weight[i]
        for g, k in by_gold.items():
            p += k * k / size
            r += k * k / sum(weight[i] for i in gc[g])
    p, r = p / total, r / total
    return 2 * p * r / (p + r), p, r


def without_url_lines(text):
    # ECB+ articles open with their address; it names the outlet, not the event.
    return "\n".join(line for line in text.split("\n") if not line.startswith("http"))


def names_and_numbers(text):
    """Capitalised words that do not open a sentence, and words with digits."""
    out = []
    for sentence in re.split(r"(?<=[.!?\n])\s", text):
        words = sentence.split()
        out += [w for i, w in enumerate(words) if i > 0 and (w[:1].isupper() or w[:1].isdigit())]
    return " ".join(out)


def tfidf(texts, stop_words):
    x = TfidfVectorizer(sublinear_tf=True, stop_words=stop_words, token_pattern=r"(?u)\b\w+\b")
    return x.fit_transform(texts)


def cut(similarity, method, threshold):
    d = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(d, 0.0)
    d = (d + d.T) / 2
    return fcluster(linkage(squareform(d), method), 1.0 - threshold, "distance")


def best_over_thresholds(score_at):
    return max((score_at(t) + (t,) for t in np.arange(0.01, 0.8, 0.01)), key=lambda s: s[0])


def event_similarity(articles, gold, x):
    """The gold events (sorted) and the cosine of their mean vectors under `x`."""
    events = sorted({gold[a["id"]]["event"] for a in articles})
    rows = {e: [k for k, a in enumerate(articles) if gold[a["id"]]["event"] == e] for e in events}
    c = np.vstack([np.asarray(x[rows[e]].mean(axis=0)) for e in events])
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    return events, rows, c @ c.T


def stories_from_perfect_events(articles, gold, x, sim=None, methods=("single", "average")):
    events, rows, own = event_similarity(articles, gold, x)
    sim = own if sim is None else sim
    topic = {e: gold[articles[rows[e][0]]["id"]]["topic"] for e in events}
    weight = {e: len(rows[e]) for e in events}
    for method in methods:
        def score(t):
            labels = cut(sim, method, t)
            return bcubed(dict(zip(events, labels)), topic, weight)
        f, p, r, t = best_over_thresholds(score)
        print(f"  {method:8} link: best topic F1 {f:.4f} (P {p:.3f} R {r:.3f}) at cosine {t:.2f}")
    if methods != ("single", "average"):
        return
    pairs = sorted(
        ((sim[i, j], events[i], events[j]) for i in range(len(events)) for j in range(i + 1, len(events))),
        reverse=True,
    )
    apart = [p for p in pairs if topic[p[1]] != topic[p[2]]][:3]
    together = [p for p in pairs if topic[p[1]] == topic[p[2]]][-3:]
    print("  closest events of different topics:", ", ".join(f"{a}~{b} {s:.3f}" for s, a, b in apart))
    print("  farthest events of one topic:     ", ", ".join(f"{a}~{b} {s:.3f}" for s, a, b in together))


def events_inside_perfect_stories(articles, gold, x):
    groups = collections.defaultdict(list)
    for k, a in enumerate(articles):
        groups[gold[a["id"]]["topic"]].append(k)
    sim = (x @ x.T).toarray()
    event = {a["id"]: gold[a["id"]]["event"] for a in articles}
    for method in ("average", "complete"):
        def score(t):
            pred = {}
            for name, rows in groups.items():
                labels = cut(sim[np.ix_(rows, rows)], method, t) if len(rows) > 1 else [0]
                for k, label in zip(rows, labels):
                    pred[articles[k]["id"]] = (name, label)
            return bcubed(pred, event)
        f, p, r, t = best_over_thresholds(score)
        print(f"  {method:8} link: best event F1 {f:.4f} (P {p:.3f} R {r:.3f}) at cosine {t:.2f}")


def embeddings(path, articles, gold):
    v = np.array([json.loads(line)[1] for line in open(path)], dtype=np.float64)
    if len(v) != len(articles):
        sys.exit(f"{path}: {len(v)} vectors for {len(articles)} articles")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    sim = v @ v.T
    event = [gold[a["id"]]["event"] for a in articles]
    same = np.equal.outer(event, event) & ~np.eye(len(event), dtype=bool)
    print(f"  order check: mean cosine {sim[same].mean():.3f} within gold events, "
          f"{sim[~np.equal.outer(event, event)].mean():.3f} across")
    return sparse.csr_matrix(v)


def main():
    args = sys.argv[1:]
    vectors = None
    if "--vectors" in args:
        at = args.index("--vectors")
        vectors = args[at + 1]
        del args[at : at + 2]
    data = Path(args[0] if args else "../shared/data/cluster/ecbplus-dev")
    articles = [json.loads(line) for line in open(data / "articles.jsonl")]
    gold = {g["id"]: g for g in map(json.loads, open(data / "gold.jsonl"))}
    texts = [without_url_lines(a["text"]) for a in articles]
    words = tfidf(texts, "english")
    names = tfidf([names_and_numbers(t) for t in texts], None)
    print("1. stories (gold topics) linked from perfect events, TF-IDF over content words")
    stories_from_perfect_events(articles, gold, words)
    print("2. events (gold events) inside perfect stories")
    for label, x in (("content words", words), ("names and numbers", names)):
        print(f" TF-IDF over {label}")
        events_inside_perfect_stories(articles, gold, x)
    if vectors:
        print(f"3. both again on the sentence embeddings in {vectors}")
        x = embeddings(vectors, articles, gold)
        stories_from_perfect_events(articles, gold, x)
        events_inside_perfect_stories(articles, gold, x)
        # Words and embeddings mixed: the embedding cosine rescaled from its unrelated-news
        # floor (0.3) so that both run from about 0 to 1.
        _, _, lexical = event_similarity(articles, gold, words)
        _, _, semantic = event_similarity(articles, gold, x)
        for share in (0.25, 0.5, 0.75):
            print(f"4. stories from perfect events, {share:.2f} embedding + {1 - share:.2f} words")
            mixed = (1 - share) * lexical + share * (semantic - 0.3) / 0.7
            stories_from_perfect_events(articles, gold, words, mixed, ("average",))


if __name__ == "__main__":
    main()
