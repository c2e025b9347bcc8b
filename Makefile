# Tasks of xsell; CI (.ci/run) runs `make ci`, so local runs and CI run the same commands.
# `bash .ci/setup` first (once): it makes .venv and installs redis-server and the broker.
VENV ?= .venv
PY := $(VENV)/bin/python
export CI

.PHONY: help lint lint-imports format types unit check test system ci schemas lock screenshots

help:  ## list the tasks
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

lint:  ## ruff: lint rules and the formatter's check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:  ## ruff: apply the formatter and the safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint-imports:  ## import-linter: the layers and the store's rooms ([tool.importlinter])
	$(VENV)/bin/lint-imports

types:  ## mypy --strict over the product and the harness
	$(VENV)/bin/mypy

unit:  ## the pure tests (no server, no process; well under 30 s)
	$(PY) -m pytest tests/unit -q

schemas:  ## regenerate docs/schemas/*.json from the message models (models/messages/)
	$(PY) -m xsell.cli.schemas --write

check: lint lint-imports types unit  ## the inner loop: lint, import contracts, types, unit tests

test:  ## unit + fast integration tests (real redis-server, broker, workers; a few minutes)
	$(PY) -m pytest tests/unit tests/integration

system:  ## the slow tier: bench, eval through Kafka, chaos, outages, demo
	$(PY) -m pytest tests/system

ci: lint lint-imports types test system  ## everything CI runs, in its order

screenshots:  ## docs/demo-shop.png, demo-bundle.png, dashboard.png, rules-console.png: the browser tests write them (a demo each)
	$(PY) -m pytest tests/system/test_shop_page.py tests/system/test_dashboard_page.py tests/system/test_rules_page.py -q

# The lock pins what CI installs (.ci/setup: pip install -r requirements-dev.lock): every
# package of the dev extra for Python 3.11+, on every platform, with its hashes. After a change
# to the dependencies in pyproject.toml run `make lock`; it keeps the other pins as they are.
# `make lock UPGRADE=1` moves every pin to the newest release within pyproject's bounds.
lock:  ## re-resolve requirements-dev.lock from pyproject.toml (UPGRADE=1: newest within bounds)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --fork-strategy fewest \
		--python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
		$(if $(UPGRADE),--upgrade) --quiet -o requirements-dev.lock
