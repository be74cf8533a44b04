# zhixiao — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export ZHIXIAO_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test install install-dev lint types contracts unit pg browser serve clean messages

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Python's venv module is missing: on Debian run 'apt-get install python3-venv'" >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade "pip>=24"

# Reproducible installs: exact versions and hashes from the lock files.
$(VENV)/.installed-base: requirements/base.lock pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements/base.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: requirements/dev.lock $(VENV)/.installed-base
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

## make demo: install, build the demo school (first run only) and serve it on http://127.0.0.1:$(PORT)
demo: install
	$(VENV)/bin/zhixiao demo --if-empty
	$(VENV)/bin/zhixiao serve --port $(PORT)

## make test: install dev tools and run every check, on SQLite and on PostgreSQL, with a real browser
test: install-dev
	$(PY) scripts/system_deps.py
	$(MAKE) --no-print-directory lint types contracts
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory pg

lint:
	$(VENV)/bin/ruff check src tests bench scripts conftest.py manage.py
	$(VENV)/bin/ruff format --check src tests bench scripts conftest.py manage.py

types:
	$(VENV)/bin/mypy src

contracts:
	$(VENV)/bin/lint-imports --no-cache

# SQLite (in memory), browser tests included.
unit:
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

# The same suite on a throw-away PostgreSQL cluster that this run starts and stops.
pg:
	$(PY) scripts/with_postgres.py $(VENV)/bin/pytest -q -n 2 --dist loadgroup

messages:
	cd src/zhixiao && ../../$(VENV)/bin/django-admin makemessages -l en --settings=zhixiao.config.settings.test --ignore "*/tests/*" --no-location && msgfmt --check -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
