#!/usr/bin/env bash
# npm start: the whole pipeline on this machine. Services up, build, migrations, then every app as
# its own process with prefixed logs under scripts/supervise.js, which restarts an app that exits;
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

service_env="$(bash scripts/services.sh up | grep -E '^(DATABASE_URL|KAFKA_BROKERS)=')"
echo "$service_env" >&2
eval "$(echo "$service_env" | sed 's/^/export /')"
cache_dir="${ULO_CACHE_DIR:-$HOME/.cache/universal-logout}"
mkdir -p "$cache_dir"
if [ -z "${MANAGEMENT_API_TOKENS:-}" ]; then
  MANAGEMENT_API_TOKENS="dev-$(node -e "process.stdout.write(require('crypto').randomBytes(18).toString('base64url'))")"
  export MANAGEMENT_API_TOKENS
  # For `npm run demo` on this machine; the next run of npm start replaces it.
  (umask 077 && printf '%s' "$MANAGEMENT_API_TOKENS" > "$cache_dir/dev-management-token")
  echo "MANAGEMENT_API_TOKENS was not set; this run accepts: ${MANAGEMENT_API_TOKENS} (also in $cache_dir/dev-management-token)" >&2
fi
if [ -z "${ALLOW_PRIVATE_NETWORK_URLS:-}" ]; then
  # A development run talks to IdPs and applications on this machine (npm run demo does).
  export ALLOW_PRIVATE_NETWORK_URLS=true
  echo "ALLOW_PRIVATE_NETWORK_URLS was not set; this development run allows loopback and private URLs (set it to false to refuse them)" >&2
fi
if [ -z "${SIGNING_KEY_ENCRYPTION_SECRET:-}" ]; then
  # A development secret that survives restarts (the signing keys in the database are encrypted with it).
  secret_file="$cache_dir/dev-signing-key-secret"
  [ -s "$secret_file" ] || node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64url'))" > "$secret_file"
  chmod 600 "$secret_file"
  SIGNING_KEY_ENCRYPTION_SECRET="$(cat "$secret_file")"
  export SIGNING_KEY_ENCRYPTION_SECRET
  echo "SIGNING_KEY_ENCRYPTION_SECRET was not set; using the development secret in ${secret_file}" >&2
fi
export LOG_LEVEL="${LOG_LEVEL:-info}"

npm run --silent build
node scripts/run-node.js libs/persistence/src/migrate.cli

apps=(gateway session-terminator refresh-token-revoker backchannel-dispatcher log-streamer)
commands=()
for app in "${apps[@]}"; do commands+=("${app}=node scripts/run-node.js apps/${app}/src/main"); done
echo "gateway on ${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT:-3000}} (operator console: /console, health: /health, OpenAPI: /api/docs)" >&2
# An app that exits is restarted after 1 s, 2 s, 4 s ... 30 s; the others keep running.
exec node scripts/supervise.js "${commands[@]}"
