# The workbook's entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WORKBOOK := $(PY) -m workbook
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: help venv lock lab test lint notebooks replay prove checkpoints check reset backups restore \
        progress doctor outputs images docker bench clean tooling-tests system postgres gates throughput wrong-answers

help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements/workbook.txt pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing the workbook's locked packages into $(VENV) (about a minute the first time)"
	@$(PY) -m pip install --quiet --progress-bar off -r requirements/workbook.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(STAMP) ## create the virtual environment and install everything (only when missing or stale)

# The lock keeps every version it already has (pip-compile's rule) unless UPGRADE=1 asks for the newest.
lock: $(STAMP) ## refresh requirements/workbook.txt from requirements/workbook.in (UPGRADE=1: newest versions)
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) \
		--output-file=requirements/workbook.txt requirements/workbook.in
	@echo "requirements/workbook.txt refreshed: run make venv, then make test (the stored outputs depend on it)"

$(LAB_SETTINGS): scripts/lab-overrides.json | $(STAMP)
	@mkdir -p $(dir $@) && cp $< $@

lab: $(STAMP) $(LAB_SETTINGS) ## open JupyterLab on notebooks/ with notebook 00 (offline: no news, no update checks)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00-orientation.ipynb \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

system: ## install the Debian packages the tests need (PostgreSQL, podman, Chromium)
	@scripts/system-packages.sh

postgres: ## start a local PostgreSQL and print its URL
	@scripts/postgres.sh

test: ## install what the tests need, then run the whole suite (what CI runs)
	@scripts/test.sh

tooling-tests: $(STAMP) ## the tooling's own tests, with coverage (two processes: the machine's cores)
	$(PY) -m pytest tests -n 2 --cov=workbook --cov-report=term-missing $(PYTEST_ARGS)

lint: $(STAMP) ## black, flake8 and mypy on the tooling
	$(VENV)/bin/black --check --quiet workbook tests checkpoints gates
	$(VENV)/bin/flake8 workbook tests checkpoints gates
	$(VENV)/bin/mypy

notebooks: $(STAMP) ## regenerate the learner notebooks from solutions/ (instructors)
	@$(WORKBOOK) notebooks

replay: $(STAMP) ## replay every solution notebook headless under nbval, each into a scratch folder
	@$(WORKBOOK) replay $(NB)

prove: $(STAMP) ## prove each checkpoint passes on the solutions and fails on the unsolved notebooks
	@$(WORKBOOK) prove $(CP)

outputs: $(STAMP) ## refresh a solution notebook's stored outputs: make outputs NB=03 (ONWARD=1: and all after it)
	@test -n "$(NB)" || { echo "usage: make outputs NB=<notebook> [ONWARD=1]" >&2; exit 2; }
	@$(WORKBOOK) outputs $(NB) $(if $(ONWARD),--onward)

checkpoints: $(STAMP) ## list checkpoint ids and titles
	@$(WORKBOOK) checkpoints

check: $(STAMP) ## run checkpoint CP=id (without CP: every checkpoint reached so far)
	@$(WORKBOOK) check $(CP)

reset: $(STAMP) ## back up services/, then rebuild it as the solutions leave checkpoint CP=id (CP=start: empty)
	@test -n "$(CP)" || { echo "usage: make reset CP=<checkpoint id or start>" >&2; exit 2; }
	@$(WORKBOOK) reset $(CP)

backups: $(STAMP) ## list the backups of services/
	@$(WORKBOOK) backups

restore: $(STAMP) ## restore BACKUP=id (the current state is backed up first)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=<id> (see make backups)" >&2; exit 2; }
	@$(WORKBOOK) restore $(BACKUP)

progress: $(STAMP) ## the checklist ticked from your checkpoints, your times against the targets
	@$(WORKBOOK) progress

doctor: $(STAMP) ## check the checklist's common issues and print their fixes
	@$(WORKBOOK) doctor

images: ## podman without a Docker engine: configure it and make python:3.11-slim locally (no-op elsewhere)
	@scripts/podman-setup.sh
	@scripts/base-image.sh

docker: $(STAMP) images ## build and smoke-test an image of every service in services/ (REFERENCE=1: the solutions')
	@$(WORKBOOK) docker $(if $(REFERENCE),--reference)

bench: $(STAMP) ## time check, reset and replay against their targets, then the throughput table (informs, never gates)
	@$(WORKBOOK) bench
	@$(MAKE) --no-print-directory throughput

gates: $(STAMP) ## fuzz, load and break every HTTP service as a real server (-m harness: the harness alone)
	@TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$$(scripts/postgres.sh)} WORKBOOK_REQUIRE_POSTGRES=1 \
		PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(PY) -m pytest -c gates/pytest.ini gates $(PYTEST_ARGS)

throughput: $(STAMP) ## every HTTP service against a bare FastAPI + SQLAlchemy app at 16, 64, 256 connections (wrk)
	@TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$$(scripts/postgres.sh)} $(PY) -m workbook.throughput

wrong-answers: $(STAMP) ## mutate each exercise's reference answer; count the variants each checkpoint rejects (CP=id, SAMPLE=N)
	@$(WORKBOOK) wrong-answers $(CP) $(if $(SAMPLE),--sample $(SAMPLE)) $(WRONG_ARGS)

clean: ## remove caches and scratch files (never services/ or your progress)
	rm -rf .pytest_cache .mypy_cache .coverage htmlcov build *.egg-info
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
