"""The ASGI application. A server started without DJANGO_SETTINGS_MODULE gets the production
settings, which refuse to start half-configured (`make run` sets config.settings.local)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
