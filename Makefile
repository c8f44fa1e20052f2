# Two commands for a newcomer: `make dashboard` and `make check` (the whole suite). Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup dashboard check test test-slow experiments lint docs screenshot benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, at the versions this project is tested with (a CUDA build that also runs on CPU)
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

dashboard: $(STAMP)
	$(BIN)/cnn-tui

# The whole suite, as CI runs it: lint, then the fast tests, then the slow ones
check: lint test test-slow

# Everything but the slow cases, in two processes (pytest-xdist): minutes on 2 cores
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not experiment"

# The style-transfer matrix (24 pairs x 300 steps) and the benchmark smoke run
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "slow and not experiment" --durations=12

# Long measurements, opt-in (never in check/CI): the Grad-CAM sweep over every shipped architecture, ...
experiments: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m experiment

# ruff (a small rule set), mypy (strict on the seams, see pyproject), import-linter (.importlinter), the docs' links
lint: $(STAMP) docs
	$(BIN)/ruff check cnn_tui tests benchmarks mkdocs_hooks.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The documentation site (mkdocs.yml), built --strict into a temporary folder: a broken link or anchor fails
docs: $(STAMP)
	@site=$$(mktemp -d) && $(BIN)/mkdocs build --strict --quiet --site-dir "$$site"; rc=$$?; rm -rf "$$site"; exit $$rc

# The README's pictures: copies of the snapshot tests' SVGs (tests/ui/screenshots.py; a test checks they match)
screenshot: $(STAMP)
	$(BIN)/python -m tests.ui.screenshots

benchmark: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
