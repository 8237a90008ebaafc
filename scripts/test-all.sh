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
# The production build has no test hooks (they are in test builds only, vite --mode test).
! grep -rlE '__samApp|__samSegmentation' dist/ || { echo 'test hooks found in the production build (dist/)' >&2; exit 1; }
CI=1 npx playwright test
