# Two commands do everything on a fresh machine:
#   make run   set up, build the default model if needed, start the service on 127.0.0.1:8000
#              (embedded SQLite in ./data; first start: admin account and demo messages)
#   make test  set up and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MODEL  := models/ACTIVE
CORPUS := $(wildcard training/corpus/*.jsonl) $(wildcard triage/data/rules/*.toml) triage/data/taxonomy.toml

.PHONY: setup model run test test-deps lint bench bench-mail bench-retrain evaluate clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The default model: trained from the shipped corpus when missing or older than the corpus.
model: $(MODEL)

$(MODEL): $(STAMP) $(CORPUS)
	$(BIN)/triage train

run: model
	$(BIN)/triage classify --input triage/data/demo.jsonl --format text
	$(BIN)/triage serve --demo

# Real services for the tests (PostgreSQL, Dovecot, Chromium): installed when missing;
# what cannot be installed is named, and its tests skip with that reason.
test-deps: setup
	VENV=$(VENV) bash scripts/test-deps.sh

test: setup test-deps
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check triage training tests benchmarks

evaluate: model
	$(BIN)/triage evaluate ../shared/devset/devset.jsonl

bench: model
	$(BIN)/python benchmarks/classify_speed.py
	PYTHONPATH=. $(BIN)/python benchmarks/api_latency.py

bench-mail: model test-deps
	PYTHONPATH=. $(BIN)/python benchmarks/mail_tagging.py

bench-retrain: model
	PYTHONPATH=. $(BIN)/python benchmarks/retrain_scale.py
	PYTHONPATH=. $(BIN)/python benchmarks/learning_curve.py

clean:
	rm -rf $(VENV) models/versions models/ACTIVE models/history.jsonl
