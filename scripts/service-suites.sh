#!/usr/bin/env bash
# Each reference service as the solutions write it, checked the way its own README says:
# its test suite with coverage (integration tests against TEST_DATABASE_URL), black, flake8, mypy.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
scratch=$(mktemp -d -t workbook-services-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export WORKBOOK_SERVICES_DIR="$scratch/services" WORKBOOK_STATE_DIR="$scratch/state"
export WORKBOOK_REQUIRE_POSTGRES=1  # a skipped PostgreSQL layer is a failure here
mkdir -p "$WORKBOOK_SERVICES_DIR"

last=$("$PY" -m workbook checkpoints | tail -n 1 | awk '{print $1}')
"$PY" -m workbook reset "$last" || exit 1

failed=0
run() {
  echo "--- $service: $*"
  "$@" || { echo "FAILED: $service: $*"; failed=$((failed + 1)); }
}
for folder in "$WORKBOOK_SERVICES_DIR"/*/; do
  service=$(basename "$folder")
  [ -d "$folder/tests" ] || continue
  cd "$folder" || exit 1
  # Third-party plugins are named, not auto-loaded: the workbook's own (nbval) would slow every run.
  run env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$PY" -m pytest -p pytest_cov.plugin --cov=src -q tests/
  [ -f pyproject.toml ] && grep -q '^\[tool.black\]' pyproject.toml && run "$ROOT/.venv/bin/black" --check src tests
  { [ -f .flake8 ] || [ -f setup.cfg ] || [ -f tox.ini ]; } && run "$ROOT/.venv/bin/flake8" src tests
  [ -f pyproject.toml ] && grep -q '^\[tool.mypy\]' pyproject.toml && run "$ROOT/.venv/bin/mypy" src
  cd "$ROOT" || exit 1
done
[ "$failed" -eq 0 ]
