# One target runs what CI runs: `make test`. `make demo` runs the pipeline locally on sample data.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
LAKE ?= .finops

.PHONY: help install test lint typecheck template unit demo bench clean

help:
	@echo "make demo   - create the environment and run the pipeline locally on sample data"
	@echo "make test   - lint, type check, template checks and the test suite (what CI runs)"
	@echo "make bench  - benchmarks; writes docs/benchmarks.md"

$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(UV) pip install --quiet --python $(BIN)/python -r requirements/dev.txt -c requirements/constraints.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

template: $(STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck template unit

demo: $(STAMP)
	$(BIN)/python -m genai_finops.demo --lake $(LAKE)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(LAKE) .aws-sam .pytest_cache .mypy_cache .ruff_cache
