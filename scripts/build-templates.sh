#!/usr/bin/env bash
# Writes the weight-free graph templates for the official sam_med3d_turbo.pth (ViT-B, "vit_b_ori")
# into public/models/sam-med3d-turbo/templates/ (committed; the app and the CLI build sessions from
# them and the user's checkpoint). Templates hold no weight values, so a random checkpoint with the
# official names and shapes stands in for the real one (which cannot be downloaded here).
# The output is deterministic: re-running with the same exporter gives identical bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.cache/build-templates
out=public/models/sam-med3d-turbo/templates
mkdir -p "$work"
[ -f "$work/vit_b.pth" ] || /usr/bin/python3 models/make_random_checkpoint.py --preset vit_b --out "$work/vit_b.pth"
rm -rf "$work/export"
/usr/bin/python3 models/export.py --checkpoint "$work/vit_b.pth" --out "$work/export" > /dev/null
mkdir -p "$out"
cp "$work/export/templates/manifest.json" "$work/export/templates/encoder.onnx" "$work/export/templates/decoder.onnx" "$out/"
rm -rf "$work/export"  # the full graphs (about 400 MB) were only needed to derive the templates
echo "build-templates: wrote $out ($(du -sh "$out" | cut -f1))"
