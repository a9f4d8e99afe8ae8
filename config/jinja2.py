"""The Jinja2 environment of the portal's hot partials (list rows, the case feed and history).

Jinja2 compiles a template to Python, so a list of 25 rows renders in a fraction of the time
the Django engine takes for the same lookups. It escapes exactly as the Django templates do
(``conditional_escape`` on every printed value, so a quote is ``&#x27;`` on every page) and
has Django's ``linebreaks`` filter for the texts people wrote.
"""

from __future__ import annotations

from typing import Any

from django.template.defaultfilters import linebreaks_filter
from django.utils.html import conditional_escape
from jinja2 import Environment


def _linebreaks(value: Any) -> str:
    """Django's ``linebreaks`` filter, as in an autoescaping Django template."""
    return linebreaks_filter(value, autoescape=True)


def environment(**options: Any) -> Environment:
    # Autoescaped whatever the settings say: these templates print what people typed.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, finalize=conditional_escape, **options)
    env.filters["linebreaks"] = _linebreaks
    return env
