# towerwidgets — the two commands of the README's Quick start are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP := $(VENV)/.test-installed
# The TFX lane's own environment (tfx 1.16 needs Python 3.10; see towerwidgets/pipeline/).
TFX_VENV ?= .venv-tfx
TFX_STAMP := $(TFX_VENV)/.installed
TFX_REQUIREMENTS := towerwidgets/pipeline/image/requirements.txt
TFX_BASE_PYTHON ?= $(shell p="$$(pyenv root 2>/dev/null)/versions/3.10.13/bin/python3.10"; \
	if [ -x "$$p" ]; then echo "$$p"; else command -v python3.10; fi)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1


.PHONY: docs bench screenshots demo test install install-test tfx-env js-build lint format pytest js-test notebooks e2e chromium postgresql clean dev

demo: $(RUNTIME_STAMP)  ## create .venv, install, run a quick test on the built-in sample
	$(BIN)/towerwidgets demo

test: $(TEST_STAMP) $(TFX_STAMP) chromium postgresql  ## every lane: ruff, docs, JS tests, pytest, notebooks, browser
	$(MAKE) js-build
	$(MAKE) lint
	$(MAKE) docs
	$(MAKE) js-test
	$(MAKE) pytest
	$(MAKE) notebooks
	$(MAKE) e2e

install: $(RUNTIME_STAMP)
install-test: $(TEST_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

node_modules/.package-lock.json: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

js-build: node_modules/.package-lock.json
	npm run build

# The editable install builds the front-end bundle (hatch-jupyter-builder runs npm).
$(RUNTIME_STAMP): $(VENV)/bin/python pyproject.toml package.json
	$(MAKE) js-build
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $@

# tfx 1.16 on Python 3.10, from the pinned set that the pipeline image installs too. uv
# installs the ~3 GB set in about a minute (pip's resolver backtracks for a long time).
tfx-env: $(TFX_STAMP)  ## the TFX environment (.venv-tfx) for local pipeline runs and compiling

$(TFX_STAMP): $(TFX_REQUIREMENTS) $(VENV)/bin/python
	@if [ -z "$(TFX_BASE_PYTHON)" ]; then \
		echo "error: the TFX lane needs Python 3.10 (tfx 1.16); set TFX_BASE_PYTHON=/path/to/python3.10" >&2; \
		exit 1; fi
	$(PY) -m pip install --quiet "uv>=0.4,<1"
	rm -rf $(TFX_VENV)
	$(BIN)/uv venv --quiet --seed --python "$(TFX_BASE_PYTHON)" $(TFX_VENV)
	$(BIN)/uv pip install --quiet --python $(TFX_VENV)/bin/python -r $(TFX_REQUIREMENTS)
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download one here), and an
# emoji font so the widgets' ⚙ 🗑 icons render in screenshots.
chromium:
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; fi

# Debian's PostgreSQL server binaries: the shared-store tests start a throwaway server
# (initdb + pg_ctl on 127.0.0.1, as the postgres user when run as root).
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq postgresql >/dev/null; fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check towerwidgets tests benchmarks
	$(BIN)/ruff format --check towerwidgets tests benchmarks

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix towerwidgets tests benchmarks
	$(BIN)/ruff format towerwidgets tests benchmarks

# The documentation site (mkdocs.yml) into site/; --strict fails on any warning: a broken
# link, an unresolved API reference, a page missing from the nav.
docs: $(TEST_STAMP)  ## build the documentation site (strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

js-test: node_modules/.package-lock.json
	npm test

pytest: $(TEST_STAMP) postgresql
	$(BIN)/pytest -n 2 --dist loadgroup -p no:cacheprovider --durations=15 tests --ignore=tests/e2e

notebooks: $(TEST_STAMP)
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
		$(BIN)/pytest -p no:cacheprovider --nbval-lax --nbval-current-env notebooks --ignore=notebooks/regression; fi
	@if ls notebooks/regression/*.ipynb >/dev/null 2>&1; then \
		$(BIN)/pytest -p no:cacheprovider --nbval --nbval-current-env \
			--nbval-sanitize-with notebooks/regression/sanitize.cfg notebooks/regression; fi

e2e: $(TEST_STAMP) chromium
	@if [ -d tests/e2e ]; then $(BIN)/pytest -p no:cacheprovider tests/e2e; fi

bench: $(TEST_STAMP)  ## the benchmark scripts (not part of `make test`)
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/quicktest_vs_tfrs.py --markdown
	$(PY) benchmarks/ui_latency.py

screenshots: $(TEST_STAMP) chromium  ## re-take docs/screenshots in a real JupyterLab
	$(MAKE) js-build
	TOWERWIDGETS_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:cacheprovider tests/e2e --ignore=tests/e2e/test_smoke.py

dev:  ## rebuild the bundle on change; use with ANYWIDGET_HMR=1 in the kernel
	npm run dev

clean:
	rm -rf $(VENV) $(TFX_VENV) node_modules towerwidgets/static dist build site .pytest_cache
