from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

_URLS: dict[tuple[str, str], str] = {}
CURRENT = mark_safe(' aria-current="page"')


def _url(name: str) -> str:
    """The layout's links never take arguments: resolved once per process (and prefix)."""
    key = (get_script_prefix(), name)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = reverse(name)
    return url


class Layout:
    """What the header of the base layout shows, worked out only if a page renders it.

    Resolving ``{% url %}`` and the request's view name again for every link costs more
    than the rest of the header, so the links are built here once per request.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def current(self) -> str:
        match = getattr(self.request, "resolver_match", None)
        return match.view_name if match is not None else ""

    @cached_property
    def access(self) -> dict[str, bool]:
        from cases.views import portal_access

        return portal_access(getattr(self.request, "user", None))

    def _links(self, links) -> SafeString:
        return format_html_join(
            "\n        ",
            '<a href="{}"{}>{}</a>',
            (
                (_url(name), CURRENT if marked and self.current == name else "", label)
                for name, label, marked in links
            ),
        )

    @cached_property
    def nav_main(self) -> SafeString:
        """Dashboard and the case pages this user has (T-4, T-5)."""
        access = self.access
        links = [("home", "Dashboard", True)]
        if access["mine"]:
            links.append(("cases:mine", "My Cases", True))
        if access["view"]:
            links.append(("cases:all", "All Cases", True))
        if access["open"]:
            links.append(("cases:new", "Open a case", True))
        return self._links(links)

    @cached_property
    def nav_tail(self) -> SafeString:
        links = [("help", "Help", True)]
        if self.request.user.is_staff:
            links.append(("admin:index", "Care workspace", False))
        links.append(("profile", "My Profile", True))
        return self._links(links)

    @cached_property
    def search_query(self) -> str:
        """The search box repeats the keywords on the list they lead to."""
        return self.request.GET.get("q", "") if self.current == "cases:all" else ""

    @property
    def home_url(self) -> str:
        return _url("home")

    @property
    def search_url(self) -> str:
        return _url("cases:search")

    @property
    def logout_url(self) -> str:
        return _url("logout")

    @property
    def help_url(self) -> str:
        return _url("help")

    @property
    def login_url(self) -> str:
        return _url("login")


def portal(request: HttpRequest) -> dict:
    """What the base layout shows on every page: the user's organizations and care phones."""
    from accounts.selectors import visible_organizations

    context = {
        "care_phone_numbers": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "layout": Layout(request),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not user.is_staff:
        context["user_organizations"] = visible_organizations(user)
    return context
