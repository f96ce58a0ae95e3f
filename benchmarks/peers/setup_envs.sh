#!/usr/bin/env bash
# Create one virtualenv per peer tool under <repo>/.peers/ (git-ignored).
# Usage: benchmarks/peers/setup_envs.sh [opendrift] [parcels4] [parcels3]   (default: all)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PEERS_PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(opendrift parcels4 parcels3)
for t in "${tools[@]}"; do
  env="$ROOT/.peers/$t"
  echo "== $t -> $env"
  [ -x "$env/bin/python" ] || "$PY" -m venv "$env"
  "$env/bin/python" -m pip install -q --upgrade pip
  "$env/bin/python" -m pip install -q -r "$HERE/requirements-$t.txt" 2>&1 | { grep -v "is ignored: it is neither" || true; }
  "$env/bin/python" -m pip freeze > "$ROOT/.peers/$t.freeze.txt"
done
