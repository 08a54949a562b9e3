# The commands of the README: `make run`, `make test` and `make bench`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8080` (or HOST=0.0.0.0); links in emails follow NOTIFIER_BASE_URL, not these.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install clean bench bench-smoke bench-million faults-cluster

# setuptools tells every editable install of a flat layout (packages at the top, no src/)
# that same-named folders may shadow it: that is how this tree is meant to be imported,
# so that one notice is silenced, nothing else.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate and start the whole service on SQLite; emails go to ./var/mail/.
run: $(STAMP)
	$(BIN)/notifier serve --host $(HOST) --port $(PORT)

## The whole test suite, against the real PostgreSQL, RabbitMQ and a loopback SMTP server.
## The cluster scenarios are left to `make faults-cluster` (three more RabbitMQ nodes).
test: $(STAMP)
	$(BIN)/pytest -m "not cluster"

## Scenario 10 of the fault suite: three RabbitMQ nodes of its own on loopback (root, and
## Debian's rabbitmq-server), each killed in turn mid-stream; about 5 minutes.
faults-cluster: $(STAMP)
	$(BIN)/pytest -m cluster tests/faults/test_cluster.py

## Every benchmark against its baseline of the same run; rows appended to bench/RESULTS.md.
## Needs the PostgreSQL and RabbitMQ of `make test`; builds its data sets once (notifier_bench_*).
bench: $(STAMP)
	$(BIN)/python -m bench

## The same with 1,000,000 users for matching and fan-out (the data set takes minutes to build).
bench-million: $(STAMP)
	$(BIN)/python -m bench --million

## A few hundred events, only to prove every benchmark runs (< 60 s); records nothing.
bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
