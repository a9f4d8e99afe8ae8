"""REST API v1 for cases: every role (designated contact, read-only, basic, another tenant,
care, anonymous, token), filters and pagination, the action endpoints and their status codes,
and internal notes that never reach a customer."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from accounts.models import AccessLevel
from cases import services
from cases.models import Case, CaseEvent, CaseUpdate
from core.api import exception_handler
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.tenancy import scopes_disabled
from tests.factories import CaseFactory, DeploymentFactory, member_of, open_case

pytestmark = pytest.mark.django_db

SECRET_NOTE = "Internal: the customer's config is broken, do not tell them yet"


# --- helpers -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user=None) -> APIClient:
    """A client signed in with a session (as a browser would be), or anonymous."""
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def token_client(user) -> APIClient:
    """A client that sends only ``Authorization: Token …`` (no session, no cookies)."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make_case(organization, contact, **fields) -> Case:
    with scopes_disabled():
        return CaseFactory(organization=organization, contact=contact, **fields)


def url(case: Case | str, suffix: str = "") -> str:
    number = case if isinstance(case, str) else case.display_number
    return f"/api/v1/cases/{number}/{suffix}"


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


def post_internal_note(case: Case, analyst, body: str = SECRET_NOTE) -> CaseUpdate:
    with scopes_disabled():
        return services.case_post_update(
            case=case, actor=analyst, body=body, internal=True, channel="admin", now=timezone.now()
        )


def reload(case: Case) -> Case:
    with scopes_disabled():
        return Case.objects.get(pk=case.pk)


NEW_CASE = {
    "type": "support",
    "sub_type": "problem",
    "implementation_stage": "production",
    "service": "routing",
    "subject": "Calls drop after transfer",
    "description": "Calls drop after a blind transfer to the billing queue.",
    "priority": "medium",
    "business_impact": "Agents have to call customers back.",
}


def new_case(org, **overrides) -> dict:
    with scopes_disabled():
        deployment = org.deployments.first()
    return {"organization": org.slug, "deployment": deployment.pk, **NEW_CASE, **overrides}


