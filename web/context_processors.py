from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe

from accounts.selectors import visible_organizations
from cases.web import portal_access

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

    @cached_property
    def header(self) -> SafeString:
        """The inside of the page header: brand, navigation, search box and user box.

        Built here rather than in the layout template: it is the same on every page, and
        the template engine spent more on its ifs, loops and lookups than on a whole list
        of cases. Every value from the database or the request is escaped."""
        user = getattr(self.request, "user", None)
        brand = f'<a class="brand" href="{escape(self.home_url)}">Support Portal</a>'
        if user is None or not user.is_authenticated:
            return mark_safe(  # noqa: S308 (URLs escaped, the rest fixed text)
                f"{brand}\n"
                '      <nav class="main-nav" aria-label="Main">\n'
                f'        <a href="{escape(self.help_url)}">Help</a>\n'
                f'        <a href="{escape(self.login_url)}">Sign in</a>\n'
                "      </nav>"
            )
        search = ""
        if self.access["view"]:
            search = (
                '\n      <form class="search-box" role="search" method="get" '
                f'action="{escape(self.search_url)}">\n'
                '        <label for="site-search" class="sr-only">Search cases</label>\n'
                '        <input id="site-search" type="search" name="q" maxlength="200" '
                f'placeholder="Case number or keywords" value="{escape(self.search_query)}">\n'
                '        <button type="submit" class="button small">Search</button>\n'
                "      </form>"
            )
        if user.is_staff:
            badges = '<span class="org-badge">Customer Care</span>'
        else:
            badges = "".join(
                f'<span class="org-badge" data-testid="org-name">{escape(o.name)}</span>'
                for o in visible_organizations(user)
            )
        token = escape(self.csrf_token)
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f"{brand}\n"
            '      <nav class="main-nav" aria-label="Main">\n'
            f"        {self.nav_main}\n"
            f"        {self.nav_tail}\n"
            f"      </nav>{search}\n"
            '      <div class="user-box">\n'
            '        <span class="user-name" data-testid="user-name">'
            f"{escape(user.display_name or user.email)}</span>\n"
            f"        {badges}\n"
            f'        <form method="post" action="{escape(self.logout_url)}" class="inline-form">\n'
            f'          <input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
            '          <button type="submit" class="link-button">Sign out</button>\n'
            "        </form>\n"
            "      </div>"
        )

    @cached_property
    def csrf_token(self) -> str:
        """One masked token for the page's forms and its htmx requests."""
        return get_token(self.request)

    @cached_property
    def footer(self) -> SafeString:
        """The inside of the page footer: the care phone numbers and whose time zone the
        page's times are in."""
        phones = " · ".join(
            f'<span class="phone">{escape(phone)}</span>'
            for phone in settings.PORTAL["CARE_PHONE_NUMBERS"]
        )
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            zone = escape(user.time_zone)
        else:
            zone = "your organization's time zone"
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f"<p>Customer Care: {phones}</p>\n"
            "      <p>For a critical issue, open the case as High and call us. Times are shown "
            f"in {zone}.</p>"
        )

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
    """What every page may show: the layout (header, footer) and the care phone numbers."""
    return {
        "care_phone_numbers": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "layout": Layout(request),
    }
