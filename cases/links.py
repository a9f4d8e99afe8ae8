"""Where a case lives on the web; one place, so email links and URLs cannot drift apart."""

from django.conf import settings


def case_path(number: int) -> str:
    return f"/cases/{number:08d}/"


def case_url(number: int) -> str:
    return f"{settings.SITE_URL}{case_path(number)}"
