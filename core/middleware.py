"""Caching of private answers."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers


class PrivateAnswersMiddleware:
    """Cache-Control: no-store on every page a signed-in person is shown and on every API
    answer: a shared cache or the browser's history never keeps a tenant's cases. An answer
    that says how it may be cached keeps its own header."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and (
            request.path.startswith("/api/") or request.user.is_authenticated
        ):
            add_never_cache_headers(response)
        return response
