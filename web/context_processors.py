"""What every page's layout shows (templates/base.html): the header's links, search box and
user box, and the footer's phone numbers and time zone."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse

from accounts.selectors import visible_organizations
from cases.web import portal_access

_URLS: dict[tuple[str, str], str] = {}


def _url(name: str) -> str:
    """The layout's links never take arguments: resolved once per process (and prefix)."""
    key = (get_script_prefix(), name)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = reverse(name)
    return url


class Layout:
    """What the header and footer of the base layout show, worked out only if a page renders
    them, and once per request: resolving ``{% url %}`` and the request's view name again
    for every link costs more than the rest of the header."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        user = getattr(request, "user", None)
        self.user = user if user is not None and user.is_authenticated else None

    @cached_property
    def current(self) -> str:
        match = getattr(self.request, "resolver_match", None)
        return match.view_name if match is not None else ""

    @cached_property
    def access(self) -> dict[str, bool]:
        return portal_access(self.user)

    @cached_property
    def nav(self) -> list[dict]:
        """The main navigation's links, each ``{"href", "label", "current"}``: Dashboard and
        the case pages this user has (T-4, T-5), then help, the care workspace for staff and
        the profile; Help and Sign in for a visitor."""
        if self.user is None:
            links = [("help", "Help", False), ("login", "Sign in", False)]
        else:
            access = self.access
            links = [("home", "Dashboard", True)]
            if access["mine"]:
                links.append(("cases:mine", "My Cases", True))
            if access["view"]:
                links.append(("cases:all", "All Cases", True))
            if access["open"]:
                links.append(("cases:new", "Open a case", True))
            links.append(("help", "Help", True))
            if self.user.is_staff:
                links.append(("admin:index", "Care workspace", False))
            links.append(("profile", "My Profile", True))
        return [
            {"href": _url(name), "label": label, "current": marked and self.current == name}
            for name, label, marked in links
        ]

    @cached_property
    def search_query(self) -> str:
        """The search box repeats the keywords on the list they lead to."""
        return self.request.GET.get("q", "") if self.current == "cases:all" else ""

    @cached_property
    def user_name(self) -> str:
        return (self.user.display_name or self.user.email) if self.user else ""

    @cached_property
    def organization_names(self) -> list[str]:
        """The customer's organizations, for the user box (staff show "Customer Care")."""
        if self.user is None or self.user.is_staff:
            return []
        return [organization.name for organization in visible_organizations(self.user)]

    @cached_property
    def time_zone(self) -> str:
        """The user's own time zone, if they chose one (else the organization's applies)."""
        return (self.user.time_zone or "") if self.user else ""

    @cached_property
    def csrf_token(self) -> str:
        """One masked token for the page's forms and its htmx requests."""
        return get_token(self.request)

    @property
    def home_url(self) -> str:
        return _url("home")

    @property
    def search_url(self) -> str:
        return _url("cases:search")

    @property
    def logout_url(self) -> str:
        return _url("logout")


def portal(request: HttpRequest) -> dict:
    """What every page may show: the layout (header, footer) and the care phone numbers."""
    return {
        "care_phone_numbers": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "layout": Layout(request),
    }
