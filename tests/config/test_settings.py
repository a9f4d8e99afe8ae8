"""The settings modules: DEBUG off in base; production refuses to start half-configured and
is HTTPS-only unless told otherwise; local serves plain HTTP on the address it binds, with a
key generated once; everything switches by URL to PostgreSQL and Redis. Each case runs a
fresh process, since settings are read once at start."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Variables of the developer's or CI's environment that would change what is tested.
CONFIG_VARS = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "EMAIL_BACKEND",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "HOST",
    "PORT",
    "VAR_DIR",
    "DB_PREPARED",
    "USE_X_FORWARDED_PROTO",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "db": s.DATABASES["default"]["ENGINE"],
    "db_name": str(s.DATABASES["default"]["NAME"]),
    "db_options": s.DATABASES["default"].get("OPTIONS", {}),
    "broker": s.CELERY_BROKER_URL,
    "email": s.EMAIL_BACKEND,
    "cache": s.CACHES["default"]["BACKEND"],
    "local_cache": s.CACHES["local"]["BACKEND"],
    "session": s.SESSION_ENGINE,
    "tz": s.TIME_ZONE,
    "secret_key": s.SECRET_KEY,
    "allowed_hosts": s.ALLOWED_HOSTS,
    "site_url": s.SITE_URL,
    "csrf_trusted_origins": s.CSRF_TRUSTED_ORIGINS,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "secure_cookies": [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],
}))
"""


@pytest.fixture
def var_dir(tmp_path) -> Path:
    return tmp_path / "var"


