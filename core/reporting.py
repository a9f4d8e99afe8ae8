"""What an error report (the debug page, the error email to admins) may show of the settings.

Django hides settings whose names say API, TOKEN, KEY, SECRET, PASS or SIGNATURE. Ours also
carry credentials in URLs: the IMAP mailbox (``INBOUND_IMAP_URL``, user and password), Redis
and the broker (``REDIS_URL``, ``CELERY_BROKER_URL``), the mail server (``EMAIL_URL``) and the
database (``DATABASE_URL``), and the cache ``LOCATION``."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class ReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|LOCATION", flags=re.IGNORECASE
    )
