"""pytest (pyproject's DJANGO_SETTINGS_MODULE), and the worker a test starts.

The base settings with what a test run needs: a fixed, throwaway key; the test client's host
names; plain HTTP; static files from the finders (no collectstatic before a test run).
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis as everywhere (CI sets
both); without them the suite runs on SQLite and skips what needs PostgreSQL or Redis.
"""

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "tests-only-" + "not-a-secret-" * 4
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
