#!/usr/bin/env bash
# The headless browser the console's end-to-end test drives (test/console.e2e-spec.ts): Debian's
# chromium package. Idempotent: nothing to do when a Chromium is found (CHROMIUM_PATH, or chromium /
# chromium-browser on PATH). Installs with apt-get as root, or through sudo when it asks for no
# password; otherwise says what to run and exits 0 (the test is then skipped, saying why).
set -euo pipefail

for candidate in "${CHROMIUM_PATH:-}" "$(command -v chromium || true)" "$(command -v chromium-browser || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "chromium: $candidate" >&2
    exit 0
  fi
done

if ! command -v apt-get > /dev/null; then
  echo "chromium: not found and no apt-get here; install a Chromium and set CHROMIUM_PATH to run the console test" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
  as_root=(sudo -n)
else
  echo "chromium: not found; install it with: sudo apt-get install -y chromium (the console test is skipped until then)" >&2
  exit 0
fi
echo "chromium: installing Debian's package (apt-get install chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be missing or stale.
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium > /dev/null 2>&1 \
  || { "${as_root[@]}" apt-get update -q > /dev/null && "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium > /dev/null; }
echo "chromium: $(command -v chromium)" >&2