# --- authentication and tenant scope ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases/"),
        ("post", "/api/v1/cases/"),
        ("get", "/api/v1/cases/export.xlsx"),
        ("get", "/api/v1/cases/00001000/"),
        ("get", "/api/v1/cases/00001000/updates/"),
        ("post", "/api/v1/cases/00001000/updates/"),
        ("get", "/api/v1/cases/00001000/history/"),
        ("post", "/api/v1/cases/00001000/close/"),
        ("post", "/api/v1/cases/00001000/take/"),
        ("get", "/api/v1/services/"),
        ("get", "/api/v1/attachments/abc/"),
    ],
)
def test_unauthenticated_requests_get_401(org_a, method, path):
    response = getattr(client_for(), method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_a_wrong_token_gets_401(org_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/v1/cases/")

    assert response.status_code == 401


def test_token_customer_sees_their_cases_and_not_another_tenants(org_a, org_b, dc_a, dc_b):
    # DOMAIN T-6: a token request runs in the caller's tenant scope, not the empty one the
    # middleware gives a request without a session.
    own = make_case(org_a, dc_a)
    other = make_case(org_b, dc_b)
    client = token_client(dc_a)

    listed = client.get("/api/v1/cases/")
    detail = client.get(url(own))
    hidden = client.get(url(other))

    assert listed.status_code == 200
    assert numbers(listed) == [own.display_number]
    assert detail.status_code == 200
    assert detail.json()["organization"] == "org-a"
    assert hidden.status_code == 404


def test_token_customer_can_open_a_case_and_post_an_update(org_a, dc_a):
    client = token_client(dc_a)

    created = client.post("/api/v1/cases/", new_case(org_a), format="json")
    number = created.json()["number"]
    posted = client.post(url(number, "updates/"), {"body": "More detail."}, format="json")

    assert created.status_code == 201
    assert posted.status_code == 201
    with scopes_disabled():
        case = Case.objects.get(number=int(number))
        assert case.channel == "api"
        assert CaseUpdate.objects.get(case=case).channel == "api"


def test_token_staff_analyst_works_across_tenants(org_a, org_b, dc_a, dc_b, analyst):
    # DOMAIN T-5
    a = make_case(org_a, dc_a)
    b = make_case(org_b, dc_b)
    client = token_client(analyst)

    listed = client.get("/api/v1/cases/", {"ordering": "number"})
    taken = client.post(url(b, "take/"), {}, format="json")

    assert numbers(listed) == [a.display_number, b.display_number]
    assert taken.status_code == 200
    assert taken.json()["sub_status"] == "investigation"


def test_scope_is_left_after_a_token_request(org_a, dc_a):
    # The scope entered for a token request must not outlive it.
    from django_scopes import get_scope

    before = get_scope()
    token_client(dc_a).get("/api/v1/cases/")

    assert get_scope() == before


# --- list, filters, pagination -------------------------------------------------------------


def test_list_shows_each_role_what_it_may_see(
    org_a, org_b, dc_a, ro_a, basic_a, dc_b, analyst, product_manager
):
    # DOMAIN T-4, T-5, T-6
    a = make_case(org_a, dc_a)
    b = make_case(org_b, dc_b)

    def listed(user):
        return sorted(numbers(client_for(user).get("/api/v1/cases/")))

    assert listed(dc_a) == [a.display_number]
    assert listed(ro_a) == [a.display_number]
    assert listed(dc_b) == [b.display_number]
    assert listed(analyst) == sorted([a.display_number, b.display_number])
    # As in the portal, Basic users and staff outside care have no case list at all.
    for user in (basic_a, product_manager):
        answer = client_for(user).get("/api/v1/cases/")
        assert answer.status_code == 403
        assert answer.json() == {"detail": "Your access level does not include cases."}


def test_list_rows_carry_wire_values(org_a, dc_a):
    case = make_case(org_a, dc_a, sub_status="info_required", priority="high")

    row = client_for(dc_a).get("/api/v1/cases/").json()["results"][0]

    with scopes_disabled():
        deployment_id = case.deployment_id
    assert row["number"] == case.display_number
    assert len(row["number"]) == 8
    assert row["url"] == f"http://testserver/api/v1/cases/{case.display_number}/"
    assert row["status"] == "awaiting_info"
    assert row["sub_status"] == "info_required"
    assert row["priority"] == "high"
    assert row["type"] == "support"
    assert row["sub_type"] == "problem"
    assert row["organization"] == "org-a"
    assert row["deployment"] == deployment_id
    assert row["service"] == "routing"
    assert row["contact"] == {"name": dc_a.display_name, "email": "dc@org-a.example"}
    assert row["owner"] is None


def test_list_is_paginated(org_a, dc_a):
    for _ in range(7):
        make_case(org_a, dc_a)
    client = client_for(dc_a)

    first = client.get("/api/v1/cases/", {"page_size": 3}).json()
    last = client.get("/api/v1/cases/", {"page_size": 3, "page": 3}).json()

    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_a_page_past_the_end_is_404(org_a, dc_a):
    make_case(org_a, dc_a)

    response = client_for(dc_a).get("/api/v1/cases/", {"page": 9})

    assert response.status_code == 404


def test_list_filters(org_a, org_b, dc_a, analyst):
    # DOMAIN C-13: the filters of All Cases.
    other_contact = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    with scopes_disabled():
        uat = DeploymentFactory(organization=org_a, code="A-UAT", name="A UAT")
    # Through the service, so the case has its search document (C-14).
    old = open_case(
        dc_a,
        org_a,
        now=datetime(2025, 1, 10, 12, tzinfo=UTC),
        priority="low",
        subject="Wallboard shows wrong queue",
    )
    closed = make_case(org_a, dc_a, sub_status="resolved", priority="high")
    theirs = make_case(org_a, other_contact, deployment=uat, type="admin", sub_type="request")
    with scopes_disabled():
        theirs.service = None
        theirs.save(update_fields=["service"])
    in_b = make_case(org_b, member_of(org_b, AccessLevel.DESIGNATED_CONTACT, "x@org-b.example"))
    client = client_for(dc_a)

    def listed(**params):
        response = client.get("/api/v1/cases/", params)
        assert response.status_code == 200, response.json()
        return sorted(numbers(response))

    assert listed(mine="true") == sorted([old.display_number, closed.display_number])
    assert listed(status="closed") == [closed.display_number]
    assert listed(sub_status="resolved") == [closed.display_number]
    assert listed(status=["closed", "open"]) == sorted(
        [old.display_number, closed.display_number, theirs.display_number]
    )
    assert listed(priority="low") == [old.display_number]
    assert listed(type="admin") == [theirs.display_number]
    assert listed(deployment=uat.pk) == [theirs.display_number]
    assert listed(q="wallboard") == [old.display_number]
    assert listed(q=str(old.number)) == [old.display_number]
    assert listed(opened_before="2025-01-10") == [old.display_number]
    assert old.display_number not in listed(opened_after="2025-01-11")
    assert in_b.display_number not in listed()


def test_list_filters_by_organization_and_service_slug(org_a, org_b, dc_a, dc_b, analyst):
    # DOMAIN C-13: organizations and services are named by their slugs.
    routing = make_case(org_a, dc_a)
    admin = make_case(org_a, dc_a, type="admin", sub_type="request", service=None)
    in_b = make_case(org_b, dc_b)

    def listed(user, **params):
        response = client_for(user).get("/api/v1/cases/", params)
        assert response.status_code == 200, response.json()
        return sorted(numbers(response))

    assert listed(dc_a, service="routing") == [routing.display_number]
    assert listed(dc_a, organization="org-a") == sorted(
        [routing.display_number, admin.display_number]
    )
    # Care filter by any organization.
    assert listed(analyst, organization="org-b") == [in_b.display_number]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"opened_after": "yesterday"}, "opened_after"),
        ({"deployment": "abc"}, "deployment"),
        ({"service": "no-such-service"}, "service"),
        ({"organization": "org-b"}, "organization"),
        ({"ordering": "password"}, "ordering"),
    ],
)
def test_invalid_filter_values_are_400_with_field_errors(org_a, org_b, dc_a, params, field):
    make_case(org_a, dc_a)

    response = client_for(dc_a).get("/api/v1/cases/", params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field] and isinstance(body[field][0], str)


