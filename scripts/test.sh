#!/usr/bin/env bash
# npm test: type-check, lint, build, bring up PostgreSQL and Kafka (reused when running), then every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# Type-checks every app and lib; end-to-end tests run the compiled apps as processes.
npx tsc -p tsconfig.json --noEmit
# The operator console is browser code with its own compiler settings (DOM, bundler resolution).
npx tsc -p apps/gateway/console/tsconfig.json --noEmit
npm run --silent lint
npm run --silent build
bash scripts/services.sh up
# The interop relying party is installed on its own, like any third-party application.
[ -d test/interop/express-rp/node_modules ] || npm ci --prefix test/interop/express-rp --no-audit --no-fund --loglevel=error
npx jest --runInBand "$@"
echo "npm test took $(( $(date +%s) - started ))s"