def run(args: list[str] | str, *, module: str | None, var: Path, **env: str):
    """Run Python in the project with a clean configuration: only ``env`` and VAR_DIR."""
    base = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    base["VAR_DIR"] = str(var)
    if module:
        base["DJANGO_SETTINGS_MODULE"] = module
    argv = [sys.executable, "-c", args] if isinstance(args, str) else [sys.executable, *args]
    return subprocess.run(
        argv, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def values(module: str, var: Path, **env: str) -> dict:
    result = run(PRINT_SETTINGS, module=module, var=var, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.com",
        "SITE_URL": "https://portal.example.com",
        **overrides,
    }
    return {k: v for k, v in env.items() if v}


# --- base ------------------------------------------------------------------------------


def test_debug_is_off_unless_asked_for(var_dir):
    code = "from config.settings import base; print(base.DEBUG)"
    assert run(code, module=None, var=var_dir).stdout.strip() == "False"
    assert values("config.settings.local", var_dir)["debug"] is False
    assert values("config.settings.local", var_dir, DEBUG="1")["debug"] is True


def test_the_test_run_has_debug_off_too():
    assert settings.DEBUG is False


# --- production ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "set SECRET_KEY to a random value of at least 50 characters"),
        ({"SECRET_KEY": "change-me"}, "set SECRET_KEY to a random value of at least 50"),
        ({"SECRET_KEY": "x" * 60}, "set SECRET_KEY to a random value of at least 50"),
        ({"ALLOWED_HOSTS": ""}, "set ALLOWED_HOSTS to the site's host names"),
        ({"DEBUG": "1"}, "Production settings never run with DEBUG on"),
    ],
)
def test_production_refuses_to_start_half_configured(var_dir, override, message):
    result = run(
        ["manage.py", "check"],
        module="config.settings.production",
        var=var_dir,
        **production_env(**override),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_a_server_started_with_no_settings_named_is_production(var_dir):
    # gunicorn config.wsgi:application (and celery -A config) with nothing set: production,
    # which stops at once with the message instead of serving with a made-up key.
    env = production_env(SECRET_KEY="")
    for module in ("config.wsgi", "config.asgi", "config.celery"):
        code = f"import {module}; import django.conf; django.conf.settings.SECRET_KEY"
        result = run(code, module=None, var=var_dir, **env)
        assert result.returncode != 0, module
        assert "set SECRET_KEY" in result.stderr, module


def test_production_is_https_only_unless_told_otherwise(var_dir):
    secure = values("config.settings.production", var_dir, **production_env())
    assert (secure["ssl_redirect"], secure["hsts"]) == (True, 31536000)
    assert secure["secure_cookies"] == [True, True]
    assert secure["debug"] is False

    plain = values(
        "config.settings.production",
        var_dir,
        **production_env(),
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    assert (plain["ssl_redirect"], plain["hsts"], plain["secure_cookies"]) == (
        False,
        0,
        [False, False],
    )


def test_production_links_go_to_the_site_over_https(var_dir):
    found = values("config.settings.production", var_dir, **production_env(SITE_URL=""))
    assert found["site_url"] == "https://portal.example.com"
    assert found["csrf_trusted_origins"] == ["https://portal.example.com"]


def test_deploy_check_passes_with_production_settings(var_dir):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        module="config.settings.production",
        var=var_dir,
        **production_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- local -----------------------------------------------------------------------------


def test_embedded_defaults_need_no_server(var_dir):
    found = values("config.settings.local", var_dir)
    assert found["db"] == "django.db.backends.sqlite3"
    assert found["db_name"] == str(var_dir / "db.sqlite3")
    assert found["broker"] == "filesystem://"
    assert found["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["local_cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["tz"] == "UTC"


def test_local_makes_its_key_once_and_keeps_it(var_dir):
    first = values("config.settings.local", var_dir)["secret_key"]

    key_file = var_dir / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 50
    assert values("config.settings.local", var_dir)["secret_key"] == first
    assert [p.name for p in var_dir.iterdir() if p.name.startswith(".secret_key")] == []


def test_local_takes_a_key_from_the_environment(var_dir):
    key = secrets.token_urlsafe(50)
    assert values("config.settings.local", var_dir, SECRET_KEY=key)["secret_key"] == key
    assert not (var_dir / "secret_key").exists()


def test_manage_py_runs_the_local_settings_with_nothing_set(var_dir):
    result = run(["manage.py", "diffsettings", "--output", "unified"], module=None, var=var_dir)
    assert result.returncode == 0, result.stderr
    assert (var_dir / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "site_url", "host"),
    [
        ({}, "http://127.0.0.1:8000", "127.0.0.1"),
        ({"PORT": "8123"}, "http://127.0.0.1:8123", "127.0.0.1"),
        ({"HOST": "portal.lan", "PORT": "9000"}, "http://portal.lan:9000", "portal.lan"),
        ({"HOST": "0.0.0.0", "PORT": "8123"}, "http://localhost:8123", "localhost"),  # noqa: S104
        ({"HOST": "::1", "PORT": "8123"}, "http://[::1]:8123", "[::1]"),
    ],
)
def test_local_links_and_hosts_follow_host_and_port(var_dir, env, site_url, host):
    found = values("config.settings.local", var_dir, **env)
    assert found["site_url"] == site_url
    assert found["csrf_trusted_origins"] == [site_url]
    assert host in found["allowed_hosts"]
    assert {"localhost", "127.0.0.1"} <= set(found["allowed_hosts"])


def test_local_serves_plain_http_whatever_the_environment_says(var_dir):
    found = values(
        "config.settings.local", var_dir, SECURE_SSL_REDIRECT="1", SESSION_COOKIE_SECURE="1"
    )
    assert (found["ssl_redirect"], found["hsts"], found["secure_cookies"]) == (
        False,
        0,
        [False, False],
    )


# --- by URL ----------------------------------------------------------------------------


def test_urls_switch_to_postgresql_and_redis(var_dir):
    found = values(
        "config.settings.local",
        var_dir,
        DATABASE_URL="postgres://u@db.example:5432/portal",
        REDIS_URL="redis://cache.example:6379/0",
        EMAIL_URL="smtp://mail.example:25",
    )
    assert found["db"] == "django.db.backends.postgresql"
    assert found["broker"] == "redis://cache.example:6379/0"
    assert found["cache"] == "django_redis.cache.RedisCache"
    assert found["local_cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["session"] == "django.contrib.sessions.backends.cached_db"
    assert found["email"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("prepared", "options"),
    [
        ({}, {"server_side_binding": True, "prepare_threshold": 5}),
        ({"DB_PREPARED": "0"}, {}),
    ],
)
def test_postgresql_keeps_plans_of_repeated_statements_unless_told_not_to(
    var_dir, prepared, options
):
    found = values(
        "config.settings.local",
        var_dir,
        DATABASE_URL="postgres://u@db.example:5432/portal",
        **prepared,
    )
    assert found["db_options"] == options


def test_error_reports_hide_credentials_in_url_settings(settings):
    # An error page or report never shows the IMAP mailbox's password, nor Redis's or the broker's
    from django.views.debug import get_default_exception_reporter_filter

    settings.INBOUND_IMAP_URL = "imaps://care:hunter2@mail.example/INBOX"
    settings.CELERY_BROKER_URL = "redis://:hunter2@redis.example:6379/0"
    settings.REDIS_URL = "redis://:hunter2@redis.example:6379/1"
    shown = get_default_exception_reporter_filter().get_safe_settings()

    for name in ("INBOUND_IMAP_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        assert "hunter2" not in str(shown[name])
    assert "hunter2" not in str(shown)
    assert shown["INBOUND_ADDRESS"] == settings.INBOUND_ADDRESS  # plain settings stay readable