def test_another_tenants_deployment_is_not_a_valid_filter(org_a, org_b, dc_a):
    # DOMAIN T-6: no existence oracle through the filters either.
    with scopes_disabled():
        b_deployment = org_b.deployments.first()

    response = client_for(dc_a).get("/api/v1/cases/", {"deployment": b_deployment.pk})

    assert response.status_code == 400
    assert "deployment" in response.json()


def _list_queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["dc", "analyst"])
def test_case_list_runs_the_same_queries_at_5_and_50_rows(org_a, dc_a, analyst, who):
    user = dc_a if who == "dc" else analyst
    client = client_for(user)
    for _ in range(5):
        make_case(org_a, dc_a)
    at_5 = _list_queries(client, "/api/v1/cases/", {"page_size": 100})
    for _ in range(45):
        make_case(org_a, dc_a)
    at_50 = _list_queries(client, "/api/v1/cases/", {"page_size": 100})

    assert at_50 == at_5
    assert len(client.get("/api/v1/cases/", {"page_size": 100}).json()["results"]) == 50


def test_feed_and_history_run_the_same_queries_at_5_and_50_rows(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a)
    client = client_for(dc_a)
    now = timezone.now()

    def add_updates(count):
        with scopes_disabled():
            for i in range(count):
                services.case_post_update(
                    case=case,
                    actor=analyst if i % 2 else dc_a,
                    body=f"Update {i}",
                    uploads=[SimpleUploadedFile(f"log{i}.txt", b"line\n")],
                    channel="api",
                    now=now + timedelta(seconds=i),
                )

    add_updates(5)
    feed_5 = _list_queries(client, url(case, "updates/"), {"page_size": 100})
    history_5 = _list_queries(client, url(case, "history/"), {"page_size": 100})
    add_updates(45)
    feed_50 = _list_queries(client, url(case, "updates/"), {"page_size": 100})
    history_50 = _list_queries(client, url(case, "history/"), {"page_size": 100})

    assert feed_50 == feed_5
    assert history_50 == history_5


# --- detail --------------------------------------------------------------------------------


def test_detail_has_every_field_and_the_callers_actions(org_a, dc_a):
    case = make_case(
        org_a,
        dc_a,
        sub_status="solution_proposed",
        affected_count=12,
        external_reference="INC-77",
    )

    body = client_for(dc_a).get(url(case)).json()

    assert body["number"] == case.display_number
    assert body["status"] == "solution_proposed"
    assert body["sub_status"] == "solution_proposed"
    assert body["implementation_stage"] == "production"
    assert body["description"] == case.description
    assert body["business_impact"] == case.business_impact
    assert body["affected_count"] == 12
    assert body["external_reference"] == "INC-77"
    assert body["closed_at"] is None
    assert body["closure_reason"] is None
    assert body["web_url"].endswith(f"/cases/{case.display_number}/")
    assert body["actions"] == ["post-update", "confirm", "close"]
    for key in ("opened_at", "modified_at", "subject", "organization", "deployment", "owner"):
        assert key in body


def test_detail_accepts_the_number_without_leading_zeros(org_a, dc_a):
    case = make_case(org_a, dc_a)

    response = client_for(dc_a).get(f"/api/v1/cases/{case.number}/")

    assert response.status_code == 200
    assert response.json()["number"] == case.display_number


@pytest.mark.parametrize("who", ["ro", "dc"])
def test_detail_actions_follow_the_access_level(org_a, dc_a, ro_a, who):
    # DOMAIN T-4: read-only users see everything and may do nothing.
    case = make_case(org_a, dc_a)
    user = ro_a if who == "ro" else dc_a

    actions = client_for(user).get(url(case)).json()["actions"]

    assert actions == ([] if who == "ro" else ["post-update", "close"])


def test_detail_actions_for_care(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a)

    actions = client_for(analyst).get(url(case)).json()["actions"]

    assert "take" in actions
    assert "confirm" not in actions


