#!/usr/bin/env python3
"""Leave-one-set-out for the clusterer's fitted settings.

For each setting of the grid below, one at a time, every value is scored on all rows of
`storyline eval cluster --all DATA` (set through `STORYLINE_CLUSTER_CONFIG`). Then, for
each row, the value with the highest mean B-cubed F1 over the rows of the *other* sets is
chosen (ties to the default; a set's event and topic rows are left out together) and the
row is scored with it. Prints, per row, its default score and the
settings its other rows choose off their default that move its score, with its score then.
`--json` prints every score instead.

    python3 scripts/cluster_loso.py [DATA] [--storyline BIN] [--json]

DATA defaults to ../shared/data, BIN to target/release/storyline. One evaluation takes
about a second; the whole grid about two minutes.
"""
import argparse
import json
import os
import subprocess
import sys

# Each fitted setting with the grid it is chosen from; the default is taken from the first
# run without overrides.
GRID = {
    "event_threshold": [0.24, 0.26, 0.28, 0.30, 0.32],
    "threshold_slope": [0.05, 0.06, 0.07],
    "entity_weight": [0.05, 0.1, 0.15, 0.2],
    "mean_threshold": [0.08, 0.1, 0.12],
    "mean_slope": [0.08, 0.09, 0.1],
    "merge_threshold": [0.35, 0.4, 0.45, 0.5],
    "mean_merge_threshold": [0.22, 0.27, 0.33],
    "event_half_life_days": [0.1, 0.15, 0.3, 0.5],
    "report_half_life_days": [10, 20, 30, 45],
    "report_window_days": [30, 60, 120],
    "story_threshold": [0.15, 0.2, 0.25],
    "story_mean_threshold": [0.05, 0.07, 0.09],
    "story_mean_merge_threshold": [0.05, 0.07, 0.09],
    "ambiguity_margin": [0.0, 0.03, 0.05, 0.08],
    "min_shared_keys": [1, 2, 3],
    "acronym_weight": [0.0, 0.5, 1.0, 2.0],
    "merge_terms": [1, 2, 3, 4, 6, 8, 12],
    "particulars_min_cosine": [0.0, 0.08, 0.1, 0.12, 0.13, 0.14, 0.15, 0.2, 0.25],
    "particulars_penalty": [0.0, 0.3, 0.5, 0.8],
}


def scores(binary, data, config):
    env = dict(os.environ, STORYLINE_CLUSTER_CONFIG=json.dumps(config))
    run = subprocess.run(
        [binary, "-q", "--json", "eval", "cluster", "--all", data],
        capture_output=True, text=True, env=env, check=True,
    )
    rows = json.loads(run.stdout)["sets"]
    return {f"{r['set']} {r['key']}": r["scores"]["bcubed"]["f1"] for r in rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default="../shared/data")
    ap.add_argument("--storyline", default="target/release/storyline")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    default = scores(args.storyline, args.data, {})
    rows = list(default)
    table = {}
    for name, values in GRID.items():
        table[name] = {v: scores(args.storyline, args.data, {name: v}) for v in values}
        print(f"scored {name}", file=sys.stderr)
    if args.json:
        json.dump({"default": default, "grid": {k: {str(v): s for v, s in t.items()}
                                                for k, t in table.items()}}, sys.stdout, indent=1)
        return
    print(f"{'row':34} {'default':>8}  chosen on the other rows: score then")
    for row in rows:
        others = [r for r in rows if r.split()[0] != row.split()[0]]
        moved = []
        for name, by_value in table.items():
            base = sum(default[r] for r in others) / len(others)
            best_value, best = None, base
            for value, s in by_value.items():
                mean = sum(s[r] for r in others) / len(others)
                # Strictly better than the default, so that ties keep it.
                if mean > best + 1e-9:
                    best_value, best = value, mean
            if best_value is not None:
                moved.append((name, best_value, by_value[best_value][row]))
        changed = [f"{n} {v}: {s:.4f}" for n, v, s in moved if abs(s - default[row]) > 5e-5]
        same = len(moved) - len(changed)
        text = "; ".join(changed) or "no score moves"
        if same:
            text += f" ({same} more chosen off their default, same score)"
        print(f"{row:34} {default[row]:8.4f}  {text}")


if __name__ == "__main__":
    main()
