# Two commands: `make demo` serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_DIR := var/demo-delivery

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py setup_demo --delivery $(DEMO_DIR)
	@# Celery beat beside the server: with no broker it runs each scheduled task in its own
	@# process (the nightly rebuild, the weekly digest, unread chat answers each minute).
	mkdir -p var; DEBUG=1 $(VENV)/bin/celery -A learnertracking beat -l warning \
	  --schedule var/celerybeat-schedule & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# axe-core for the accessibility checks; the browser tests skip themselves without Chromium.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# One process a core, each test file whole in one of them (its module fixtures shared).
test: lint node_modules/axe-core/axe.min.js
	$(VENV)/bin/pytest -n auto --dist loadfile

# Against PostgreSQL at 127.0.0.1:5432 (BENCH_SERVER_URL) and Redis; the load scenario needs
# wrk (apt install wrk). Figures go in bench/results.md.
bench: $(VENV)/.installed
	$(PY) bench/bench_rules.py
	$(PY) bench/bench_import.py --learners 100000 --centres 200 --largest 5000
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_rebuild.py
	$(PY) bench/bench_upload.py
	$(PY) bench/bench_page_weight.py
	$(PY) bench/bench_bulk_award.py
	$(PY) bench/bench_load.py --seconds 180
	$(PY) bench/bench_capacity.py
	$(PY) bench/bench_registration.py
	$(PY) bench/bench_slow_clients.py

clean:
	rm -rf $(VENV) var node_modules learnertracking.sqlite3 test-artifacts
