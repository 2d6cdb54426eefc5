VENV ?= .venv
PYTHON ?= python3

.PHONY: install run test lint

# Install once into $(VENV); re-run when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed

# Socket Mode when SLACK_APP_TOKEN is set (no public URL needed), HTTP on :3000
# otherwise; the first log line says which.
run: install
	$(VENV)/bin/rapport serve

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
