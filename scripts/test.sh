#!/usr/bin/env bash
# npm test: type-check, bring up PostgreSQL and Kafka (reused when running), then every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# Type-checks every app and lib; end-to-end tests run the compiled apps as processes.
npx tsc -p tsconfig.json --noEmit
npm run --silent build
bash scripts/services.sh up
npx jest --runInBand "$@"
echo "npm test took $(( $(date +%s) - started ))s"
