#!/usr/bin/env bash
# Exports the fidelity fixtures' checkpoints to ONNX for the tests (never committed):
#   .cache/models/NAME/        optimized encoder (the default graph), and its int8 variant (--int8)
#   .cache/models/NAME-plain/  plain encoder (the official padded-window attention)
# for NAME = mini (tests/fixtures/sam-med3d-mini, in the repository) and fixture-a
# (../shared/fixtures/sam-med3d/fixture-a, an extra check, only when it is present).
# Skips an export whose checkpoint and exporter sources are unchanged since it was made.
# Also prepares the ViT-B-sized random checkpoint and export the turbo-path tests share.
set -euo pipefail
cd "$(dirname "$0")/.."

export_fixture() {
  local name="$1" checkpoint="$2"
  for graph in optimized plain; do
    local out=".cache/models/$name"
    [ "$graph" = plain ] && out=".cache/models/$name-plain"
    local stamp int8=()
    [ "$graph" = optimized ] && int8=(--int8)
    stamp="$(cat "$checkpoint" models/export.py models/sammed3d/*.py | sha256sum | cut -d' ' -f1) $graph ${int8[*]}"
    if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -f "$out/model.json" ]; then
      echo "prepare-test-models: $out is up to date"
      continue
    fi
    rm -rf "$out"
    /usr/bin/python3 models/export.py --checkpoint "$checkpoint" --out "$out" --graph "$graph" "${int8[@]}"
    echo "$stamp" > "$out/.stamp"
  done
}

export_fixture mini tests/fixtures/sam-med3d-mini/checkpoint.pth
fixture_a=../shared/fixtures/sam-med3d/fixture-a/checkpoint.pth
if [ -f "$fixture_a" ]; then
  export_fixture fixture-a "$fixture_a"
else
  echo "prepare-test-models: $fixture_a is not present: the extra fixture-a checks will be skipped"
fi

# The engine's oracle model (geometry tests): tiny, regenerated every time.
/usr/bin/python3 models/oracle.py .cache/models/oracle

# The turbo-sized random checkpoint and its export (tests/support/vit-b-checkpoint.ts, minutes to
# make on a fresh clone), made once here rather than by several Vitest workers at the same time.
npx tsx -e "import('./tests/support/vit-b-checkpoint.ts').then(({ prepareVitB }) => prepareVitB())"
