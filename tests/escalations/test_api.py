"""REST API v1 for escalations: asking for one (E-1 … E-7 and the rule that refused), the
escalation and its feed (E-9), a care manager's decisions (E-8), every role's status codes,
token sign-in, another tenant, and the schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import AccessLevel
from cases import services as case_services
from cases.models import Case, CaseEvent
from core.audit.models import AuditLogEntry
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from escalations import services
from escalations.models import Escalation, EscalationMessage
from tests.factories import CaseFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

REQUEST = {"reason": "slow_progress", "details": "Nothing has moved for a week."}


# --- helpers -----------------------------------------------------------------------------


def client_for(user=None) -> APIClient:
    """A client signed in with a session, or anonymous."""
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def token_client(user) -> APIClient:
    """A client that sends only ``Authorization: Token …``."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make_case(organization, contact, **fields) -> Case:
    with scopes_disabled():
        return CaseFactory(organization=organization, contact=contact, **fields)


def case_url(case: Case) -> str:
    return f"/api/v1/cases/{case.display_number}/escalations/"


def url(escalation: Escalation | int, suffix: str = "") -> str:
    pk = escalation if isinstance(escalation, int) else escalation.pk
    return f"/api/v1/escalations/{pk}/{suffix}"


def escalate(case: Case, contact, *, now=None, reason: str = "slow_progress") -> Escalation:
    with scopes_disabled():
        return services.escalation_request(
            case=case,
            actor=contact,
            reason=reason,
            details="Please look at this case.",
            channel="portal",
            now=now or timezone.now(),
        )


def reload(escalation: Escalation) -> Escalation:
    with scopes_disabled():
        return Escalation.unscoped.get(pk=escalation.pk)


def reload_case(case: Case) -> Case:
    with scopes_disabled():
        return Case.unscoped.get(pk=case.pk)


def snapshot(case: Case) -> dict:
    """What a refused request must leave as it was."""
    with scopes_disabled():
        return {
            "case": Case.unscoped.filter(pk=case.pk).values().get(),
            "escalations": list(Escalation.unscoped.values_list("pk", "state")),
            "messages": EscalationMessage.unscoped.count(),
            "events": CaseEvent.unscoped.filter(case_id=case.pk).count(),
            "emails": OutboxEmail.unscoped.count(),
        }