@pytest.mark.parametrize("who", ["basic", "other_tenant", "product_manager"])
def test_cases_not_visible_answer_404(org_a, dc_a, basic_a, dc_b, product_manager, who):
    # DOMAIN T-4, T-6: BASIC users have no case access; another tenant's case does not exist.
    case = make_case(org_a, dc_a)
    user = {"basic": basic_a, "other_tenant": dc_b, "product_manager": product_manager}[who]
    client = client_for(user)

    for method, suffix, data in [
        ("get", "", None),
        ("get", "updates/", None),
        ("get", "history/", None),
        ("post", "updates/", {"body": "hello"}),
        ("post", "close/", {}),
        ("post", "take/", {}),
        ("post", "reopen/", {"reason": "again"}),
    ]:
        response = getattr(client, method)(url(case, suffix), data, format="json")
        assert response.status_code == 404, (suffix, response.json())
        assert response.json() == {"detail": "No such case."}


@pytest.mark.parametrize("number", ["99999999", "0", "123456789012345678901234567890"])
def test_unknown_case_numbers_are_404_in_json(org_a, dc_a, number):
    response = client_for(dc_a).get(f"/api/v1/cases/{number}/")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_unknown_api_address_is_404_in_json(dc_a):
    client = client_for(dc_a)

    unknown = client.get("/api/v1/nothing-here/")
    no_slash = client.get("/api/v1/me")

    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No such endpoint."}
    assert no_slash.status_code == 404
    assert "/api/v1/me/" in no_slash.json()["detail"]


# --- create --------------------------------------------------------------------------------


def test_designated_contact_opens_a_case(org_a, dc_a):
    # DOMAIN C-1, C-4
    response = client_for(dc_a).post("/api/v1/cases/", new_case(org_a), format="json")

    assert response.status_code == 201
    body = response.json()
    assert len(body["number"]) == 8
    assert response["Location"] == body["url"]
    assert body["status"] == "open"
    assert body["sub_status"] == "new"
    assert body["contact"]["email"] == "dc@org-a.example"
    assert body["actions"] == ["post-update", "close"]
    with scopes_disabled():
        case = Case.objects.get(number=int(body["number"]))
        assert case.organization == org_a
        assert CaseEvent.objects.filter(case=case, kind="opened", channel="api").exists()


def test_organization_may_be_left_out_by_a_contact_of_one_organization(org_a, dc_a):
    data = new_case(org_a)
    del data["organization"]

    response = client_for(dc_a).post("/api/v1/cases/", data, format="json")

    assert response.status_code == 201
    assert response.json()["organization"] == "org-a"


def test_case_with_attachments_by_multipart(org_a, dc_a):
    # DOMAIN C-10
    data = {
        **new_case(org_a),
        "attachments": [
            SimpleUploadedFile("trace.log", b"12:00 call dropped\n"),
            SimpleUploadedFile("../../etc/notes.txt", b"more\n"),
        ],
    }
    client = client_for(dc_a)

    response = client.post("/api/v1/cases/", data, format="multipart")

    assert response.status_code == 201, response.json()
    feed = client.get(url(response.json()["number"], "updates/")).json()["results"]
    names = sorted(a["name"] for a in feed[0]["attachments"])
    assert names == ["notes.txt", "trace.log"]


def test_create_reports_every_field_error(org_a, dc_a):
    # DOMAIN C-4
    response = client_for(dc_a).post(
        "/api/v1/cases/",
        {"organization": "org-a", "type": "bogus", "priority": "urgent"},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    for field in ("deployment", "subject", "description", "business_impact", "type", "priority"):
        assert field in errors, field
        assert isinstance(errors[field], list)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"priority": "critical"}, "priority", "call"),  # DOMAIN C-5
        ({"type": "incident"}, "type", "Support"),  # DOMAIN C-2
        ({"sub_type": "password_reset"}, "sub_type", "Problem"),  # DOMAIN C-2
        ({"implementation_stage": ""}, "implementation_stage", "Production or UAT"),  # C-3
        ({"service": "no-such-service"}, "service", "cloud service"),
        ({"type": "admin", "sub_type": "question"}, "service", "leave it empty"),
    ],
)
def test_create_refuses_what_the_rules_refuse_with_the_services_words(
    org_a, dc_a, overrides, field, words
):
    response = client_for(dc_a).post("/api/v1/cases/", new_case(org_a, **overrides), format="json")

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    with scopes_disabled():
        assert not Case.objects.exists()


def test_create_in_another_tenants_organization_is_a_field_error(org_a, org_b, dc_a):
    # DOMAIN T-6: the same answer as for an organization that does not exist.
    other = client_for(dc_a).post("/api/v1/cases/", new_case(org_b), format="json")
    missing = client_for(dc_a).post(
        "/api/v1/cases/", new_case(org_a, organization="no-such-org"), format="json"
    )

    assert other.status_code == missing.status_code == 400
    assert other.json() == missing.json() == {"organization": ["Choose one of your organizations."]}


