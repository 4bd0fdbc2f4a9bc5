# Renfort RH — `make run` starts the app on demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
PORT ?= 8501
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# The suite's processes (pytest-xdist): one per core by default; `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto

.PHONY: install run worker test lint chromium nginx postgres clean-db

$(STAMP): requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 introuvable"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m core migrate
	$(BIN)/python -m core seed --demo --if-empty
	$(BIN)/python -m ops.server --server.port $(PORT)

# Sends the outbox and runs the periodic jobs (reminders, expiries, end of missions) in a loop.
worker: install
	$(BIN)/python -m core migrate
	$(BIN)/python -m core worker

lint: install
	$(BIN)/ruff check .

# Debian packages the tests drive: Chromium for the browser tests (never `playwright install`), nginx for the
# reverse-proxy tests (deploy/nginx-renfort.conf in front of the app). Each entry: its program:its package.
DEBIAN_TOOLS_chromium := /usr/bin/chromium:chromium
DEBIAN_TOOLS_nginx := /usr/sbin/nginx:nginx

chromium nginx:
	@tool="$(DEBIAN_TOOLS_$@)"; program=$${tool%%:*}; package=$${tool##*:}; \
	if [ -x $$program ]; then \
		echo "$$package : $$program"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installation de $$package (apt-get)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$package >/dev/null; \
	else \
		echo "$$package absent et pas de droits root : les tests qui en ont besoin seront ignorés."; \
	fi

# Under CI the local cluster may be stopped: try to start it (or install it) before testing.
postgres:
	@if ! pg_isready -q -h 127.0.0.1 2>/dev/null && [ "$${CI:-}" = "true" ]; then \
		if ! command -v pg_ctlcluster >/dev/null && [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		fi; \
		for v in $$(ls /etc/postgresql 2>/dev/null); do \
			pg_ctlcluster --skip-systemctl-redirect $$v main start || true; \
		done; \
		for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done; \
	fi

test: install chromium nginx postgres
	@if pg_isready -q -h 127.0.0.1 2>/dev/null; then \
		echo "Bases de test : SQLite et PostgreSQL ($(PG_URL))"; \
		export RENFORT_TEST_PG_URL="$${RENFORT_TEST_PG_URL:-$(PG_URL)}"; \
	else \
		echo "Bases de test : SQLite seulement — PostgreSQL ne répond pas sur 127.0.0.1 (tests PostgreSQL ignorés)"; \
	fi; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

clean-db:
	rm -f data/renfort.db data/renfort.db-wal data/renfort.db-shm
