# The two commands of the README: `make demo` and `make test`.
VENV := .venv
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/var/dagster_home

.PHONY: setup demo test test-live test-slow test-ui lint ui sample bench-engine clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

## Set up, then run the whole simulation on the embedded sample and print the release gate.
demo: setup
	$(VENV)/bin/deploysim demo

## The default test suite (the live local-model tests are left to `make test-live`).
test: setup
	$(VENV)/bin/python -m pytest

## Tests that start the real local model server.
test-live: setup
	$(VENV)/bin/python -m pytest -m live

## Slower tests: five versions backfilled at once through the Dagster daemon, and a Postgres-backed
## instance on a throwaway PostgreSQL server.
test-slow: setup
	$(VENV)/bin/python -m pytest -m slow

## The Dagster UI in headless Chromium (Debian's chromium and chromium-driver).
test-ui: setup
	$(VENV)/bin/python -m pytest -m ui

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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
