# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
FLASK   = $(PY) -m flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run reset-demo test install install-dev translations bench bench-scale bench-lighthouse clean

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

## Compile the Spanish catalogs (translations/es/LC_MESSAGES/*.po -> .mo).
translations: $(VENV)/.installed
	@for domain in site booking content; do \
	  $(VENV)/bin/pybabel compile -d translations -D $$domain -l es >/dev/null || exit 1; \
	done

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

node_modules/.installed: package.json
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the HTML validity and Lighthouse tests will be skipped"; fi

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev node_modules/.installed translations

## Install, upgrade the database, seed demo slots if empty, then serve the app and the mail worker.
run: export LOG_FORMAT ?= text
run: export DEV_MAIL_VIEWER ?= 1
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty --with-bookings
	@echo "Mindset TMS on http://$(HOST):$(PORT)  (captured mail: http://$(HOST):$(PORT)/dev/mail; Ctrl-C stops the app and the worker)"
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## Start the demo afresh: delete the local database and captured mail (`make run` seeds new ones).
reset-demo:
	@if [ -n "$$DATABASE_URL" ]; then echo "DATABASE_URL is set: reset-demo only deletes the local demo database"; exit 1; fi
	rm -f instance/mindset.db instance/mindset.db-wal instance/mindset.db-shm
	rm -rf instance/mail
	@echo "Demo reset: the next make run seeds new demo slots and bookings."

## Install everything, check lint, import layers (pyproject.toml), formatting and types, then run the whole test suite: spread
## over the cores by pytest-xdist, with the browser and process-racing modules on one worker
## (tests/conftest.py SERIAL_MODULES). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install-dev
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy app
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Load benchmark: the app vs a bare Flask route under the same gunicorn settings.
bench: install-dev
	$(PY) bench/run.py $(BENCH_ARGS)

## Scale benchmark: reads on three years of history (100,000 bookings) against a fresh database.
bench-scale: install-dev
	$(PY) bench/scale.py $(BENCH_ARGS)

## Lighthouse's performance score (a timing: run it on a quiet machine; the suite judges the rest).
bench-lighthouse: install-dev
	$(PY) bench/lighthouse.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
