# One entry point for users and CI. Every target sets itself up first (reusing what is installed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Byte-compile at install: with PYTHONDONTWRITEBYTECODE set, every tap start would otherwise
# compile its ~400 modules again (half a second per process).
export UV_COMPILE_BYTECODE := 1

.PHONY: install dagster demo demo-writeback demo-fulfilment test validate audit lint evaluate bench catalog sim clean check-connection

$(STAMP): pyproject.toml meltano.yml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,dagster]'
	$(BIN)/meltano install
	touch $(STAMP)

install: $(STAMP)  ## virtual environment, the project, and the Meltano plugins

demo: install  ## simulator -> meltano run tap-oracle-wms target-duckdb dbt-duckdb:build -> counts, marts
	$(BIN)/python scripts/demo.py

dagster: install  ## the Dagster UI (http://127.0.0.1:3000) on the demo warehouse: simulator, PostgreSQL, every entity group
	$(BIN)/python scripts/dagster_demo.py

demo-writeback: install  ## PostgreSQL sample -> meltano run postgres-to-wms -> the simulator -> what was applied
	$(BIN)/python scripts/demo_writeback.py

demo-fulfilment: install  ## PostgreSQL system of record -> stage, wave, pick, ship, receive through Meltano -> end state
	$(BIN)/python scripts/demo_fulfilment.py

# Two workers (pytest-xdist): the suite keeps about one core busy on its own (user+sys 1,501 s in
# 1,516 s wall, measured), and CI has two. Tests that share a warehouse or Dagster's dbt manifest
# stay on one worker (tests/conftest.py); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
test: install  ## the whole test suite (what .ci/run calls)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The four packages' line coverage over the whole suite, subprocesses included (pyproject.toml);
# 94 % measured when it was set.
COVERAGE_MIN ?= 90
AUDIT := $(BIN)/pip-audit --strict --skip-editable --progress-spinner off
validate: lint  ## lint, the tests with coverage (at least COVERAGE_MIN %), then pip-audit
	rm -rf .coverage-data
	$(BIN)/python -m coverage run -m pytest
	$(BIN)/python -m coverage combine --quiet
	$(BIN)/python -m coverage report --fail-under=$(COVERAGE_MIN)
	$(AUDIT)

audit: install  ## pip-audit of the installed dependencies (asks PyPI; --strict: a package it cannot check fails)
	$(AUDIT)

# sqlfluff renders the dbt models with dbt's own templater against the DuckDB profile (no
# database is opened: DBT_DUCKDB_PATH only has to be set); transform/.sqlfluff holds the rules.
# It lives in a virtual environment of its own (transform/requirements-lint.txt says why).
SQLFLUFF_VENV := $(VENV)/sqlfluff
SQLFLUFF_STAMP := $(SQLFLUFF_VENV)/.installed-stamp
$(SQLFLUFF_STAMP): transform/requirements-lint.txt $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(SQLFLUFF_VENV)
	$(BIN)/uv pip install --quiet --python $(SQLFLUFF_VENV)/bin/python -r transform/requirements-lint.txt
	touch $@

lint: install $(SQLFLUFF_STAMP)  ## ruff, ruff format --check, mypy --strict, sqlfluff (dbt templater) on transform/; `make evaluate` too when its two variables are set
	$(BIN)/ruff check oracle_wms tap_oracle_wms target_oracle_wms oracle_wms_sim orchestration tests scripts benchmarks
	$(BIN)/ruff format --check oracle_wms tap_oracle_wms target_oracle_wms oracle_wms_sim orchestration tests scripts benchmarks
	$(BIN)/mypy --strict oracle_wms tap_oracle_wms target_oracle_wms oracle_wms_sim orchestration
	cd transform && DBT_DUCKDB_PATH=:memory: DBT_TARGET_PATH=$(CURDIR)/.venv/dbt-lint \
		$(CURDIR)/$(SQLFLUFF_VENV)/bin/sqlfluff lint --nocolor models tests
	@if [ -n "$(DBT_PROJECT_EVALUATOR)" ] && [ -n "$(DBT_UTILS)" ]; then $(MAKE) --no-print-directory evaluate; \
	else echo "dbt-project-evaluator skipped: set DBT_PROJECT_EVALUATOR and DBT_UTILS (transform/README.md)"; fi

# dbt-labs' dbt-project-evaluator over transform/, from local checkouts of dbt-project-evaluator
# and dbt-utils (dbt packages, not on PyPI; CI is offline): transform/README.md.
evaluate: install  ## dbt-project-evaluator over transform/: make evaluate DBT_PROJECT_EVALUATOR=<dir> DBT_UTILS=<dir>
	$(BIN)/python scripts/evaluate_dbt.py "$(DBT_PROJECT_EVALUATOR)" "$(DBT_UTILS)"

catalog: install  ## rediscover catalogs/tap-oracle-wms.catalog.json from the simulator
	$(BIN)/python scripts/discover_catalog.py

SIM_PORT ?= 8765
sim: install  ## run the simulator in the foreground on port 8765 (the dev environment's WMS)
	$(BIN)/oracle-wms-sim serve --port $(SIM_PORT)

clean:
	rm -rf $(VENV) .meltano output .coverage-data

check-connection: install  ## settings valid, credentials accepted, entity count (uses meltano config)
	$(BIN)/meltano invoke tap-oracle-wms --check-connection

bench: install  ## benchmarks -> benchmarks/RESULTS.md (BENCH_ARGS=--quick: under 2 minutes)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