def test_create_with_another_tenants_deployment_is_refused(org_a, org_b, dc_a):
    with scopes_disabled():
        b_deployment = org_b.deployments.first()

    response = client_for(dc_a).post(
        "/api/v1/cases/", new_case(org_a, deployment=b_deployment.pk), format="json"
    )

    assert response.status_code == 400
    assert "deployment" in response.json()


@pytest.mark.parametrize("who", ["ro", "basic", "analyst"])
def test_only_designated_contacts_open_cases(org_a, ro_a, basic_a, analyst, who):
    # DOMAIN T-4: READ_ONLY and BASIC may see the organization but not open cases.
    user = {"ro": ro_a, "basic": basic_a, "analyst": analyst}[who]

    response = client_for(user).post("/api/v1/cases/", new_case(org_a), format="json")

    assert response.status_code == 403
    assert response.json()["detail"]
    with scopes_disabled():
        assert not Case.objects.exists()


def test_oversized_attachment_is_refused(org_a, dc_a, settings):
    # DOMAIN C-10
    settings.PORTAL = {**settings.PORTAL, "ATTACHMENT_MAX_BYTES": 10}
    data = {**new_case(org_a), "attachments": [SimpleUploadedFile("big.log", b"x" * 11)]}

    response = client_for(dc_a).post("/api/v1/cases/", data, format="multipart")

    assert response.status_code == 400
    assert "attachments" in response.json()
    with scopes_disabled():
        assert not Case.objects.exists()


# --- the feed ------------------------------------------------------------------------------


