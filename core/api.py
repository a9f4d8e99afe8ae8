"""API base classes, pagination, the error handler and the offline docs page.

Token requests reach a view with the empty tenant scope that ``TenantScopeMiddleware`` gives
anonymous users: DRF authenticates inside the view, after every middleware has run. The base
views therefore enter the authenticated user's scope right after DRF's authentication and
leave it when the view returns, so every API query runs in the caller's scope whichever way
they signed in.
"""

from __future__ import annotations

import functools
import json
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import generics, pagination, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, InvalidInput

# --- tenant scope --------------------------------------------------------------------------


class TenantScopedMixin:
    """Runs the view in the tenant scope of the user DRF authenticated (T-6).

    Staff get scoping disabled (T-5), customers the organizations they can see, anonymous
    callers an empty scope. ``request.organization_ids`` follows the same rule, since the
    shared filters read it.
    """

    _scope_stack: ExitStack | None = None

    def dispatch(self, request, *args, **kwargs):
        self._scope_stack = ExitStack()
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            self._scope_stack.close()

    def perform_authentication(self, request) -> None:
        super().perform_authentication(request)
        enter_scope_for = import_string(settings.TENANT_SCOPE_FOR_USER)
        organization_ids = self._scope_stack.enter_context(enter_scope_for(request.user))
        request._request.organization_ids = organization_ids


class ApiView(TenantScopedMixin, APIView):
    """Base of every API view that is not a generic list."""


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}``; ``?page=`` and ``?page_size=`` (≤ 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100


class ApiGenericView(TenantScopedMixin, generics.GenericAPIView):
    """Base of the API's list views (filtering and pagination)."""

    # Set here, not in REST_FRAMEWORK: DRF imports the default while this module loads.
    pagination_class = PageNumberPagination


# --- errors --------------------------------------------------------------------------------


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors become status codes: 400 with field errors, 403, 404, 409 with detail."""
    if isinstance(exc, InvalidInput):
        data: dict[str, Any] = dict(exc.errors) or {"detail": exc.message}
        rule = getattr(exc, "rule", "")
        if rule:  # a business rule refused it: say which, and what it says
            data.update(detail=exc.message, rule=rule)
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, ConcurrentTransition):
        return Response(
            {"detail": "The case was changed by someone else a moment ago; reload it."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TransitionNotAllowed):
        return Response(
            {"detail": "This is not possible from the case's current status."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Unknown API addresses answer in JSON, like the rest of the API."""
    detail = "No such endpoint."
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            detail = f"No such endpoint. Addresses end with a slash: {request.path}/"
    return JsonResponse({"detail": detail}, status=404)


# --- docs ----------------------------------------------------------------------------------


def schema_view(request, *args, **kwargs):
    """The OpenAPI schema (drf-spectacular's view). The view and the generator it imports
    take some 6 MB, so a worker loads them on the first request for the schema instead of
    at start."""
    return _spectacular_view()(request, *args, **kwargs)


@functools.cache
def _spectacular_view():
    from drf_spectacular.views import SpectacularAPIView

    return SpectacularAPIView.as_view()


@functools.cache
def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Through JSON once, so lazy strings and enums become plain values for the template.
    return json.loads(OpenApiJsonRenderer().render(schema))


def _type_of(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = components.get(name, {})
        if "enum" in target:
            return " | ".join(str(v) for v in target["enum"] if v not in ("", None))
        return name
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            return " | ".join(_type_of(s, components) for s in schema[combinator])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v not in ("", None))
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}), components)}"
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    if schema.get("nullable"):
        kind += ", or null"
    return kind


TAG_ORDER = ("auth", "people", "catalogue", "cases", "case actions", "escalations", "files")


def _plain(description: str) -> str:
    # The schema's enum descriptions repeat each value as a Markdown list; the type column
    # already lists the values.
    lines = [line for line in description.splitlines() if not line.startswith("* `")]
    return "\n".join(lines).strip()


def _docs_context(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    tags: dict[str, list[dict[str, Any]]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            bodies = []
            for content_type, content in op.get("requestBody", {}).get("content", {}).items():
                ref = content.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1] if ref else ""
                target = components.get(name, content.get("schema", {}))
                required = set(target.get("required", []))
                fields = [
                    {
                        "name": field,
                        "required": field in required,
                        "type": _type_of(prop, components),
                        "description": _plain(prop.get("description", "")),
                    }
                    for field, prop in target.get("properties", {}).items()
                    if not prop.get("readOnly")
                ]
                bodies.append({"content_type": content_type, "name": name, "fields": fields})
            tags.setdefault((op.get("tags") or ["api"])[0], []).append(
                {
                    "method": method,
                    "path": path,
                    "operation_id": op.get("operationId", ""),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type_of(p.get("schema", {}), components),
                            "description": _plain(p.get("description", "")),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "bodies": bodies,
                    "responses": [
                        {"code": code, "description": r.get("description", "")}
                        for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    return {
        "info": schema.get("info", {}),
        "tags": [
            {"name": name, "operations": tags[name]}
            for name in sorted(
                tags, key=lambda t: TAG_ORDER.index(t) if t in TAG_ORDER else len(TAG_ORDER)
            )
        ],
    }


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    """The API reference as one self-contained page (no scripts, no CDN), built from the
    same OpenAPI schema that ``/api/schema/`` serves."""
    context = {**_docs_context(_schema()), "schema_url": reverse("api:schema")}
    return render(request, "core/api_docs.html", context)
