"""Template helpers of the customer portal's case pages (the base layout uses them too)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def case_access(user) -> dict[str, bool]:
    """What the layout may offer this user: see cases, own cases, open cases (T-4, T-5)."""
    from cases.views import portal_access

    return portal_access(user)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced ("" or None removes one).

    Keeps repeated parameters (status=open&status=closed), so sort links and pages keep
    every filter of the list.
    """
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params.setlist(key, [str(value)])
    encoded = urlencode(list(params.lists()), doseq=True)
    return f"?{encoded}" if encoded else "?"


@register.filter
def sort_state(ordering: str, field: str) -> str:
    """'ascending', 'descending' or '' for a column header's aria-sort."""
    if ordering == field:
        return "ascending"
    if ordering == f"-{field}":
        return "descending"
    return ""
