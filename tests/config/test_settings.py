"""The env-driven configuration: embedded defaults, PostgreSQL/Redis by URL, and a
production mode that refuses to start half-configured. Each case runs a fresh process,
since settings are read once at start."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
    "'email': s.EMAIL_BACKEND, 'cache': s.CACHES['default']['BACKEND'], 'tz': s.TIME_ZONE}))"
)
CONFIG_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "EMAIL_BACKEND",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DB_PREPARED",
)


def run(code_or_args: list[str] | str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    args = (
        [sys.executable, "-c", code_or_args]
        if isinstance(code_or_args, str)
        else [sys.executable, *code_or_args]
    )
    return subprocess.run(
        args, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.com",
        "SITE_URL": "https://portal.example.com",
    }


def test_embedded_defaults_need_no_server():
    result = run(PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "db": "core.db.backends.sqlite3",
        "broker": "filesystem://",
        "email": "django.core.mail.backends.filebased.EmailBackend",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "tz": "UTC",
    }


def test_urls_switch_to_postgresql_and_redis():
    result = run(
        PRINT_SETTINGS,
        DATABASE_URL="postgres://u@db.example:5432/portal",
        REDIS_URL="redis://cache.example:6379/0",
        EMAIL_URL="smtp://mail.example:25",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["db"] == "core.db.backends.postgresql"
    assert values["broker"] == "redis://cache.example:6379/0"
    assert values["cache"] == "core.cache.RedisCache"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


PRINT_DB_OPTIONS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
)


@pytest.mark.parametrize(
    ("prepared", "options"),
    [
        ({}, {"server_side_binding": True, "prepare_threshold": 5}),
        ({"DB_PREPARED": "0"}, {}),
    ],
)
def test_postgresql_keeps_plans_of_repeated_statements_unless_told_not_to(prepared, options):
    result = run(PRINT_DB_OPTIONS, DATABASE_URL="postgres://u@db.example:5432/portal", **prepared)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == options


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "set SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "set SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "set ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_half_configured(override, message):
    env = {**production_env(), **override}
    env = {k: v for k, v in env.items() if v}
    result = run("import django; django.setup()", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