@pytest.fixture
def other_manager(db):
    user = UserFactory(email="manager2@care.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.CARE_MANAGER))
    return user


@pytest.fixture
def case(org_a, dc_a) -> Case:
    return make_case(org_a, dc_a, priority="high")


@pytest.fixture
def requested(case, dc_a) -> Escalation:
    return escalate(case, dc_a)


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases/00001000/escalations/"),
        ("post", "/api/v1/cases/00001000/escalations/"),
        ("get", "/api/v1/escalations/1/"),
        ("get", "/api/v1/escalations/1/messages/"),
        ("post", "/api/v1/escalations/1/messages/"),
        ("post", "/api/v1/escalations/1/accept/"),
        ("post", "/api/v1/escalations/1/reject/"),
        ("post", "/api/v1/escalations/1/resolve/"),
    ],
)
def test_unauthenticated_requests_get_401(org_a, method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_client_escalates_and_follows_the_escalation(case, dc_a):
    client = token_client(dc_a)

    created = client.post(case_url(case), REQUEST, format="json")

    assert created.status_code == 201, created.json()
    detail = client.get(created["Location"])
    assert detail.status_code == 200
    assert detail.json()["state"] == "requested"
    assert client.get(case_url(case)).json()["count"] == 1
    assert reload_case(case).escalated_at is not None


# --- asking for an escalation (E-1 … E-7) --------------------------------------------------


def test_designated_contact_escalates_a_case(case, dc_a):
    # DOMAIN E-7
    response = client_for(dc_a).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    with scopes_disabled():
        escalation = Escalation.unscoped.get()
    assert response["Location"].endswith(f"/api/v1/escalations/{escalation.pk}/")
    assert body["id"] == escalation.pk
    assert body["case"] == case.display_number
    assert body["state"] == "requested"
    assert body["state_label"] == "Requested"
    assert body["reason"] == "slow_progress"
    assert body["reason_label"] == "Slow progress"
    assert body["details"] == REQUEST["details"]
    assert body["channel"] == "api"
    assert body["requester"] == {"name": dc_a.get_full_name(), "email": dc_a.email}
    assert body["owner"] is None
    assert body["importance"] is None and body["urgency"] is None
    assert body["explanation"] is None and body["summary"] is None
    assert body["requested_at"] and body["decided_at"] is None and body["resolved_at"] is None
    assert body["web_url"].endswith(f"/cases/{case.display_number}/escalations/{escalation.pk}/")
    assert body["actions"] == ["post-message"]
    # The case shows when it was escalated, and its history the request.
    case_body = client_for(dc_a).get(f"/api/v1/cases/{case.display_number}/").json()
    assert case_body["escalated_at"] is not None
    with scopes_disabled():
        event = CaseEvent.unscoped.get(case_id=case.pk, kind="escalation")
    assert event.channel == "api"
    assert event.after["escalation"] == escalation.pk


def test_the_case_list_shows_when_a_case_was_escalated(case, dc_a, requested):
    rows = client_for(dc_a).get("/api/v1/cases/").json()["results"]

    assert [row["number"] for row in rows] == [case.display_number]
    assert rows[0]["escalated_at"] is not None


@pytest.mark.parametrize("sub_status", ["resolved", "cancelled"])
def test_a_closed_case_is_refused_with_rule_e1(org_a, dc_a, sub_status):
    # DOMAIN E-1
    case = make_case(org_a, dc_a, sub_status=sub_status, priority="high")
    before = snapshot(case)

    response = client_for(dc_a).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["rule"] == "E-1"
    assert "reopen" in body["detail"]
    assert body["reason"] == [body["detail"]]
    assert snapshot(case) == before


def test_a_second_active_escalation_is_409(case, dc_a, requested):
    # DOMAIN E-2
    before = snapshot(case)

    response = client_for(dc_a).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 409
    assert "already has an escalation in progress" in response.json()["detail"]
    assert snapshot(case) == before


def test_an_accepted_escalation_is_still_active_but_a_decided_one_is_not(
    case, dc_a, manager, requested
):
    # DOMAIN E-2: a case may have many escalations over time, one active at a time
    client = client_for(dc_a)
    client_for(manager).post(url(requested, "accept/"), {}, format="json")
    assert client.post(case_url(case), REQUEST, format="json").status_code == 409

    client_for(manager).post(url(requested, "resolve/"), {"summary": "Fixed."}, format="json")

    assert client.post(case_url(case), REQUEST, format="json").status_code == 201
    assert client.get(case_url(case)).json()["count"] == 2


def test_a_low_priority_case_is_refused_with_rule_e3(org_a, dc_a):
    # DOMAIN E-3
    case = make_case(org_a, dc_a, priority="low")
    before = snapshot(case)

    response = client_for(dc_a).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 400
    assert response.json()["rule"] == "E-3"
    assert "MEDIUM" in response.json()["detail"]
    assert snapshot(case) == before


@pytest.mark.parametrize("reason", ["urgency_change", "impact_change", "priority"])
def test_a_change_of_urgency_or_impact_is_refused_with_rule_e4(case, dc_a, reason):
    # DOMAIN E-4
    before = snapshot(case)

    response = client_for(dc_a).post(case_url(case), {**REQUEST, "reason": reason}, format="json")

    assert response.status_code == 400
    assert response.json()["rule"] == "E-4"
    assert "priority" in response.json()["detail"]
    assert snapshot(case) == before


@pytest.mark.parametrize(
    "restored",
    [None, timedelta(hours=2)],
    ids=["never-restored", "restored-two-hours-ago"],
)
def test_rca_overdue_too_early_is_refused_with_rule_e5(org_a, dc_a, restored):
    # DOMAIN E-5
    now = timezone.now()
    case = make_case(
        org_a,
        dc_a,
        type="incident",
        sub_status="pending_rca",
        restored_at=now - restored if restored else None,
    )
    before = snapshot(case)

    response = client_for(dc_a).post(
        case_url(case), {**REQUEST, "reason": "rca_overdue"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["rule"] == "E-5"
    assert snapshot(case) == before


def test_rca_overdue_is_accepted_once_it_is_overdue(org_a, dc_a):
    # DOMAIN E-5
    case = make_case(
        org_a,
        dc_a,
        type="incident",
        sub_status="pending_rca",
        restored_at=timezone.now() - timedelta(days=21),
    )

    response = client_for(dc_a).post(
        case_url(case), {**REQUEST, "reason": "rca_overdue"}, format="json"
    )

    assert response.status_code == 201, response.json()


def test_no_update_on_a_medium_case_is_refused_with_rule_e6(org_a, dc_a):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, priority="medium")
    before = snapshot(case)

    response = client_for(dc_a).post(
        case_url(case), {**REQUEST, "reason": "no_update"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["rule"] == "E-6"
    assert "HIGH and CRITICAL" in response.json()["detail"]
    assert snapshot(case) == before


def test_no_update_after_a_recent_care_update_is_refused_with_rule_e6(case, dc_a, analyst):
    # DOMAIN E-6
    with scopes_disabled():
        case_services.case_post_update(
            case=case,
            actor=analyst,
            body="We are looking at it.",
            channel="admin",
            now=timezone.now() - timedelta(hours=3),
        )
    before = snapshot(case)

    response = client_for(dc_a).post(
        case_url(case), {**REQUEST, "reason": "no_update"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["rule"] == "E-6"
    assert "24 hours" in response.json()["detail"]
    assert snapshot(case) == before


def test_a_reason_not_on_the_list_is_refused(case, dc_a):
    # DOMAIN E-7
    response = client_for(dc_a).post(case_url(case), {**REQUEST, "reason": "angry"}, format="json")

    assert response.status_code == 400
    assert response.json()["rule"] == "E-7"
    assert "slow_progress" in response.json()["reason"][0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"details": "x"}, "reason"),
        ({"reason": "slow_progress"}, "details"),
        ({"reason": 5, "details": "x"}, "reason"),
        ({"reason": None, "details": "x"}, "reason"),
        ({"reason": "slow_progress", "details": ["x"]}, "details"),
        ({"reason": "slow_progress", "details": {"text": "x"}}, "details"),
        ({"reason": "slow_progress", "details": 12}, "details"),
        ({"reason": "slow_progress", "details": "   "}, "details"),
    ],
)
def test_missing_or_malformed_fields_are_400_and_change_nothing(case, dc_a, payload, field):
    # DOMAIN E-7: a reason and details
    before = snapshot(case)

    response = client_for(dc_a).post(case_url(case), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert "rule" not in response.json()
    assert snapshot(case) == before


def test_read_only_users_cannot_escalate(case, ro_a):
    # DOMAIN T-4
    before = snapshot(case)

    response = client_for(ro_a).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert snapshot(case) == before


@pytest.mark.parametrize("who", ["analyst", "manager"])
def test_customer_care_does_not_escalate(case, analyst, manager, who):
    # DOMAIN E-1: escalations are the designated contacts'
    user = analyst if who == "analyst" else manager
    before = snapshot(case)

    response = client_for(user).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 403
    assert snapshot(case) == before


@pytest.mark.parametrize("who", ["dc_b", "basic_a", "product_manager"])
def test_cases_not_visible_answer_404(case, dc_a, dc_b, basic_a, product_manager, who):
    # DOMAIN T-4, T-6
    user = {"dc_b": dc_b, "basic_a": basic_a, "product_manager": product_manager}[who]
    escalation = escalate(case, dc_a)
    before = snapshot(case)
    client = client_for(user)

    assert client.get(case_url(case)).status_code == 404
    assert client.post(case_url(case), REQUEST, format="json").status_code == 404
    assert client.get(url(escalation)).status_code == 404
    assert client.get(url(escalation, "messages/")).status_code == 404
    assert client.post(url(escalation, "messages/"), {"body": "x"}, format="json").status_code == (
        404
    )
    for decision in ("accept/", "reject/", "resolve/"):
        response = client.post(
            url(escalation, decision), {"explanation": "x", "summary": "x"}, format="json"
        )
        assert response.status_code == 404, decision
    assert snapshot(case) == before


def test_another_tenant_cannot_escalate_with_a_token(case, dc_b):
    # DOMAIN T-6
    response = token_client(dc_b).post(case_url(case), REQUEST, format="json")

    assert response.status_code == 404
    assert reload_case(case).escalated_at is None


@pytest.mark.parametrize("path", ["/api/v1/escalations/999999/", "/api/v1/escalations/abc/"])
def test_unknown_escalations_are_404_in_json(dc_a, path):
    response = client_for(dc_a).get(path)

    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_absurdly_large_escalation_id_is_404(dc_a):
    response = client_for(dc_a).get("/api/v1/escalations/" + "9" * 30 + "/")

    assert response.status_code == 404


# --- reading -------------------------------------------------------------------------------


def test_the_list_shows_the_cases_escalations_newest_first(case, dc_a, ro_a, manager):
    first = escalate(case, dc_a, now=timezone.now() - timedelta(days=2))
    with scopes_disabled():
        services.escalation_reject(
            escalation=first,
            actor=manager,
            explanation="Handled as usual.",
            now=timezone.now() - timedelta(days=1),
        )
    second = escalate(case, dc_a)

    for user in (dc_a, ro_a, manager):
        response = client_for(user).get(case_url(case))
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [second.pk, first.pk]
        assert [row["state"] for row in rows] == ["requested", "rejected"]
        assert rows[1]["owner"] == manager.get_full_name()


def test_the_list_runs_the_same_queries_at_2_and_12_escalations(case, dc_a, manager):
    start = timezone.now() - timedelta(days=30)

    def add(count: int, offset: int) -> None:
        for i in range(count):
            at = start + timedelta(hours=offset + i)
            escalation = escalate(case, dc_a, now=at)
            with scopes_disabled():
                services.escalation_accept(escalation=escalation, actor=manager, now=at)
                services.escalation_resolve(
                    escalation=escalation, actor=manager, summary="Done.", now=at
                )

    def queries(user) -> tuple[int, int]:
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(case_url(case), {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    add(2, 0)
    dc_2, manager_2 = queries(dc_a), queries(manager)
    add(10, 100)
    dc_12, manager_12 = queries(dc_a), queries(manager)

    assert dc_12[0] == dc_2[0]
    assert manager_12[0] == manager_2[0]
    assert dc_12[1] == 12


def test_detail_actions_follow_the_role_and_the_state(case, dc_a, ro_a, analyst, manager):
    # DOMAIN E-8, E-9
    escalation = escalate(case, dc_a)

    def actions(user) -> list[str]:
        response = client_for(user).get(url(escalation))
        assert response.status_code == 200
        return response.json()["actions"]

    assert actions(dc_a) == ["post-message"]
    assert actions(ro_a) == []
    assert actions(analyst) == []
    assert actions(manager) == ["accept", "reject", "post-message"]

    client_for(manager).post(url(escalation, "accept/"), {}, format="json")
    assert actions(manager) == ["resolve", "post-message"]
    assert actions(dc_a) == ["post-message"]

    client_for(manager).post(url(escalation, "resolve/"), {"summary": "Done."}, format="json")
    assert actions(manager) == []
    assert actions(dc_a) == []


def test_staff_reads_are_audited_and_customer_reads_are_not(case, dc_a, manager, requested):
    # DOMAIN T-5
    for path in (case_url(case), url(requested), url(requested, "messages/")):
        assert client_for(dc_a).get(path).status_code == 200
    assert not AuditLogEntry.objects.exists()

    for path in (case_url(case), url(requested), url(requested, "messages/")):
        assert client_for(manager).get(path).status_code == 200

    entries = AuditLogEntry.objects.order_by("pk")
    assert [(e.model, e.action, e.path) for e in entries] == [
        ("cases.case", "view", case_url(case)),
        ("escalations.escalation", "view", url(requested)),
        ("escalations.escalation", "view", url(requested, "messages/")),
    ]
    assert all(
        e.actor_id == manager.pk and e.organization_id == case.organization_id for e in entries
    )


# --- the escalation feed (E-9) -------------------------------------------------------------


def test_messages_round_trip_between_customer_and_owner(requested, dc_a, ro_a, manager):
    # DOMAIN E-9
    customer = client_for(dc_a).post(
        url(requested, "messages/"), {"body": "Any news?"}, format="json"
    )
    owner = token_client(manager).post(
        url(requested, "messages/"), {"body": "Looking at it now."}, format="json"
    )

    assert customer.status_code == 201, customer.json()
    assert owner.status_code == 201, owner.json()
    assert customer.json()["by_care"] is False
    assert customer.json()["author"] == dc_a.get_full_name()
    assert customer.json()["channel"] == "api"
    assert owner.json()["by_care"] is True
    for user in (dc_a, ro_a, manager):
        feed = client_for(user).get(url(requested, "messages/"))
        assert feed.status_code == 200
        assert [m["body"] for m in feed.json()["results"]] == ["Any news?", "Looking at it now."]
        assert [m["id"] for m in feed.json()["results"]] == [
            customer.json()["id"],
            owner.json()["id"],
        ]
    assert reload(requested).last_message_at is not None


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": 3}, {"body": ["x"]}])
def test_a_message_needs_a_body(requested, dc_a, payload):
    response = client_for(dc_a).post(url(requested, "messages/"), payload, format="json")

    assert response.status_code == 400
    assert "body" in response.json()
    with scopes_disabled():
        assert not EscalationMessage.unscoped.exists()


@pytest.mark.parametrize("who", ["ro_a", "analyst"])
def test_read_only_users_and_analysts_cannot_write_in_the_feed(requested, ro_a, analyst, who):
    # DOMAIN T-4, E-9: between the customer and the escalation owner
    user = ro_a if who == "ro_a" else analyst

    response = client_for(user).post(url(requested, "messages/"), {"body": "Hi"}, format="json")

    assert response.status_code == 403
    with scopes_disabled():
        assert not EscalationMessage.unscoped.exists()


def test_the_feed_of_a_decided_escalation_is_closed(requested, dc_a, manager):
    # DOMAIN E-9
    client_for(manager).post(url(requested, "reject/"), {"explanation": "No."}, format="json")

    response = client_for(dc_a).post(url(requested, "messages/"), {"body": "Why?"}, format="json")

    assert response.status_code == 409
    assert "feed is closed" in response.json()["detail"]


def test_feed_runs_the_same_queries_at_2_and_12_messages(requested, dc_a, manager):
    def add(count: int) -> None:
        with scopes_disabled():
            for i in range(count):
                services.escalation_post_message(
                    escalation=requested,
                    actor=manager if i % 2 else dc_a,
                    body=f"Message {i}",
                    now=timezone.now(),
                )

    def queries() -> int:
        client = client_for(dc_a)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(requested, "messages/"), {"page_size": 100})
        assert response.status_code == 200
        return len(captured)

    add(2)
    at_2 = queries()
    add(10)
    assert queries() == at_2


# --- a care manager's decisions (E-8) ------------------------------------------------------


def test_manager_accepts_with_importance_urgency_and_an_owner_by_email(
    requested, dc_a, manager, other_manager
):
    # DOMAIN E-8
    response = client_for(manager).post(
        url(requested, "accept/"),
        {"importance": "high", "urgency": "low", "owner": other_manager.email},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "accepted"
    assert (body["importance"], body["urgency"]) == ("high", "low")
    assert body["owner"] == other_manager.get_full_name()
    assert body["decided_at"] is not None
    escalation = reload(requested)
    assert escalation.decided_by_id == manager.pk
    assert escalation.owner_id == other_manager.pk
    assert escalation.priority_score == 3
    # The customer sees the decision.
    seen = client_for(dc_a).get(url(requested)).json()
    assert seen["state"] == "accepted" and seen["owner"] == other_manager.get_full_name()


def test_accept_defaults_to_medium_and_the_accepting_manager_as_owner(requested, manager):
    # DOMAIN E-8
    response = client_for(manager).post(url(requested, "accept/"), {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["importance"], body["urgency"]) == ("medium", "medium")
    assert body["owner"] == manager.get_full_name()


def test_accept_takes_the_owner_by_user_id(requested, manager, other_manager):
    response = client_for(manager).post(
        url(requested, "accept/"), {"owner": other_manager.pk}, format="json"
    )

    assert response.status_code == 200
    assert reload(requested).owner_id == other_manager.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"importance": "urgent"}, "importance"),
        ({"urgency": 3}, "urgency"),
        ({"owner": "nobody@care.example"}, "owner"),
        ({"owner": None}, "owner"),
        ({"owner": ["x"]}, "owner"),
        ({"owner": "analyst@care.example"}, "owner"),  # an analyst is no escalation owner
    ],
)
def test_accept_refuses_bad_values_and_changes_nothing(requested, manager, analyst, payload, field):
    before = snapshot(requested.case)

    response = client_for(manager).post(url(requested, "accept/"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(requested.case) == before


def test_accepting_twice_is_409(requested, manager):
    client = client_for(manager)
    assert client.post(url(requested, "accept/"), {}, format="json").status_code == 200

    response = client.post(url(requested, "accept/"), {}, format="json")

    assert response.status_code == 409
    assert "cannot be accepted" in response.json()["detail"]


@pytest.mark.parametrize("payload", [{}, {"explanation": ""}, {"explanation": 7}])
def test_reject_requires_an_explanation(requested, manager, payload):
    # DOMAIN E-8
    before = snapshot(requested.case)

    response = client_for(manager).post(url(requested, "reject/"), payload, format="json")

    assert response.status_code == 400
    assert "explanation" in response.json()
    assert snapshot(requested.case) == before


def test_manager_rejects_with_an_explanation_the_customer_sees(requested, dc_a, manager):
    # DOMAIN E-8
    response = client_for(manager).post(
        url(requested, "reject/"),
        {"explanation": "The case is progressing within its targets."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "rejected"
    seen = client_for(dc_a).get(url(requested)).json()
    assert seen["state"] == "rejected"
    assert seen["explanation"] == "The case is progressing within its targets."
    assert seen["decided_at"] is not None


@pytest.mark.parametrize("payload", [{}, {"summary": "  "}, {"summary": None}])
def test_resolve_requires_a_summary(requested, manager, payload):
    # DOMAIN E-8
    client_for(manager).post(url(requested, "accept/"), {}, format="json")
    before = snapshot(requested.case)

    response = client_for(manager).post(url(requested, "resolve/"), payload, format="json")

    assert response.status_code == 400
    assert "summary" in response.json()
    assert snapshot(requested.case) == before


def test_manager_resolves_an_accepted_escalation_with_a_summary(requested, dc_a, manager):
    # DOMAIN E-8
    client_for(manager).post(url(requested, "accept/"), {}, format="json")

    response = client_for(manager).post(
        url(requested, "resolve/"), {"summary": "A senior engineer took over."}, format="json"
    )

    assert response.status_code == 200, response.json()
    seen = client_for(dc_a).get(url(requested)).json()
    assert seen["state"] == "resolved"
    assert seen["summary"] == "A senior engineer took over."
    assert seen["resolved_at"] is not None


def test_resolving_a_requested_escalation_is_409(requested, manager):
    response = client_for(manager).post(
        url(requested, "resolve/"), {"summary": "Done."}, format="json"
    )

    assert response.status_code == 409
    assert "accept it first" in response.json()["detail"]
    assert reload(requested).state == "requested"


@pytest.mark.parametrize("decision", ["accept", "reject", "resolve"])
@pytest.mark.parametrize("who", ["dc_a", "ro_a", "analyst"])
def test_only_care_managers_decide(requested, dc_a, ro_a, analyst, decision, who):
    # DOMAIN E-8: those who can see the escalation but may not decide get 403, as customers
    # calling a care-only case action do
    user = {"dc_a": dc_a, "ro_a": ro_a, "analyst": analyst}[who]
    before = snapshot(requested.case)

    response = client_for(user).post(url(requested, f"{decision}/"), {}, format="json")

    assert response.status_code == 403
    assert "Customer Care manager" in response.json()["detail"]
    assert snapshot(requested.case) == before


def test_decisions_are_recorded_in_the_case_history_with_the_api_channel(requested, manager):
    # DOMAIN C-16
    client_for(manager).post(url(requested, "accept/"), {}, format="json")
    client_for(manager).post(url(requested, "resolve/"), {"summary": "Done."}, format="json")

    with scopes_disabled():
        events = list(
            CaseEvent.unscoped.filter(case_id=requested.case_id, kind="escalation").order_by("pk")
        )
    assert [(e.after["state"], e.channel) for e in events] == [
        ("requested", "portal"),
        ("accepted", "api"),
        ("resolved", "api"),
    ]


def test_a_second_designated_contact_writes_in_the_feed(org_a, requested):
    other_dc = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")

    response = client_for(other_dc).post(
        url(requested, "messages/"), {"body": "Me too."}, format="json"
    )

    assert response.status_code == 201


# --- schema --------------------------------------------------------------------------------


def test_the_schema_documents_the_escalation_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    expected = {
        "/api/v1/cases/{number}/escalations/": {"get", "post"},
        "/api/v1/escalations/{id}/": {"get"},
        "/api/v1/escalations/{id}/messages/": {"get", "post"},
        "/api/v1/escalations/{id}/accept/": {"post"},
        "/api/v1/escalations/{id}/reject/": {"post"},
        "/api/v1/escalations/{id}/resolve/": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
    create = paths["/api/v1/cases/{number}/escalations/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(create["responses"])
    for decision in ("accept", "reject", "resolve"):
        assert {"200", "400", "403", "404", "409"} <= set(
            paths[f"/api/v1/escalations/{{id}}/{decision}/"]["post"]["responses"]
        )
    components = schema["components"]["schemas"]
    assert {"state", "reason", "actions", "owner", "explanation", "summary"} <= set(
        components["EscalationDetail"]["properties"]
    )
    assert "explanation" in components["RejectRequest"]["required"]
    assert "summary" in components["ResolveRequest"]["required"]
