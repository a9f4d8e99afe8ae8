"""The OpenAPI schema validates, covers every endpoint of API v1, and the docs page works
offline."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

ENDPOINTS = {
    "/api/v1/auth/token/": {"post", "delete"},
    "/api/v1/me/": {"get"},
    "/api/v1/services/": {"get"},
    "/api/v1/organizations/": {"get"},
    "/api/v1/cases/": {"get", "post"},
    "/api/v1/cases/export.xlsx": {"get"},
    "/api/v1/cases/{number}/": {"get"},
    "/api/v1/cases/{number}/updates/": {"get", "post"},
    "/api/v1/cases/{number}/history/": {"get"},
    "/api/v1/attachments/{token}/": {"get"},
    "/api/v1/cases/{number}/escalations/": {"get", "post"},
    "/api/v1/escalations/{id}/": {"get"},
    "/api/v1/escalations/{id}/messages/": {"get", "post"},
    "/api/v1/escalations/{id}/accept/": {"post"},
    "/api/v1/escalations/{id}/reject/": {"post"},
    "/api/v1/escalations/{id}/resolve/": {"post"},
    **{
        f"/api/v1/cases/{{number}}/{action}/": {"post"}
        for action in (
            "close",
            "confirm",
            "reopen",
            "take",
            "request-info",
            "propose-solution",
            "restore-service",
            "deliver-rca",
            "resolve",
            "cancel",
            "redirect",
            "convert-to-incident",
            "set-priority",
            "assign",
            "change-fields",
        )
    },
}
FILTERS = {
    "mine",
    "status",
    "sub_status",
    "priority",
    "type",
    "organization",
    "deployment",
    "service",
    "q",
    "opened_after",
    "opened_before",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


def test_schema_validates_against_the_openapi_specification(schema):
    validate_schema(schema)


def test_schema_covers_every_endpoint(schema):
    paths = schema["paths"]

    for path, methods in ENDPOINTS.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
    assert set(paths) == set(ENDPOINTS)


def test_every_operation_has_an_id_a_summary_and_responses(schema):
    ids = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            assert operation["responses"], (method, path)
    assert len(ids) == len(set(ids))


def test_case_lists_document_the_filters_and_pagination(schema):
    for path in ("/api/v1/cases/", "/api/v1/cases/export.xlsx"):
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters >= FILTERS, path
    listing = schema["paths"]["/api/v1/cases/"]["get"]
    assert {"page", "page_size"} <= {p["name"] for p in listing["parameters"]}
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paginated = schema["components"]["schemas"][page.rsplit("/", 1)[-1]]
    assert set(paginated["properties"]) == {"count", "next", "previous", "results"}


def test_requests_and_responses_have_schemas(schema):
    components = schema["components"]["schemas"]
    create = schema["paths"]["/api/v1/cases/"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "attachments" in components["CaseCreateRequest"]["properties"]
    detail = components["CaseDetail"]["properties"]
    for field in ("number", "status", "sub_status", "priority", "actions", "contact", "owner"):
        assert field in detail
    reopen = schema["paths"]["/api/v1/cases/{number}/reopen/"]["post"]
    assert reopen["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ReopenRequest"
    )
    assert "409" in reopen["responses"]


def test_wire_enums_are_lowercase(schema):
    components = schema["components"]["schemas"]
    for name in ("StatusEnum", "SubStatusEnum", "PriorityEnum", "TypeEnum", "AccessLevelEnum"):
        values = components[name]["enum"]
        assert values and all(re.fullmatch(r"[a-z_]+", v) for v in values), name


@pytest.mark.django_db
def test_schema_is_served(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/cases/" in response.json()["paths"]


@pytest.mark.django_db
def test_docs_page_lists_every_endpoint_and_loads_nothing_from_elsewhere(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for path in ENDPOINTS:
        assert f"<code>{path}</code>" in page, path
    # Offline: no scripts, no stylesheets or images from another host.
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/cases/"])
def test_a_body_nested_too_deeply_is_a_400_not_a_server_error(path, dc_a):
    # A hundred thousand nested arrays exhaust the JSON decoder's recursion
    api = APIClient()
    if path == "/api/v1/cases/":
        api.force_authenticate(dc_a)
    body = "[" * 100_000 + "]" * 100_000

    answer = api.post(path, data=body, content_type="application/json")

    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["detail"]
