# The two commands: `make demo` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= ./lake
SAMPLE_ARGS := --customers 3 --months 2 --lines 6 --events-per-line 15 --seed 7
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export DO_NOT_TRACK := 1

.PHONY: demo test lint typecheck pytest fixtures bench screenshot clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,fixtures]'
	touch $(STAMP)

## Run the nightly flow (Prefect ephemeral mode) over generated carrier files in a local lake.
demo: $(STAMP)
	$(BIN)/piiscan demo --lake $(LAKE)

## Lint, type-check and run every test (unit and integration).
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src flows tests benchmarks docs
	$(BIN)/ruff format --check src flows tests benchmarks docs
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's Chromium, for the tests that open the HTML report in a real headless browser.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	  || ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium)

# pytest exits 5 when it collects no test; make treats any non-zero exit as failure.
pytest: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest

## Regenerate the committed sample under fixtures/sample.
fixtures: $(STAMP)
	rm -rf fixtures/sample
	$(BIN)/piiscan fixtures --out fixtures/sample $(SAMPLE_ARGS)

## Benchmarks (long: minutes to an hour on 2 cores); figures go in benchmarks/README.md.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,fixtures,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/detection/evaluate.py
	$(BIN)/python benchmarks/detection/scale.py
	$(BIN)/python benchmarks/pseudonymize.py
	$(BIN)/python benchmarks/purge.py
	$(BIN)/python benchmarks/flow_overhead.py

## Regenerate docs/report.png (the demo's report on its second night, in headless Chromium).
screenshot: $(STAMP) $(CHROMIUM)
	$(BIN)/python docs/screenshot.py

clean:
	rm -rf $(VENV) $(LAKE) .pytest_cache .mypy_cache .ruff_cache