def test_customer_posts_a_public_update_with_a_file(org_a, dc_a):
    # DOMAIN C-9, C-10
    case = make_case(org_a, dc_a, sub_status="info_required")
    client = client_for(dc_a)

    response = client.post(
        url(case, "updates/"),
        {"body": "Here is the log.", "attachments": [SimpleUploadedFile("a.txt", b"hello\n")]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["body"] == "Here is the log."
    assert body["internal"] is False
    assert body["by_care"] is False
    assert body["author"] == dc_a.display_name
    assert body["channel"] == "api"
    assert [a["name"] for a in body["attachments"]] == ["a.txt"]
    # DOMAIN C-8: a customer's update to a case awaiting them moves it on.
    assert reload(case).sub_status == "customer_responded"
    download = client.get(body["attachments"][0]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hello\n"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_attachment_download_is_access_checked(org_a, dc_a, dc_b, ro_a):
    # DOMAIN C-10, T-6
    case = make_case(org_a, dc_a)
    posted = client_for(dc_a).post(
        url(case, "updates/"),
        {"body": "log", "attachments": [SimpleUploadedFile("a.txt", b"hello\n")]},
        format="multipart",
    )
    link = posted.json()["attachments"][0]["url"]

    assert client_for(ro_a).get(link).status_code == 200
    assert client_for(dc_b).get(link).status_code == 404
    assert client_for(dc_a).get("/api/v1/attachments/no-such-token/").status_code == 404


def test_customer_may_ask_for_a_priority_change(org_a, dc_a):
    # DOMAIN C-6
    case = make_case(org_a, dc_a, priority="low")
    client = client_for(dc_a)

    asked = client.post(
        url(case, "updates/"),
        {"body": "Please raise.", "requested_priority": "medium"},
        format="json",
    )
    too_high = client.post(
        url(case, "updates/"),
        {"body": "Please raise.", "requested_priority": "high"},
        format="json",
    )

    assert asked.status_code == 201
    assert asked.json()["requested_priority"] == "medium"
    assert too_high.status_code == 400
    assert "call" in too_high.json()["requested_priority"][0]


def test_update_needs_a_body(org_a, dc_a):
    case = make_case(org_a, dc_a)

    response = client_for(dc_a).post(url(case, "updates/"), {"body": ""}, format="json")

    assert response.status_code == 400
    assert "body" in response.json()


def test_read_only_user_cannot_post(org_a, dc_a, ro_a):
    # DOMAIN T-4
    case = make_case(org_a, dc_a)

    response = client_for(ro_a).post(url(case, "updates/"), {"body": "hi"}, format="json")

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    with scopes_disabled():
        assert not CaseUpdate.objects.exists()


def test_customer_cannot_post_an_internal_note(org_a, dc_a):
    # DOMAIN C-9
    case = make_case(org_a, dc_a)

    response = client_for(dc_a).post(
        url(case, "updates/"), {"body": "secret", "internal": True}, format="json"
    )

    assert response.status_code == 403
    with scopes_disabled():
        assert not CaseUpdate.objects.exists()


def test_update_on_a_closed_case_is_409(org_a, dc_a):
    case = make_case(org_a, dc_a, sub_status="cancelled")

    response = client_for(dc_a).post(url(case, "updates/"), {"body": "hi"}, format="json")

    assert response.status_code == 409
    assert "reopen" in response.json()["detail"]


def test_care_posts_an_internal_note_that_customers_never_get(org_a, dc_a, ro_a, analyst):
    # DOMAIN C-9: internal notes never appear in a customer's API responses.
    case = make_case(org_a, dc_a)
    care = client_for(analyst)

    note_data = {"body": SECRET_NOTE, "internal": "true"}
    note = care.post(
        url(case, "updates/"),
        {**note_data, "attachments": [SimpleUploadedFile("n.txt", b"internal\n")]},
        format="multipart",
    )
    public = care.post(url(case, "updates/"), {"body": "We are on it."}, format="json")

    assert note.status_code == 201
    assert note.json()["internal"] is True
    assert public.status_code == 201
    care_feed = care.get(url(case, "updates/")).json()["results"]
    assert [u["internal"] for u in care_feed].count(True) == 1
    note_file = note.json()["attachments"][0]["url"]
    for customer in (dc_a, ro_a):
        client = client_for(customer)
        responses = [
            client.get("/api/v1/cases/"),
            client.get("/api/v1/cases/", {"q": "config"}),
            client.get(url(case)),
            client.get(url(case, "updates/")),
            client.get(url(case, "history/")),
        ]
        for response in responses:
            assert response.status_code == 200
            assert SECRET_NOTE not in response.content.decode()
            assert "config is broken" not in response.content.decode()
        feed = client.get(url(case, "updates/")).json()["results"]
        assert all(u["internal"] is False for u in feed)
        assert client.get(note_file).status_code == 404


def test_history_hides_care_internal_events_from_customers(org_a, dc_a, analyst):
    # DOMAIN C-16
    case = make_case(org_a, dc_a)
    post_internal_note(case, analyst)
    client_for(analyst).post(url(case, "take/"), {"body": "Looking."}, format="json")

    customer = client_for(dc_a).get(url(case, "history/")).json()["results"]
    care = client_for(analyst).get(url(case, "history/")).json()["results"]

    assert "note" not in [e["kind"] for e in customer]
    assert "note" in [e["kind"] for e in care]
    transition = next(e for e in customer if e["kind"] == "transition")
    assert transition["channel"] == "api"
    assert transition["actor"] == analyst.display_name
    assert transition["before"]["sub_status"] == "new"
    assert transition["after"]["sub_status"] == "investigation"


# --- actions -------------------------------------------------------------------------------


def test_customer_closes_a_case_with_a_message(org_a, dc_a):
    # DOMAIN C-11, C-8
    case = make_case(org_a, dc_a)
    client = client_for(dc_a)

    response = client.post(url(case, "close/"), {"body": "Fixed itself."}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "closed"
    assert body["sub_status"] == "cancelled"
    assert body["closure_reason"] == "cancelled"
    assert body["closed_at"] is not None
    assert body["actions"] == ["reopen"]
    feed = client.get(url(case, "updates/")).json()["results"]
    assert feed[0]["body"] == "Fixed itself."


def test_customer_confirms_the_proposed_solution(org_a, dc_a):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, sub_status="solution_proposed")

    response = client_for(dc_a).post(url(case, "confirm/"), {}, format="json")

    assert response.status_code == 200
    assert response.json()["sub_status"] == "problem_resolved"


def test_reopen_needs_a_reason_and_works_within_30_days(org_a, dc_a):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, sub_status="resolved")
    client = client_for(dc_a)

    missing = client.post(url(case, "reopen/"), {}, format="json")
    blank = client.post(url(case, "reopen/"), {"reason": "   "}, format="json")
    reopened = client.post(url(case, "reopen/"), {"reason": "It is back."}, format="json")

    assert missing.status_code == 400
    assert "reason" in missing.json()
    assert blank.status_code == 400
    assert reopened.status_code == 200
    assert reopened.json()["sub_status"] == "customer_responded"


def test_reopen_after_30_days_is_409_saying_why(org_a, dc_a):
    # DOMAIN C-12
    closed_at = timezone.now() - timedelta(days=31)
    case = make_case(org_a, dc_a, sub_status="resolved", opened_at=closed_at, closed_at=closed_at)

    response = client_for(dc_a).post(url(case, "reopen/"), {"reason": "Again"}, format="json")

    assert response.status_code == 409
    assert "open a new case" in response.json()["detail"]
    assert reload(case).sub_status == "resolved"


def test_a_refused_transition_is_409_with_the_reason_and_changes_nothing(org_a, dc_a, analyst):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, sub_status="investigation")

    taken = client_for(analyst).post(url(case, "take/"), {}, format="json")
    confirmed = client_for(dc_a).post(url(case, "confirm/"), {}, format="json")

    assert taken.status_code == 409
    assert "Investigation" in taken.json()["detail"]
    assert confirmed.status_code == 409
    assert set(confirmed.json()) == {"detail"}
    assert reload(case).sub_status == "investigation"


@pytest.mark.parametrize(
    "action",
    [
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
    ],
)
def test_customer_calling_a_care_action_is_403(org_a, dc_a, action):
    # DOMAIN T-5
    case = make_case(org_a, dc_a)

    response = client_for(dc_a).post(
        url(case, f"{action}/"), {"body": "x", "priority": "low", "owner": None}, format="json"
    )

    assert response.status_code == 403
    assert reload(case).sub_status == "new"


@pytest.mark.parametrize("action", ["close", "confirm", "reopen"])
def test_read_only_user_cannot_act(org_a, dc_a, ro_a, action):
    # DOMAIN T-4
    sub_status = {"close": "new", "confirm": "solution_proposed", "reopen": "resolved"}[action]
    case = make_case(org_a, dc_a, sub_status=sub_status)

    response = client_for(ro_a).post(url(case, f"{action}/"), {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert reload(case).sub_status == sub_status


def test_care_walks_a_case_through_its_life(org_a, dc_a, analyst):
    # DOMAIN C-8: take → request info → customer responds → restore (RCA) → deliver RCA.
    case = make_case(org_a, dc_a)
    care, customer = client_for(analyst), client_for(dc_a)

    def act(client, action, data=None, status=200):
        response = client.post(url(case, f"{action}/"), data or {}, format="json")
        assert response.status_code == status, (action, response.json())
        return response.json()

    assert act(care, "take")["owner"] == analyst.display_name
    assert act(care, "request-info", {"body": "Which queue?"})["status"] == "awaiting_info"
    customer.post(url(case, "updates/"), {"body": "Billing."}, format="json")
    restored = act(care, "restore-service", {"pending": "rca", "body": "Restored."})
    assert restored["sub_status"] == "pending_rca"
    assert restored["status"] == "service_restored"
    assert act(care, "deliver-rca", {"body": "Root cause: config."})["sub_status"] == (
        "solution_proposed"
    )
    assert act(customer, "confirm")["sub_status"] == "problem_resolved"
    closed = act(customer, "close")
    assert closed["sub_status"] == "resolved"
    assert closed["closure_reason"] == "solution_confirmed"


def test_care_actions_that_need_a_message_say_so(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a, sub_status="investigation")
    care = client_for(analyst)

    for action in ("request-info", "propose-solution"):
        response = care.post(url(case, f"{action}/"), {}, format="json")
        assert response.status_code == 400
        assert "body" in response.json()
    bad_pending = care.post(url(case, "restore-service/"), {"pending": "later"}, format="json")
    assert bad_pending.status_code == 400
    assert "pending" in bad_pending.json()
    assert reload(case).sub_status == "investigation"


def test_care_resolves_cancels_and_redirects(org_a, dc_a, analyst):
    care = client_for(analyst)
    for action, sub_status in [
        ("resolve", "resolved"),
        ("cancel", "cancelled"),
        ("redirect", "redirected"),
    ]:
        case = make_case(org_a, dc_a, sub_status="investigation")
        response = care.post(url(case, f"{action}/"), {"body": "Done."}, format="json")
        assert response.status_code == 200
        assert response.json()["sub_status"] == sub_status


def test_care_sets_priority_including_critical(org_a, dc_a, analyst):
    # DOMAIN C-5
    case = make_case(org_a, dc_a)
    care = client_for(analyst)

    critical = care.post(url(case, "set-priority/"), {"priority": "critical"}, format="json")
    same = care.post(url(case, "set-priority/"), {"priority": "critical"}, format="json")
    unknown = care.post(url(case, "set-priority/"), {"priority": "urgent"}, format="json")

    assert critical.status_code == 200
    assert critical.json()["priority"] == "critical"
    assert same.status_code == 409
    assert unknown.status_code == 400
    assert "priority" in unknown.json()


def test_care_converts_a_support_case_to_an_incident(org_a, dc_a, analyst):
    # DOMAIN C-2
    case = make_case(org_a, dc_a)
    care = client_for(analyst)

    converted = care.post(url(case, "convert-to-incident/"), {}, format="json")
    again = care.post(url(case, "convert-to-incident/"), {}, format="json")

    assert converted.json()["type"] == "incident"
    assert again.status_code == 409


def test_care_assigns_by_id_or_email_and_unassigns(org_a, dc_a, analyst, manager):
    case = make_case(org_a, dc_a)
    care = client_for(analyst)

    by_email = care.post(url(case, "assign/"), {"owner": "MANAGER@care.example"}, format="json")
    by_id = care.post(url(case, "assign/"), {"owner": analyst.pk}, format="json")
    cleared = care.post(url(case, "assign/"), {"owner": None}, format="json")

    assert by_email.json()["owner"] == manager.display_name
    assert by_id.json()["owner"] == analyst.display_name
    assert cleared.status_code == 200
    assert cleared.json()["owner"] is None


@pytest.mark.parametrize("owner", ["dc@org-a.example", "nobody@care.example", "12345678", True])
def test_assign_refuses_anyone_but_care(org_a, dc_a, analyst, product_manager, owner):
    case = make_case(org_a, dc_a)

    response = client_for(analyst).post(url(case, "assign/"), {"owner": owner}, format="json")
    missing = client_for(analyst).post(url(case, "assign/"), {}, format="json")
    pm = client_for(analyst).post(
        url(case, "assign/"), {"owner": product_manager.email}, format="json"
    )

    assert response.status_code == missing.status_code == pm.status_code == 400
    assert "owner" in response.json()
    assert reload(case).owner_id is None


def test_action_bodies_become_public_updates(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a)

    client_for(analyst).post(url(case, "take/"), {"body": "Looking at it now."}, format="json")

    feed = client_for(dc_a).get(url(case, "updates/")).json()["results"]
    assert [(u["body"], u["by_care"], u["internal"]) for u in feed] == [
        ("Looking at it now.", True, False)
    ]


def test_malformed_json_is_400(org_a, dc_a):
    case = make_case(org_a, dc_a)

    response = client_for(dc_a).post(
        url(case, "close/"), data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert "detail" in response.json()


# --- export --------------------------------------------------------------------------------


def _sheet_text(response) -> str:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_export_holds_exactly_the_filtered_visible_rows(org_a, org_b, dc_a, dc_b):
    # DOMAIN C-13, T-6
    still_open = make_case(org_a, dc_a, subject="Open one")
    closed = make_case(org_a, dc_a, sub_status="resolved", subject="Closed one")
    other = make_case(org_b, dc_b, subject="Other tenant")
    client = token_client(dc_a)

    everything = client.get("/api/v1/cases/export.xlsx")
    only_open = client.get(
        "/api/v1/cases/export.xlsx",
        {"status": "open"},
        HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

    assert everything.status_code == 200
    assert everything["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert everything["Content-Disposition"].startswith("attachment")
    text = _sheet_text(everything)
    assert still_open.display_number in text
    assert closed.display_number in text
    assert other.display_number not in text
    text = _sheet_text(only_open)
    assert still_open.display_number in text
    assert closed.display_number not in text


def test_export_with_a_bad_filter_is_400_in_json(org_a, dc_a):
    response = client_for(dc_a).get("/api/v1/cases/export.xlsx", {"status": "bogus"})

    assert response.status_code == 400
    assert "status" in json.loads(response.content)


# --- catalogue -----------------------------------------------------------------------------


def test_services_list_the_catalogue(dc_a):
    # DOMAIN T-3
    response = client_for(dc_a).get("/api/v1/services/")

    assert response.status_code == 200
    services_ = response.json()
    assert len(services_) == 12
    routing = next(s for s in services_ if s["slug"] == "routing")
    assert set(routing) == {"slug", "name", "product_group", "checklist"}
    assert routing["checklist"]


@pytest.mark.parametrize("suffix", ["", "updates/", "history/", "close/"])
def test_browsable_api_renders_for_a_signed_in_browser(org_a, dc_a, suffix):
    case = make_case(org_a, dc_a)
    client = client_for(dc_a)

    listing = client.get("/api/v1/cases/", HTTP_ACCEPT="text/html")
    page = client.get(url(case, suffix), HTTP_ACCEPT="text/html")

    assert listing.status_code == 200
    assert page.status_code == (405 if suffix == "close/" else 200)
    assert page["Content-Type"].startswith("text/html")


# --- error mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "body"),
    [
        (InvalidInput("Bad.", {"body": ["Write a message."]}), 400, {"body": ["Write a message."]}),
        (InvalidInput("Bad input."), 400, {"detail": "Bad input."}),
        (NotAllowed("Read-only."), 403, {"detail": "Read-only."}),
        (NotFound("No such case."), 404, {"detail": "No such case."}),
        (Conflict("Not from here."), 409, {"detail": "Not from here."}),
        (
            ConcurrentTransition("raced"),
            409,
            {"detail": "The case was changed by someone else a moment ago; reload it."},
        ),
        (
            TransitionNotAllowed("no"),
            409,
            {"detail": "This is not possible from the case's current status."},
        ),
        (
            ValidationError({"subject": ["Too long."]}),
            400,
            {"subject": ["Too long."]},
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_domain_errors_map_to_status_codes(error, code, body):
    response = exception_handler(error, {})

    assert response.status_code == code
    assert response.data == body


def test_other_errors_are_left_to_drf():
    response = exception_handler(ParseError("Malformed."), {})

    assert response.status_code == 400
    assert exception_handler(RuntimeError("boom"), {}) is None
