#!/usr/bin/env python3
"""Timeline17 scoring as news-tls (ACL 2020) does it, with the `tilse` toolkit (PyPI).

    python3 scripts/tilse_eval.py TOPIC_DIR=OUT_DIR [TOPIC_DIR=OUT_DIR ...] [--json]

TOPIC_DIR holds `timelines.jsonl` (gold, one timeline a line: {"entries": [[date,
[sentences]], ...]}); OUT_DIR holds storyline's `eval timeline` output, one
`<line index>_<topic>.json` per gold timeline: [{"date", "sentences": [...]}].
For each pair: alignment-based ROUGE-1/2 F (tilse `evaluate_align_date_content_costs_many_to_one`,
the original Perl ROUGE as tilse runs it, stemmed, stop words ignored) and date F1; the
figures printed are means over all timelines, as news-tls reports them.

Needs `pip install tilse` and Debian's `libxml-parser-perl` (tilse bundles ROUGE-1.5.5).
"""
import argparse
import datetime
import glob
import json
import os
import sys


def parse_date(s):
    return datetime.datetime.strptime(s[:10], "%Y-%m-%d").date()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", nargs="+", metavar="TOPIC_DIR=OUT_DIR")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    try:
        from tilse.data.timelines import GroundTruth, Timeline
        from tilse.evaluation import rouge
    except ImportError as e:
        sys.exit(f"tilse_eval.py: tilse is missing ({e}); pip install tilse")
    evaluator = rouge.TimelineRougeEvaluator(measures=["rouge_1", "rouge_2"])
    rows = []
    for pair in a.pairs:
        topic, _, out = pair.partition("=")
        if not out:
            sys.exit(f"want TOPIC_DIR=OUT_DIR, got {pair!r}")
        with open(os.path.join(topic, "timelines.jsonl"), encoding="utf-8") as f:
            golds = [json.loads(l) for l in f if l.strip()]
        for i, g in enumerate(golds):
            found = glob.glob(os.path.join(out, f"{i:02}_*.json"))
            if len(found) != 1:
                sys.exit(f"{out}: expected one {i:02}_*.json for gold timeline {i} of {topic}")
            with open(found[0], encoding="utf-8") as f:
                pred = json.load(f)
            ref = Timeline({parse_date(d): list(s) for d, s in g["entries"]})
            sys_tl = Timeline({parse_date(e["date"]): list(e["sentences"]) for e in pred if e["sentences"]})
            scores = evaluator.evaluate_align_date_content_costs_many_to_one(sys_tl, GroundTruth([ref]))
            ref_dates, pred_dates = set(ref.get_dates()), set(sys_tl.get_dates())
            hits = len(ref_dates & pred_dates)
            p = hits / len(pred_dates) if pred_dates else 0.0
            r = hits / len(ref_dates) if ref_dates else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            rows.append({"timeline": os.path.basename(found[0])[:-5], "topic": os.path.basename(os.path.normpath(topic)),
                         "AR-1": scores["rouge_1"]["f_score"], "AR-2": scores["rouge_2"]["f_score"], "date_F1": f1})
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("AR-1", "AR-2", "date_F1")}
    if a.json:
        print(json.dumps({"timelines": rows, "mean": mean, "n": len(rows)}, indent=1))
        return
    print(f"{'timeline':<28}{'AR-1 F':>9}{'AR-2 F':>9}{'date F1':>9}")
    for r in rows:
        print(f"{r['topic'] + '/' + r['timeline']:<28}{r['AR-1']:>9.4f}{r['AR-2']:>9.4f}{r['date_F1']:>9.4f}")
    print(f"{'mean of ' + str(len(rows)) + ' timelines':<28}{mean['AR-1']:>9.4f}{mean['AR-2']:>9.4f}{mean['date_F1']:>9.4f}")


if __name__ == "__main__":
    main()
