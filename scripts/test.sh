#!/usr/bin/env bash
# `make test`: install what the tests need, then run every step and summarise.
# Set-up steps stop the run when they fail; check steps all run, and the summary says which failed.
set -uo pipefail
cd "$(dirname "$0")/.."

banner() { printf '\n==== %s ====\n' "$*"; }
die() { echo "make test: $*" >&2; exit 1; }

banner "set-up: system packages"
scripts/system-packages.sh || die "could not install the system packages"
banner "set-up: Python environment"
make --no-print-directory venv || die "could not install the Python packages"
banner "set-up: PostgreSQL"
TEST_DATABASE_URL=$(scripts/postgres.sh) || die "could not start PostgreSQL"
[[ $TEST_DATABASE_URL =~ ^postgresql[+a-z]*://[^[:space:]]+$ ]] ||
  die "scripts/postgres.sh printed something other than one URL: $TEST_DATABASE_URL"
export TEST_DATABASE_URL
export WORKBOOK_REQUIRE_POSTGRES=1  # in CI, a PostgreSQL test that would skip fails instead
echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"
banner "set-up: container engine and base image"
make --no-print-directory images || die "could not set up podman and the base image"

# Kernels, Jupyter and IPython write into HOME: keep the real one clean.
SCRATCH=$(mktemp -d -t workbook-test-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
export HOME="$SCRATCH/home" JUPYTER_DATA_DIR="$SCRATCH/jupyter" IPYTHONDIR="$SCRATCH/ipython"
export WORKBOOK_STATE_DIR="$SCRATCH/state" WORKBOOK_SERVICES_DIR="$SCRATCH/services"
# prove runs each checkpoint on the solutions; the wrong-answer sample reads those results back
# as its baseline instead of running them again (same bytes in, same results out).
export WORKBOOK_RESULT_CACHE="$SCRATCH/results"
mkdir -p "$HOME" "$WORKBOOK_SERVICES_DIR"

declare -a RESULTS=()
step() {
  local name=$1; shift
  banner "$name"
  local started=$SECONDS
  if "$@"; then RESULTS+=("PASS  $name ($((SECONDS - started)) s)"); else RESULTS+=("FAIL  $name ($((SECONDS - started)) s)"); fi
}

step "lint: black, flake8, mypy" make --no-print-directory lint
step "tooling tests with coverage" make --no-print-directory tooling-tests
step "learner notebooks are fresh" .venv/bin/python -m workbook notebooks --check
step "replay: solutions under nbval" .venv/bin/python -m workbook replay --workers 2
step "checkpoints: pass on solutions, fail on learner code" .venv/bin/python -m workbook prove
# A fixed sample of wrong answers per checkpoint: every sampled wrong variant must be rejected.
# Left out: each variant of task-tests and user-tests replays the learner's whole suite on PostgreSQL,
# one at a time, and each of task-shipped builds an image (about 2 minutes per checkpoint here);
# `make wrong-answers CP=...` measures them.
step "checkpoints: wrong answers, a fixed sample" .venv/bin/python -m workbook wrong-answers --sample 2 --require \
  --skip task-tests --skip task-shipped --skip user-tests
step "services: their own test suites (PostgreSQL required) and linters" scripts/service-suites.sh
step "gates: every HTTP service fuzzed, loaded and broken on purpose" make --no-print-directory gates
if grep -qE '%%service [a-z0-9-]+ Dockerfile' solutions/*.ipynb; then
  step "images: build and smoke-test the reference services" .venv/bin/python -m workbook docker --reference
fi

banner "summary"
printf '%s\n' "${RESULTS[@]}"
failed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^FAIL' || true)
passed=$(( ${#RESULTS[@]} - failed ))
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
