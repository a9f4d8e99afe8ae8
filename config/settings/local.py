"""The portal on this machine, as its users see it: ``make run`` (and ``manage.py``).

- DEBUG off, like production; ``DEBUG=1`` on top is ``make dev`` (runserver, tracebacks).
- A secret key generated once into ``var/secret_key`` (mode 0600) unless ``SECRET_KEY`` is
  set: nothing secret is in the repository, and sessions survive a restart.
- Plain HTTP on the local address: no HTTPS redirect, HSTS or Secure-only cookies (the
  server it starts speaks no TLS), the same as the compose file sets for localhost.
- ``ALLOWED_HOSTS`` and ``SITE_URL`` follow ``HOST`` and ``PORT`` (the address ``make run``
  binds), so the links in emails point at the port it serves on.
"""

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env

# The address `make run` binds (bin/run-all reads the same variables).
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)


def read_or_create_secret_key(path: Path) -> str:
    """The key stored in ``path``, made on first use. Web, worker and beat may start at once:
    the file appears whole (written aside, then linked into place) and only once."""
    if not path.exists():
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(get_random_secret_key() + "\n")
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            os.unlink(draft)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable key: delete it to make a new one.")
    return key


SECRET_KEY = env.str("SECRET_KEY", default="") or read_or_create_secret_key(VAR_DIR / "secret_key")

# A wildcard bind address is reached as localhost from this machine; an IPv6 address is
# bracketed in a URL and a Host header.
_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (names, not a bind)
_url_host = "localhost" if HOST in _WILDCARDS else f"[{HOST}]" if ":" in HOST else HOST
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=list(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", _url_host]))
)
SITE_URL = env.str("SITE_URL", default=f"http://{_url_host}:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# Mail arrives with no server: a message saved into var/mail/inbox/new/ is read by beat.
INBOUND_MAILDIR = env.str("INBOUND_MAILDIR", default=str(VAR_DIR / "mail" / "inbox"))

# Plain HTTP: the local server speaks no TLS, so none of these could work here.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
