"""The WSGI application. A server started without DJANGO_SETTINGS_MODULE gets the production
settings, which refuse to start half-configured (`make run` sets config.settings.local)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
