# The two commands for a newcomer: `make demo` and `make test` (see README.md). Every target creates .venv when
# missing; nothing needs to be installed by hand beyond Python 3.11 and make.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PROVIDER_STAMP := $(VENV)/.provider-installed
PIP := $(BIN)/pip install -q -c constraints.txt
# pip on some machines warns about missing local indexes; hide only that noise.
QUIET := 2> >(grep -v 'is ignored: it is neither' >&2)
export XDG_RUNTIME_DIR ?= /tmp
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)/plugins:$(CURDIR)

.PHONY: help venv dev demo test lint typecheck airflow airflow-stop connect conformance bench clean

help:
	@echo "make demo          run the DAG (upload, then sync) against both simulators and print what it did"
	@echo "make test          lint, type-check and run the whole test suite"
	@echo "make airflow       start Airflow (UI on http://localhost:8080) with the simulators; make airflow-stop stops it"
	@echo "make connect       connect a QuickBooks company (OAuth authorization-code flow)"
	@echo "make conformance   check what the simulators assume, against them (CONNECTIONS=env: your real accounts)"
	@echo "make bench         run the benchmarks in bench/ (prints figures)"
	@echo "make venv          only create .venv: the requirements and the hooks as the Airflow provider stqbo-hooks"

$(RUNTIME_STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements.txt into $(VENV) (first time: about a minute)"
	@$(BIN)/pip install -q --upgrade pip $(QUIET)
	@$(PIP) -r requirements.txt $(QUIET)
	@$(BIN)/python devenv/write_pth.py
	@touch $@

# The hooks as the Airflow provider stqbo-hooks (pyproject.toml [project]): Airflow finds its connection types
# through the entry point (Admin > Providers, the connection forms and their Test button). Editable, so the code
# that runs stays plugins/stqbo_hooks; re-installed when pyproject.toml changes.
$(PROVIDER_STAMP): $(RUNTIME_STAMP) pyproject.toml
	@$(PIP) --no-deps -e . $(QUIET)
	@touch $@

$(DEV_STAMP): $(PROVIDER_STAMP) requirements-dev.txt
	@$(PIP) -r requirements.txt -r requirements-dev.txt $(QUIET)
	@touch $@

venv: $(PROVIDER_STAMP)
dev: $(DEV_STAMP)

demo: $(PROVIDER_STAMP)
	@$(BIN)/python -m devenv.demo

# lint: style, then the layering contracts of pyproject.toml [tool.importlinter] (PYTHONPATH above finds the packages)
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy include/stqbo_sync include/stqbo_api include/stqbo_store include/stqbo_conformance plugins/stqbo_hooks

test: $(DEV_STAMP) lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

airflow: $(PROVIDER_STAMP)
	@devenv/airflow_up.sh

airflow-stop:
	@devenv/airflow_down.sh

connect: $(PROVIDER_STAMP)
	@$(BIN)/python -m stqbo_api.connect $(ARGS)

# conformance: the check of docs/operating.md ("Checking a real account") against both simulators with their demo
# data (--write --strict: the simulators are the reference's reading, every fact must agree); CONNECTIONS=env runs
# it against the real accounts of the AIRFLOW_CONN_* variables instead, read-only unless ARGS=--write (sandbox only).
# The report is printed and written to var/conformance/report.md and report.json.
conformance: $(RUNTIME_STAMP)
	@if [ "$(CONNECTIONS)" = env ]; then $(BIN)/python -m stqbo_conformance $(ARGS); \
	else $(BIN)/python -m devenv.conformance $(ARGS); fi

bench: $(DEV_STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
