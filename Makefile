# The suite's two commands: `make figures` regenerates every figure and result
# record, `make test` runs the unit tests and the notebooks under nbval.
# Both create .venv and install the pinned package when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := anomaly-suite

# Run profile for `make figures`: full (full-size data, five seeds) or quick.
PROFILE ?= full
# Path of the Kaggle credit-card CSV; empty means data/raw/creditcard.csv,
# then a cached download of OpenML 1597, then a synthetic stand-in.
CREDITCARD ?=
# 1 lets the notebooks download the credit-card data when no file is found.
DOWNLOAD ?= 1
# Folder of ADBench .npz / ODDS .mat files for notebook 06 (skipped if empty).
BENCHMARK_DIR ?=
# Real data shipped beside the repository for tests and CI, when present.
SHARED_DATA := ../shared/data

.PHONY: figures test install lint clean-executed

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python (anomaly suite)" >/dev/null
	@touch $(STAMP)

figures: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m anomaly_utils run --profile $(PROFILE) \
		--creditcard "$(CREDITCARD)" --allow-download $(DOWNLOAD) \
		--benchmark-dir "$(BENCHMARK_DIR)"

# Tests write figures and records to a temporary folder, see only an empty
# data/raw, never download, and run notebooks with their stored quick defaults.
test: $(STAMP)
	@scratch=$$(mktemp -d); \
	if [ -d "$(SHARED_DATA)/adbench" ]; then \
		export ANOMALY_UTILS_BENCHMARK_DIR="$$(cd $(SHARED_DATA)/adbench && pwd)"; \
		notebooks="notebooks"; \
	else \
		echo "$(SHARED_DATA)/adbench not found: notebook 06 is not run"; \
		notebooks=$$(ls notebooks/0[1-5]_*.ipynb); \
	fi; \
	mkdir -p "$$scratch/raw"; \
	ANOMALY_UTILS_OUTPUT_DIR="$$scratch" ANOMALY_UTILS_RAW_DIR="$$scratch/raw" \
	ANOMALY_UTILS_OFFLINE=1 MPLBACKEND=Agg \
	$(BIN)/python -m pytest tests $$notebooks --nbval-lax --nbval-current-env \
		-p no:cacheprovider -q; \
	status=$$?; rm -rf "$$scratch"; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check anomaly_utils tests notebooks benchmarks
	$(BIN)/ruff format --check anomaly_utils tests benchmarks

clean-executed:
	rm -rf build/executed
