"""The deployment files describe the same three processes and the same configuration."""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "version" not in compose  # obsolete in the Compose spec
    return compose["services"]


def command_of(service):
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_has_backing_services_and_app_processes(services):
    assert {"postgres", "redis", *APP_SERVICES} <= services.keys()
    assert any("mailpit" in s.get("image", "") for s in services.values())
    assert "gunicorn config.wsgi:application" in command_of(services["web"])
    assert "celery -A config worker" in command_of(services["worker"])
    assert "celery -A config beat" in command_of(services["beat"])


def test_app_services_share_one_image_and_environment(services):
    web = services["web"]
    assert web["build"]
    for name in APP_SERVICES:
        assert services[name]["build"] == web["build"]
        assert services[name].get("image") == web.get("image")
        assert services[name]["environment"] == web["environment"]
    env = web["environment"]
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["EMAIL_URL"].startswith("smtp://mailpit:")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_backends(services, name):
    depends_on = services[name]["depends_on"]
    for backend in ("postgres", "redis"):
        assert depends_on[backend]["condition"] == "service_healthy"
        assert services[backend]["healthcheck"]["test"]


def test_procfile_declares_every_process():
    entries = dict(
        line.split(":", 1)
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert "gunicorn config.wsgi:application" in entries["web"]
    assert "$PORT" in entries["web"] or "${PORT" in entries["web"]
    assert "celery -A config worker" in entries["worker"]
    assert "celery -A config beat" in entries["beat"]
    assert "migrate" in entries["release"]


@pytest.mark.parametrize(
    "name",
    [
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DEBUG",
        "EMAIL_URL",
        "DEFAULT_FROM_EMAIL",
        "SITE_URL",
        "INBOUND_ADDRESS",
        "INBOUND_IMAP_URL",
        "INBOUND_IMAP_PROCESSED_FOLDER",
        "INBOUND_MAILDIR",
        "INBOUND_MAX_BYTES",
        "INBOUND_AUTHSERV_ID",
    ],
)
def test_env_example_documents(name):
    text = (ROOT / ".env.example").read_text()
    assert re.search(rf"^#? ?{name}=", text, re.MULTILINE)


def test_ci_script_is_executable_and_runs_the_documented_test_command():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    code_lines = [
        line for line in script.read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    assert any(re.search(r"\bmake test\b", line) for line in code_lines)
    assert os.access(ROOT / "bin" / "run-all", os.X_OK)


def test_gunicorn_workers_freeze_what_loading_left():
    # gunicorn reads gunicorn.conf.py from its working directory: the project root in the
    # Procfile, the image (WORKDIR /app, the whole tree copied) and bin/run-all.
    import gc
    import runpy

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        config["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "WORKDIR /app" in dockerfile and "COPY . ." in dockerfile


def _pins(lock: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


TOOLING = {"pytest", "pytest-django", "pytest-playwright", "factory-boy", "hypothesis", "ruff"}


def test_the_image_installs_the_run_time_set_only():
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {"django", "celery", "django-redis", "gunicorn"} <= runtime.keys()
    assert not (TOOLING | {"playwright", "time-machine"}) & runtime.keys()
    assert TOOLING | {"time-machine"} <= dev.keys()
    # The dev set is the run-time set plus tooling, at the very same versions.
    assert {name: dev.get(name) for name in runtime} == runtime
    code = [
        line
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert any("--require-hashes -r requirements.lock" in line for line in code)
    assert not any("requirements-dev" in line for line in code)


def test_deployments_name_the_production_settings(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert "DEBUG" not in env


def test_make_targets_install_what_they_need():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install-dev\b", makefile, re.MULTILINE)
    assert re.search(r"^lint: install-dev\b", makefile, re.MULTILINE)
    assert re.search(r"^run: install\b", makefile, re.MULTILINE)
    assert re.search(r"^run: export DEBUG := 0$", makefile, re.MULTILINE)
    assert re.search(r"^dev: export DEBUG := 1$", makefile, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make install-dev" in ci
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in ci
