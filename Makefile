# The two commands: `make demo` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= ./lake
SAMPLE_ARGS := --customers 3 --months 2 --lines 6 --events-per-line 15 --seed 7
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export DO_NOT_TRACK := 1

.PHONY: demo test lint typecheck pytest fixtures bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## Run the nightly flow (Prefect ephemeral mode) over generated carrier files in a local lake.
demo: $(STAMP)
	$(BIN)/piiscan demo --lake $(LAKE)

## Lint, type-check and run every test (unit and integration).
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collects no test; make treats any non-zero exit as failure.
pytest: $(STAMP)
	$(BIN)/pytest

## Regenerate the committed sample under fixtures/sample.
fixtures: $(STAMP)
	rm -rf fixtures/sample
	$(BIN)/piiscan fixtures --out fixtures/sample $(SAMPLE_ARGS)

## Benchmarks (long: minutes to an hour on 2 cores); figures go in benchmarks/README.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/detection/evaluate.py
	$(BIN)/python benchmarks/detection/scale.py
	$(BIN)/python benchmarks/pseudonymize.py
	$(BIN)/python benchmarks/purge.py
	$(BIN)/python benchmarks/flow_overhead.py

clean:
	rm -rf $(VENV) $(LAKE) .pytest_cache .mypy_cache .ruff_cache
