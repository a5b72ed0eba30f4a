# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
# Use uv from PATH when there is one; otherwise bootstrap a pinned copy into .tools/ (pip's cache does
# not work on our machines, uv's does: PITFALLS.md).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HAS_FRONTEND := $(wildcard frontend/package.json)

.PHONY: help install frontend migrate seed run test lint types imports migrations-check schema-check contracts contracts-check audit pytest frontend-test smoke bench clean

help:
	@echo "make run    install, migrate, seed demo data, build the PWA, start web + worker + beat"
	@echo "make test   ruff, mypy, import contracts, makemigrations --check, dependency audit, pytest (and the PWA's tests)"
	@echo "make bench  benchmarks (writes bench/results/*.json)"
	@echo "make contracts  regenerate frontend/src/generated/ (API types and rules the PWA shares with the server)"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend:
ifneq ($(HAS_FRONTEND),)
	$(MAKE) frontend/node_modules/.installed
	cd frontend && npm run build
else
	@echo "no frontend/ yet: skipping the PWA build"
endif

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo
	@# Web Push keys for this installation (kept in var/; production sets WEBPUSH_VAPID_* instead).
	@[ -n "$$WEBPUSH_VAPID_PRIVATE_KEY" ] || $(MANAGE) generate_vapid_keys

run: seed frontend
	$(PY) scripts/run_all.py

test: lint types imports migrations-check schema-check contracts-check audit frontend-test pytest

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

types: install
	.venv/bin/mypy .

# The import contracts of docs/architecture.md (layers, independence; pyproject.toml [tool.importlinter]).
imports: install
	.venv/bin/lint-imports --no-cache

migrations-check: install
	$(MANAGE) makemigrations --check --dry-run

schema-check: install
	$(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

# The PWA's generated contracts (frontend/src/generated/: API types, shared rules; docs/frontend.md).
contracts: install
ifneq ($(HAS_FRONTEND),)
	$(MAKE) frontend/node_modules/.installed
	$(PY) scripts/export_contracts.py
endif

# The committed generated files are what the server generates now (else: run `make contracts`).
contracts-check: install
ifneq ($(HAS_FRONTEND),)
	$(MAKE) frontend/node_modules/.installed
	$(PY) scripts/export_contracts.py --check
endif

# Known vulnerabilities in the locked dependencies (pip-audit; offline snapshot where it cannot reach PyPI).
audit: install
	$(PY) scripts/audit_deps.py

frontend-test:
ifneq ($(HAS_FRONTEND),)
	$(MAKE) frontend/node_modules/.installed
	cd frontend && npm run typecheck && npm test
	cd frontend && npm run build
else
	@echo "no frontend/ yet: skipping its tests"
endif

pytest: install
	.venv/bin/pytest $(PYTEST_ARGS)

smoke: install frontend
	$(PY) scripts/smoke_embedded.py

bench: install
	$(PY) bench/run.py

clean:
	rm -rf .venv .tools var staticfiles frontend/node_modules frontend/dist
