# The README's two commands: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
REFRESH ?= 30
PYTEST_ARGS ?=
RUN_ARGS ?=

.PHONY: run test lint bench desk clean browser screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changed.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# Debian's chromium for the browser tests (never `playwright install`: no network here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: $(VENV)/.runtime
	$(BIN)/python scripts/run_live_dashboard.py -p $(PORT) -r $(REFRESH) $(RUN_ARGS)

desk: $(VENV)/.runtime
	$(BIN)/python scripts/run_executor.py

test: $(VENV)/.dev browser
	$(BIN)/ruff check trading dashboard scripts tests bench
	$(BIN)/mypy trading dashboard scripts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check trading dashboard scripts tests bench
	$(BIN)/mypy trading dashboard scripts

bench: $(VENV)/.dev
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Refresh docs/screenshot-overview.png and docs/screenshot-risk.png from the browser test
# (a live desk behind a real dashboard, after its first closed trade; no machine path on them).
screenshot: $(VENV)/.dev browser
	UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest tests/e2e/test_live_desk_browser.py -k screenshots -q
