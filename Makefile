# Two commands for a new user: `make demo` and `make test`. Both create .venv and install the pins first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint report clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m etl.demo

test: $(STAMP)
	$(BIN)/python -m ruff check etl dags tests scripts
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check etl dags tests scripts

clean:
	rm -rf $(VENV) .airflow data reports
