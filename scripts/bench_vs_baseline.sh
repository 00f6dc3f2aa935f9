#!/usr/bin/env bash
# storyline against the single-pass scikit-learn clusterer (scripts/baseline_singlepass.py),
# one after the other in one run, on the same inputs: N generated full articles
# (`storyline bench ingest --write`) and the uci-stream headlines. Prints both rates and
# the ratio. storyline's time covers everything (parse, clean, dedup, entities, clustering,
# the store with its full-text index); the baseline's covers only its clustering pass.
#
#   cargo build --release -p storyline-cli && pip install scikit-learn
#   scripts/bench_vs_baseline.sh [N=10000]
set -euo pipefail
n=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${STORYLINE_BIN:-$here/target/release/storyline}
data=${STORYLINE_DATA:-$here/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" bench ingest --articles "$n" --data "$data" --write "$tmp/stream.jsonl"

rate() { # storyline's articles/s on a fresh store
  "$bin" -q --json --db "$tmp/$2.db" ingest "$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["ingest"]; print(r["stored"]/r["seconds"])'
}
base() {
  python3 "$here/scripts/baseline_singlepass.py" "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["articles_per_second"])'
}
for input in "$tmp/stream.jsonl:generated-$n" "$data/cluster/uci-stream/articles.jsonl:uci-stream"; do
  file=${input%%:*}
  name=${input##*:}
  s=$(rate "$file" "$name")
  b=$(base "$file")
  python3 -c "print(f'$name: storyline {float($s):.0f} articles/s, scikit-learn single pass {float($b):.0f} articles/s, ratio {float($s)/float($b):.2f}')"
done
