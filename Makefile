# One target runs what CI runs: `make test`. `make demo` runs the pipeline locally on sample data.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
LAKE ?= .finops
DEMO_DATA ?= demo-data

.PHONY: help install test lint typecheck template sam-build unit demo bench clean

help:
	@echo "make demo   - create the environment and run the pipeline locally on sample data"
	@echo "make test   - lint, type check, template checks and the test suite (what CI runs)"
	@echo "make bench  - benchmarks; writes docs/benchmarks.md"
	@echo "make eval   - anomaly detection precision, recall and time to detect; writes docs/anomaly-benchmark.md"
	@echo "make sam-build - build the Lambda functions and the shared layer into .aws-sam/build (no Docker)"

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

# aws-sam-cli pins versions that conflict with the main environment, so it has its own venv.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
# `sam build` needs the Lambda runtime's Python (3.13) on PATH; pyenv's copy is used when present.
PYTHON313_DIR ?= $(shell pyenv root 2>/dev/null)/versions/3.13.0/bin
SAM_PATH := $(PYTHON313_DIR):$(PATH)

$(SAM_STAMP): requirements/sam.txt $(STAMP)
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip install --quiet --python $(SAM_VENV)/bin/python -r requirements/sam.txt
	touch $(SAM_STAMP)

sam-build: $(SAM_STAMP)
	@PATH="$(SAM_PATH)" command -v python3.13 >/dev/null || \
		{ echo "sam build needs python3.13 on PATH (for example: pyenv install 3.13.0)" >&2; exit 1; }
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 PIP="$(CURDIR)/$(SAM_VENV)/bin/python -m pip" \
		$(SAM_VENV)/bin/sam build --template-file template.yaml --build-dir .aws-sam/build

# cfn-lint fails on template errors; the size test measures the sam build output.
template: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(MAKE) sam-build
	$(BIN)/pytest -q -p no:cacheprovider -m package_size tests/template

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck template unit

demo: $(STAMP)
	$(BIN)/python -m genai_finops.demo --lake $(LAKE) --data $(DEMO_DATA)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# Precision, recall and time to detect of anomaly detection on the labelled benchmark (seeds 7 to 12, large organisation).
.PHONY: eval
eval: $(STAMP)
	$(BIN)/python -m genai_finops.anomalies.evaluation --seed 7 --size large --other-seeds 5 --out docs/anomaly-benchmark.md

clean:
	rm -rf $(VENV) $(SAM_VENV) $(LAKE) $(DEMO_DATA) .aws-sam .pytest_cache .mypy_cache .ruff_cache
