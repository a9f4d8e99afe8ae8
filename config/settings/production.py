"""A deployment: the image, docker compose, a Procfile platform (``config.wsgi``,
``config.asgi`` and ``config.celery`` default to this module).

It fails closed: without a real ``SECRET_KEY`` (at least 50 random characters) or
``ALLOWED_HOSTS``, or with ``DEBUG`` on, the process refuses to start. HTTPS redirect, HSTS
and Secure-only cookies are on unless the environment turns them off (see base.py).
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import ALLOWED_HOSTS, DEBUG, SECRET_KEY, env

if DEBUG:
    raise ImproperlyConfigured(
        "Production settings never run with DEBUG on: unset DEBUG. "
        "(DEBUG=1 is for config.settings.local, as `make dev` runs it.)"
    )
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "Production settings: set SECRET_KEY to a random value of at least 50 characters, "
        "for example the output of: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Production settings: set ALLOWED_HOSTS to the site's host names, comma-separated "
        "(for example ALLOWED_HOSTS=portal.example.com)."
    )

# Links in emails: the site's first host name over HTTPS unless SITE_URL says otherwise.
_first_host = ALLOWED_HOSTS[0]
if "SITE_URL" not in env and "*" not in _first_host and not _first_host.startswith("."):
    SITE_URL = f"https://{_first_host}"
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])
