# The two commands of the README: `make demo` and `make test`.
VENV := .venv
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/var/dagster_home

.PHONY: setup demo test test-unit test-live test-slow test-ui lint ui sample bench-engine clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

## Set up, then run the whole simulation on the embedded sample and print the release gate.
demo: setup
	$(VENV)/bin/deploysim demo

## The default test suite: unit and pipeline tests (live, slow and browser tests have their own targets).
test: setup
	$(VENV)/bin/python -m pytest

## The unit tests alone (tests/unit mirrors deploysim/ and evaluators/): under a minute, for editing.
test-unit: setup
	$(VENV)/bin/python -m pytest tests/unit

## Tests that start the real local model server.
test-live: setup
	$(VENV)/bin/python -m pytest -m live tests/live

## Slower tests: five versions backfilled at once through the Dagster daemon, a Postgres-backed instance
## on a throwaway PostgreSQL server, and the bundled sample rebuilt byte for byte from the public data.
test-slow: setup
	$(VENV)/bin/python -m pytest -m slow tests/slow

## The Dagster UI in headless Chromium (Debian's chromium and chromium-driver).
test-ui: setup
	$(VENV)/bin/python -m pytest -m ui tests/ui

## Style, and the import contracts that keep the layers apart (pyproject.toml, [tool.importlinter]).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## The Dagster UI on the same instance the demo wrote to.
ui: setup
	mkdir -p $(DAGSTER_HOME)
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml

## Rebuild the bundled sample from the public data sets beside the checkout.
sample: setup
	$(VENV)/bin/python scripts/build_sample.py --shared ../shared/data --out data/sample
	$(VENV)/bin/python scripts/build_validation_sets.py --shared ../shared/data --out data/validation
	$(VENV)/bin/python scripts/build_probe_suites.py --shared ../shared/data --out data/probe_suites

## The regeneration engine against a loopback stub, side by side with Inspect (in its own venv: it pins an
## older fsspec than dagster's).
bench-engine: setup
	test -x var/bench-venv/bin/python || ($(VENV)/bin/python -m venv var/bench-venv \
		&& var/bench-venv/bin/pip install -q "inspect-ai==0.3.285" "openai==3.57.0")
	$(VENV)/bin/python benchmarks/regeneration_engine.py

clean:
	rm -rf var
