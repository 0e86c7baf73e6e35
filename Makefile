# Konvert: `make run` serves the app, `make test` checks everything, `make bench` prints timings.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DB ?= sqlite
export FLASK_APP := app:create_app

.PHONY: run test scale-test bench bench-load audit install system-deps translations lint clean

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/flask

install: $(BIN)/flask translations

system-deps:
	scripts/install-system-deps.sh

translations: $(BIN)/flask
	$(BIN)/pybabel compile -d app/translations > /dev/null

# `all`: set up the database (migrations, templates, demo data the first time), then serve with
# the web server and the job scheduler on this machine. scripts/run.sh lists the other roles.
run: system-deps install
	scripts/run.sh all

test: system-deps install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/flask letters check
	$(BIN)/python -m pytest -n auto

# Two "machines" on PostgreSQL, Redis and an SMTP sink, on loopback, through fault scenarios
# (tests/test_scale.py); a few minutes.
scale-test: system-deps install
	$(BIN)/python -m pytest -m scale tests/test_scale.py

bench: system-deps install
	$(BIN)/python bench/pdf_single.py
	$(BIN)/python bench/censor_check.py
	$(BIN)/python bench/pack.py
	$(BIN)/python bench/mailroom_run.py
	$(BIN)/python bench/crypto.py

# A bounded wapiti scan of the app served as `make run` serves it (production settings over
# HTTPS on loopback); fails on any vulnerability or server error it finds.
audit: system-deps install
	$(BIN)/python scripts/audit.py

# Not part of `make bench`: builds a 1,000,000-event data set in ./instance-bench the first time
# (about 2–3 minutes), serves it with scripts/run.sh and loads it with bench/load.py.
# DB=postgres: the same in a PostgreSQL cluster kept in ./instance-bench-pg (see bench/load.sh).
bench-load: system-deps install
	DB=$(DB) bench/load.sh $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
