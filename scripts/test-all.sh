#!/usr/bin/env bash
# The whole test suite: system packages, type-check, lint, unit, exporter, end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
[ -d node_modules ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci  # see .ci/run
npm run typecheck
npm run lint
npm run test:py
bash scripts/prepare-test-models.sh
npm run test:unit
npx vite build
CI=1 npx playwright test
