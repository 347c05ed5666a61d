# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PWATCH := $(VENV)/bin/pwatch
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck check bench browser-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

## demo: install, build a fresh demo database from the sample, detect, summarise, serve the console
demo: $(STAMP)
	$(PWATCH) demo

## test: install (with test extras and the headless browser) and run the whole suite
test: $(STAMP) browser-deps
	$(PY) -m pytest

## test-fast: the suite without slow, browser and reliability tests
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser and not reliability"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

## browser-deps: Debian's Chromium for the end-to-end console test (Playwright drives it)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian chromium for the browser tests" >&2; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium'" >&2; exit 1; \
		fi; \
	fi

bench: $(STAMP)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_screen.py
	$(PY) bench/bench_detect.py
	$(PY) bench/bench_console.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
