#!/usr/bin/env bash
# Exports the fidelity fixture's checkpoint to ONNX for the tests (never committed):
#   .cache/models/fixture-a/        optimized encoder (the default graph)
#   .cache/models/fixture-a-plain/  plain encoder (the official padded-window attention)
# Skips an export whose checkpoint and exporter sources are unchanged since it was made.
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint=../shared/fixtures/sam-med3d/fixture-a/checkpoint.pth
stamp_of() { cat "$checkpoint" models/export.py models/sammed3d/*.py | sha256sum | cut -d' ' -f1; echo "$1"; }

for graph in optimized plain; do
  out=.cache/models/fixture-a
  [ "$graph" = plain ] && out=.cache/models/fixture-a-plain
  stamp="$(stamp_of "$graph")"
  if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -f "$out/model.json" ]; then
    echo "prepare-test-models: $out is up to date"
    continue
  fi
  rm -rf "$out"
  /usr/bin/python3 models/export.py --checkpoint "$checkpoint" --out "$out" --graph "$graph"
  echo "$stamp" > "$out/.stamp"
done

# The engine's oracle model (geometry tests): tiny, regenerated every time.
/usr/bin/python3 models/oracle.py .cache/models/oracle
