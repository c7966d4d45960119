#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/system-packages.txt that are missing, so that
# `npm test` alone sets up what the tests need on a fresh machine (PostgreSQL, nginx, Chromium…).
# Idempotent and quick when everything is present. Set MLOPS_SKIP_SYSTEM_DEPS=1 to skip.
set -euo pipefail
[[ "${MLOPS_SKIP_SYSTEM_DEPS:-}" == "1" ]] && exit 0
list="$(dirname "$0")/system-packages.txt"
missing=()
while IFS= read -r line; do
  pkg="${line%%#*}"
  pkg="$(echo "$pkg" | tr -d '[:space:]')"
  [[ -z "$pkg" ]] && continue
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done <"$list"
((${#missing[@]} == 0)) && exit 0
echo "system-deps: installing ${missing[*]}" >&2
if [[ "$(id -u)" == "0" ]]; then
  run=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "system-deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq >&2
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
