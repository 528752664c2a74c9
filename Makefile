# gridgov — two commands: `make run` (demo on http://127.0.0.1:8000) and `make test`.
# Everything they need is installed here, from PyPI and the npm registry, pinned.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PY_STAMP := $(VENV)/.deps-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
NPM_STAMP := node_modules/.deps-$(shell cat package.json package-lock.json | sha1sum | cut -c1-12)
MO_FILES := $(patsubst %.po,%.mo,$(wildcard gridgov/locale/*/LC_MESSAGES/django.po))
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test lint setup demo migrate static test-pg test-e2e bench bench-city clean divisions

run: setup migrate static demo
	@echo "gridgov demo: http://$(HOST):$(PORT)/  (accounts and passwords: README.md)"
	@# The worker (SLA warnings, outbound deliveries) runs beside the web server and stops with it.
	$(BIN)/python manage.py worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py serve --bind $(HOST):$(PORT)

test: setup
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: $(PY_STAMP) $(NPM_STAMP) $(MO_FILES)

$(PY_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.deps-* && touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	rm -f node_modules/.deps-* && touch $@

%.mo: %.po
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

migrate: setup
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0

static: setup
	$(BIN)/python manage.py collectstatic --noinput -v 0

demo: migrate
	$(BIN)/python manage.py load_demo

# The suite against the machine's PostgreSQL (what .ci/run does after `make test`).
test-pg: setup
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gridgov_test} $(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Browser journeys (tests_e2e/): Playwright drives Debian's chromium (never `playwright install`)
# against `gridgov serve` (granian) on a free port with a fresh SQLite demo; failures leave screenshots in test-results/.
test-e2e: setup static
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-noto-cjk)
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || (apt-get update && apt-get install -y fonts-noto-cjk)
	$(BIN)/pytest tests_e2e $(PYTEST_ARGS)

# Benchmarks (bench/, each against a baseline measured in the same run; docs/scaling.md).
# `make bench` needs no database; `make bench-city` runs them all over a database filled by
# `gridgov synth --scale city` (DATABASE_URL, PostgreSQL); intake adds real cases to it.
bench: setup
	$(BIN)/python bench/locate.py

bench-city: setup
	@test -n "$$DATABASE_URL" || (echo "set DATABASE_URL to a database filled by gridgov synth" && exit 2)
	$(BIN)/python bench/locate.py --db
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/assessment.py --repeat 2
	$(BIN)/python bench/import_people.py
	$(BIN)/python bench/intake.py

# Regenerate the committed division subset from the pinned npm package (needs devDependencies).
divisions:
	npm install --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/extract_divisions.py $${DISTRICT:-330109} gridgov/regions/data/divisions/$${DISTRICT:-330109}

clean:
	rm -rf $(VENV) node_modules staticfiles var
