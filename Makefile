# support-portal developer commands. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_VENV := .venv-tools
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# `make lock UPGRADE=1` moves every pin to the newest allowed version; without it,
# pip-compile keeps the existing pins and only resolves what requirements.in changed.
UPGRADE ?=

PIP_COMPILE_FLAGS := --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: help install run test lint lock clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv (if missing) and install the locked dependencies

# The stamp is newer than the lock after a successful install, so this only reruns when
# requirements.lock changes (or .venv was removed).
$(VENV)/.installed: requirements.lock
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements.lock into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $@

# Printed by `make run` just before the processes start. The logins come from the same
# list seed_demo uses (demo.accounts.DEMO_LOGINS), the password from the settings.
define DEMO_BANNER
from django.conf import settings
from demo.accounts import DEMO_LOGINS
print(f"  Demo logins (password: {settings.DEMO_PASSWORD}):")
for email, what in DEMO_LOGINS:
    print(f"    {email:24} {what}")
endef
export DEMO_BANNER

run: install ## Migrate, seed demo data, then run web + worker + beat (Ctrl-C stops all)
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo --verbosity 0
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "  Support portal: http://$(if $(filter 0.0.0.0,$(HOST)),localhost,$(HOST)):$(PORT)/"
	@$(PY) manage.py shell --verbosity 0 --command "$$DEMO_BANNER"
	@echo "  Ctrl-C stops web, worker and beat."
	@echo
	@PORT=$(PORT) HOST=$(HOST) exec bin/run-all

test: install ## Run the test suite (extra pytest arguments: PYTEST_ARGS="-k foo -x")
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lock: ## Recompile requirements.lock from requirements.in (pip-tools in .venv-tools)
	@test -x $(TOOLS_VENV)/bin/pip-compile || { \
		$(PYTHON) -m venv $(TOOLS_VENV); \
		$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check pip-tools; }
	$(TOOLS_VENV)/bin/pip-compile --quiet $(PIP_COMPILE_FLAGS) $(if $(UPGRADE),--upgrade) \
		--output-file requirements.lock requirements.in

clean: ## Remove var/ (database, mail, broker) and .venv
	rm -rf var $(VENV)
