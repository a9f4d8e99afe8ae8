# support-portal developer commands. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_VENV := .venv-tools
# The address `make run` / `make dev` serve on. Exported: the local settings read them too
# (ALLOWED_HOSTS, and SITE_URL for the links in emails).
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST
PYTEST_ARGS ?=
# `make lock UPGRADE=1` moves every pin to the newest allowed version; without it,
# pip-compile keeps the existing pins and only resolves what the .in files changed.
UPGRADE ?=

PIP_COMPILE_FLAGS := --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes

.PHONY: help install install-dev run dev test lint lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv (if missing) and install the run-time lock

install-dev: $(VENV)/.installed-dev ## Create .venv (if missing) and install the run-time, test and tooling lock

# A stamp is newer than its lock after a successful install, so this only reruns when the
# lock changes (or .venv was removed). requirements-dev.lock holds the run-time pins too.
$(VENV)/.installed: requirements.lock
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements.lock into $(VENV)"
	@$(PIP_INSTALL) -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock requirements.lock
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements-dev.lock into $(VENV)"
	@$(PIP_INSTALL) -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

# Printed just before the processes start. The logins come from the same list seed_demo
# uses (demo.accounts.DEMO_LOGINS), the address and the password from the settings. It
# also makes the email drop folder (INBOUND_MAILDIR, var/mail/inbox/{new,cur,tmp} unless
# set otherwise), so a reply can be saved there before beat's first sweep.
define DEMO_BANNER
from django.conf import settings
from demo.accounts import DEMO_LOGINS
from inbound.maildir import ensure_maildir
print(f"  Support portal: {settings.SITE_URL}/  (DEBUG {'on' if settings.DEBUG else 'off'})")
print(f"  Demo logins (password: {settings.DEMO_PASSWORD}):")
for email, what in DEMO_LOGINS:
    print(f"    {email:24} {what}")
if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    print(f"  Sent email is written to {settings.EMAIL_FILE_PATH}/")
if settings.INBOUND_MAILDIR:
    print(f"  Replies by email: save them into {ensure_maildir(settings.INBOUND_MAILDIR)}/new/")
print("  Ctrl-C stops web, worker and beat.")
endef
export DEMO_BANNER

run: export DEBUG := 0
run: install ## The product as users see it: DEBUG off, gunicorn, worker, beat, demo data
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo --verbosity 0
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@$(PY) manage.py shell --verbosity 0 --command "$$DEMO_BANNER"
	@echo
	@exec bin/run-all

dev: export DEBUG := 1
dev: install ## For development: DEBUG on, runserver (tracebacks), worker, beat, demo data
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo --verbosity 0
	@echo
	@$(PY) manage.py shell --verbosity 0 --command "$$DEMO_BANNER"
	@echo
	@exec bin/run-all

test: install-dev ## Run the test suite (extra pytest arguments: PYTEST_ARGS="-k foo -x")
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lock: ## Recompile requirements.lock and requirements-dev.lock from their .in files
	@test -x $(TOOLS_VENV)/bin/pip-compile || { \
		$(PYTHON) -m venv $(TOOLS_VENV); \
		$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check pip-tools; }
	$(TOOLS_VENV)/bin/pip-compile --quiet $(PIP_COMPILE_FLAGS) $(if $(UPGRADE),--upgrade) \
		--output-file requirements.lock requirements.in
	$(TOOLS_VENV)/bin/pip-compile --quiet $(PIP_COMPILE_FLAGS) $(if $(UPGRADE),--upgrade) \
		--output-file requirements-dev.lock requirements-dev.in

clean: ## Remove var/ (database, mail, broker, the local secret key) and .venv
	rm -rf var $(VENV)
