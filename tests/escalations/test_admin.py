"""The care workspace for escalations (E-8, E-9): the managers' queues, the review page
whose decisions go through the services and only for care managers, the escalation feed,
and the escalations on the case page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AccessLevel
from cases.models import Case, CaseEvent
from core.audit.models import AuditLogEntry
from core.outbox.models import OutboxEmail
from core.tenancy import ScopeError, scopes_disabled, tenant_scope
from escalations import services
from escalations.admin import EscalationAdmin
from escalations.models import Escalation, EscalationMessage, State
from tests.cases import acting_as, make_case
from tests.factories import DeploymentFactory, OrganizationFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:escalations_escalation_changelist")
INDEX = reverse("admin:index")


def change_url(escalation: Escalation) -> str:
    return reverse("admin:escalations_escalation_change", args=[escalation.pk])


def act_url(escalation: Escalation, action: str) -> str:
    return reverse("admin:escalations_escalation_act", args=[escalation.pk, action])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def reload(escalation: Escalation) -> Escalation:
    with scopes_disabled():
        return Escalation.unscoped.get(pk=escalation.pk)


def snapshot(escalation: Escalation) -> dict:
    """Everything a refused decision must leave as it was."""
    with scopes_disabled():
        return {
            "escalation": Escalation.unscoped.filter(pk=escalation.pk).values().get(),
            "events": CaseEvent.unscoped.filter(case_id=escalation.case_id).count(),
            "messages": EscalationMessage.unscoped.filter(escalation=escalation).count(),
            "emails": OutboxEmail.unscoped.count(),
        }


def escalate(case: Case, customer, *, now=None, reason="dissatisfied_with_handling"):
    """A designated contact's request, through the service as the portal makes it."""
    with acting_as(customer):
        return services.escalation_request(
            case=case,
            actor=customer,
            reason=reason,
            details="Nobody has looked at this for a week; our agents cannot work.",
            now=now or timezone.now(),
        )


def accept(escalation, manager, *, importance="medium", urgency="medium", owner=None):
    with scopes_disabled():
        return services.escalation_accept(
            escalation=escalation,
            actor=manager,
            importance=importance,
            urgency=urgency,
            owner=owner,
            now=timezone.now(),
        )


def _staff(email: str, role: str):
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def manager_2(db):
    return _staff("manager2@care.example", roles.CARE_MANAGER)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@care.example", is_staff=True, is_superuser=True)


@pytest.fixture
def case_a(org_a, dc_a):
    return make_case(org_a, dc_a, subject="Agents cannot log in", priority="high")


@pytest.fixture
def requested(case_a, dc_a, manager):
    # ``manager`` exists first, so the care managers are told of the request.
    return escalate(case_a, dc_a)


@pytest.fixture
def accepted(requested, manager):
    return accept(requested, manager)


# --- who reaches which page (T-5) --------------------------------------------------------


EXPECTED = {
    "analyst": (200, 200),
    "manager": (200, 200),
    "superuser": (200, 200),
    "product_manager": (403, 403),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_reaches_exactly_its_escalation_pages(request, client, requested, role):
    # DOMAIN T-5, E-8: care staff see escalations; product managers do not.
    client.force_login(request.getfixturevalue(role))

    codes = (client.get(CHANGELIST).status_code, client.get(change_url(requested)).status_code)

    assert codes == EXPECTED[role]


def test_customer_is_sent_to_the_admin_login(client, dc_a, requested):
    # DOMAIN T-6
    client.force_login(dc_a)

    response = client.get(change_url(requested))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_nobody_adds_deletes_or_edits_escalations_through_the_model_form(
    client, superuser, requested
):
    # DOMAIN E-7: customers request escalations; the form never saves one.
    client.force_login(superuser)
    before = snapshot(requested)

    add = client.get(reverse("admin:escalations_escalation_add"))
    delete = client.post(
        reverse("admin:escalations_escalation_delete", args=[requested.pk]), {"post": "yes"}
    )
    edit = client.post(change_url(requested), {"state": "resolved", "summary": "x"})

    assert (add.status_code, delete.status_code, edit.status_code) == (403, 403, 403)
    assert snapshot(requested) == before


# --- the queues ---------------------------------------------------------------------------


@pytest.fixture
def queue_world(org_a, dc_a, manager, manager_2):
    """Escalations in every state, requested at known times, on cases of their own."""
    now = timezone.now()

    def requested_at(hours_ago: int, **case_fields):
        case = make_case(org_a, dc_a, priority="high", **case_fields)
        return escalate(case, dc_a, now=now - timedelta(hours=hours_ago))

    world = {
        "old_request": requested_at(50),
        "new_request": requested_at(2),
        "low_score": accept(requested_at(40), manager, importance="low", urgency="low"),
        "top_score_new": accept(requested_at(10), manager_2, importance="high", urgency="high"),
        "top_score_old": accept(requested_at(30), manager, importance="high", urgency="high"),
        "mid_score": accept(requested_at(20), manager, importance="high", urgency="medium"),
    }
    rejected = requested_at(60)
    with scopes_disabled():
        world["rejected"] = services.escalation_reject(
            escalation=rejected, actor=manager, explanation="Already on track.", now=now
        )
        resolved = accept(requested_at(70), manager)
        world["resolved"] = services.escalation_resolve(
            escalation=resolved, actor=manager, summary="Fixed.", now=now
        )
    return world


def _listed(client, query: str) -> list[int]:
    response = client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    return [e.pk for e in response.context["cl"].result_list]


def test_default_list_shows_the_active_escalations_oldest_first(client, manager, queue_world):
    # DOMAIN E-2, E-8: what still needs care management.
    w = queue_world
    client.force_login(manager)

    listed = _listed(client, "")

    assert listed == [
        w[k].pk
        for k in (
            "old_request",
            "low_score",
            "top_score_old",
            "mid_score",
            "top_score_new",
            "new_request",
        )
    ]


def test_requested_queue_is_the_review_queue_oldest_first(client, manager, queue_world):
    # DOMAIN E-8
    client.force_login(manager)

    assert _listed(client, "queue=requested") == [
        queue_world["old_request"].pk,
        queue_world["new_request"].pk,
    ]


def test_accepted_queue_is_ordered_by_importance_and_urgency_then_age(client, manager, queue_world):
    # DOMAIN E-8: "prioritised by importance and urgency".
    w = queue_world
    client.force_login(manager)

    assert _listed(client, "queue=accepted") == [
        w["top_score_old"].pk,
        w["top_score_new"].pk,
        w["mid_score"].pk,
        w["low_score"].pk,
    ]


def test_mine_lists_the_active_escalations_i_own(client, manager, manager_2, queue_world):
    w = queue_world
    client.force_login(manager_2)
    assert _listed(client, "queue=mine") == [w["top_score_new"].pk]

    client.force_login(manager)
    assert _listed(client, "queue=mine") == [
        w["top_score_old"].pk,
        w["mid_score"].pk,
        w["low_score"].pk,
    ]


def test_closed_queue_lists_rejected_and_resolved(client, manager, queue_world):
    client.force_login(manager)

    assert set(_listed(client, "queue=closed")) == {
        queue_world["rejected"].pk,
        queue_world["resolved"].pk,
    }
    assert len(_listed(client, "queue=all")) == len(queue_world)


def test_a_column_header_sorts_a_queue(client, manager, queue_world):
    w = queue_world
    client.force_login(manager)
    requested_at = EscalationAdmin.list_display.index("requested_at")

    listed = _listed(client, f"queue=accepted&o=-{requested_at}")

    assert listed == [w[k].pk for k in ("top_score_new", "mid_score", "top_score_old", "low_score")]


def test_unknown_queue_is_reported_not_ignored(client, manager, queue_world):
    client.force_login(manager)

    response = client.get(f"{CHANGELIST}?queue=everything")

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_search_by_case_number(client, manager, queue_world):
    client.force_login(manager)
    escalation = queue_world["mid_score"]

    assert _listed(client, f"queue=all&q={escalation.case.display_number}") == [escalation.pk]


def test_list_columns_link_the_case_and_the_review_page(client, manager, accepted):
    client.force_login(manager)

    page = client.get(CHANGELIST).content.decode()

    case_link = reverse("admin:cases_case_change", args=[accepted.case_id])
    assert f'<a href="{case_link}">{accepted.case.display_number}</a>' in page
    assert change_url(accepted) in page
    for text in ("Org A", "Dissatisfied with the handling", "Accepted", "Medium"):
        assert text in page
    assert manager.get_full_name() in page


def _world_of(size: int, manager) -> None:
    """``size`` escalations, each of its own organization, case, customer and owner: any
    per-row query would show as a query count that grows with the rows."""
    start = Escalation.unscoped.count()
    managers = Group.objects.get(name=roles.CARE_MANAGER)
    now = timezone.now()
    for i in range(start, size):
        with scopes_disabled():
            org = OrganizationFactory()
            DeploymentFactory(organization=org)
        customer = member_of(org, AccessLevel.DESIGNATED_CONTACT, f"dc{i}@list.example")
        owner = UserFactory(is_staff=True)
        owner.groups.add(managers)
        case = make_case(org, customer, priority="high")
        with scopes_disabled():
            Escalation.objects.create(
                organization=org,
                case=case,
                requester=customer,
                reason="slow_progress",
                details="Slow.",
                state=[State.REQUESTED, State.ACCEPTED][i % 2],
                owner=owner if i % 2 else None,
                importance="high" if i % 2 else "",
                urgency="low" if i % 2 else "",
                priority_score=3 if i % 2 else 0,
                requested_at=now - timedelta(hours=i),
                last_message_at=now if i % 3 else None,
            )


@pytest.mark.parametrize("query", ["", "queue=requested", "queue=accepted", "queue=all"])
def test_changelist_has_no_per_row_queries(client, manager, query, django_assert_max_num_queries):
    # list_select_related: the case, its organization and the owner come with the rows.
    client.force_login(manager)
    url = f"{CHANGELIST}?{query}"
    _world_of(5, manager)
    client.get(url)  # warm-up: the content types, the session
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert len(response.context["cl"].result_list) >= 2
    # Session, user, role, permissions, count, rows, audit: nothing per row.
    assert len(small.captured_queries) <= 10

    _world_of(50, manager)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)

    assert len(response.context["cl"].result_list) >= 25


# --- the review page ----------------------------------------------------------------------


def test_review_page_shows_the_customer_the_case_and_the_links(
    client, manager, requested, case_a, dc_a
):
    # DOMAIN E-8
    client.force_login(manager)

    response = client.get(change_url(requested))

    page = response.content.decode()
    assert response.context["title"] == f"Escalation of case {case_a.display_number}"
    assert '<dd data-testid="escalation-state">Requested</dd>' in page
    assert dc_a.email in page and "Org A" in page
    assert "Agents cannot log in" in page
    assert '<dd data-testid="escalation-case-priority">High</dd>' in page
    assert "Nobody has looked at this for a week" in page
    assert reverse("admin:cases_case_change", args=[case_a.pk]) in page
    assert f"/cases/{case_a.display_number}/" in page
    assert f"/cases/{case_a.display_number}/escalations/{requested.pk}/" in page
    # A review page, not a model form.
    assert 'name="_save"' not in page
    assert 'name="state"' not in page


def test_manager_is_offered_the_decisions_of_each_state(client, manager, requested):
    # DOMAIN E-8
    client.force_login(manager)

    def offered():
        page = client.get(change_url(requested)).content.decode()
        return {
            a
            for a in ("accept", "reject", "resolve", "reassign", "post-message")
            if f'data-action="{a}"' in page
        }

    assert offered() == {"accept", "reject", "post-message"}
    accept(requested, manager)
    assert offered() == {"resolve", "reassign", "post-message"}
    with scopes_disabled():
        services.escalation_resolve(
            escalation=requested, actor=manager, summary="Done.", now=timezone.now()
        )
    assert offered() == set()


def test_accept_form_defaults_to_medium_and_to_me(client, manager, manager_2, requested):
    client.force_login(manager)

    response = client.get(change_url(requested))

    form = response.context["decide_panel"][0]["form"]
    assert response.context["decide_panel"][0]["action"].name == "accept"
    assert form.initial == {"importance": "medium", "urgency": "medium", "owner": manager.pk}
    assert set(form.fields["owner"].queryset) == {manager, manager_2}


def test_accept_with_importance_urgency_and_owner(client, manager, manager_2, requested, dc_a):
    # DOMAIN E-8: accepted, then prioritised by importance and urgency.
    client.force_login(manager)
    emails_before = OutboxEmail.unscoped.count()

    response = client.post(
        act_url(requested, "accept"),
        {"importance": "high", "urgency": "low", "owner": manager_2.pk},
    )

    assert response.status_code == 302
    escalation = reload(requested)
    assert escalation.state == State.ACCEPTED
    assert (escalation.importance, escalation.urgency) == ("high", "low")
    assert escalation.priority_score == 3
    assert escalation.owner_id == manager_2.pk
    assert escalation.decided_by_id == manager.pk
    with scopes_disabled():
        event = CaseEvent.objects.filter(case_id=requested.case_id).latest("id")
        email = OutboxEmail.objects.filter(subject__contains="Escalation accepted").latest("id")
        to_owner = OutboxEmail.objects.latest("id")
    assert (event.kind, event.channel, event.after["state"]) == ("escalation", "admin", "accepted")
    assert OutboxEmail.unscoped.count() > emails_before
    assert dc_a.email in email.to
    assert to_owner.to == [manager_2.email]  # named owner by another manager
    assert "Escalation accepted." in messages_of(client.get(change_url(requested)))


def test_accept_refuses_an_owner_who_is_not_a_care_manager(client, manager, analyst, requested):
    # DOMAIN E-8: escalation owners are care managers.
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(
        act_url(requested, "accept"), {"importance": "high", "urgency": "high", "owner": analyst.pk}
    )

    assert response.status_code == 400
    assert snapshot(requested) == before
    assert any("must be a Customer Care manager" in m for m in messages_of(response))
    form = response.context["decide_panel"][0]["form"]
    assert form.errors["owner"]


def test_accept_refuses_an_unknown_level(client, manager, requested):
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(
        act_url(requested, "accept"),
        {"importance": "extreme", "urgency": "high", "owner": manager.pk},
    )

    assert response.status_code == 400
    assert snapshot(requested) == before


def test_reject_requires_an_explanation(client, manager, requested):
    # DOMAIN E-8: "Rejected with a required explanation".
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(act_url(requested, "reject"), {"explanation": "   "})

    assert response.status_code == 400
    assert snapshot(requested) == before
    assert any("Write the explanation" in m for m in messages_of(response))
    page = response.content.decode()
    assert '<details class="case-action" data-action="reject" open>' in page
    assert "Shown to the customer" in page


def test_reject_with_an_explanation_tells_the_customer(client, manager, requested, dc_a):
    # DOMAIN E-8: the explanation is shown to the customer.
    client.force_login(manager)

    response = client.post(
        act_url(requested, "reject"), {"explanation": "The fix ships on Friday as agreed."}
    )

    assert response.status_code == 302
    escalation = reload(requested)
    assert escalation.state == State.REJECTED
    assert escalation.explanation == "The fix ships on Friday as agreed."
    with scopes_disabled():
        email = OutboxEmail.objects.latest("id")
    assert dc_a.email in email.to
    assert "The fix ships on Friday as agreed." in email.body_text
    page = client.get(change_url(requested)).content.decode()
    assert 'data-testid="escalation-explanation"' in page


def test_resolve_requires_a_summary(client, manager, accepted):
    # DOMAIN E-8: "Resolved with a summary".
    client.force_login(manager)
    before = snapshot(accepted)

    response = client.post(act_url(accepted, "resolve"), {"summary": ""})

    assert response.status_code == 400
    assert snapshot(accepted) == before

    response = client.post(act_url(accepted, "resolve"), {"summary": "Patched; RCA attached."})

    assert response.status_code == 302
    escalation = reload(accepted)
    assert escalation.state == State.RESOLVED
    assert escalation.summary == "Patched; RCA attached."
    assert escalation.resolved_at is not None


def test_resolve_is_refused_for_a_requested_escalation(client, manager, requested):
    # DOMAIN E-8: only an accepted escalation is resolved.
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(act_url(requested, "resolve"), {"summary": "Nothing to do."})

    assert response.status_code == 409
    assert snapshot(requested) == before
    assert any("accept it first" in m for m in messages_of(response))


def test_a_second_decision_is_refused(client, manager, accepted):
    client.force_login(manager)
    before = snapshot(accepted)

    response = client.post(act_url(accepted, "reject"), {"explanation": "Too late."})

    assert response.status_code == 409
    assert snapshot(accepted) == before


def test_reassign_hands_an_accepted_escalation_to_another_manager(
    client, manager, manager_2, analyst, accepted
):
    client.force_login(manager)
    before = snapshot(accepted)

    refused = client.post(act_url(accepted, "reassign"), {"owner": analyst.pk})
    assert refused.status_code == 400
    assert snapshot(accepted) == before

    response = client.post(act_url(accepted, "reassign"), {"owner": manager_2.pk})

    assert response.status_code == 302
    assert reload(accepted).owner_id == manager_2.pk
    with scopes_disabled():
        event = CaseEvent.objects.filter(case_id=accepted.case_id).latest("id")
    assert event.after == {"escalation": accepted.pk, "owner": manager_2.pk}
    assert event.internal


def test_unknown_action_is_not_found_and_get_changes_nothing(client, manager, requested):
    client.force_login(manager)
    before = snapshot(requested)

    assert client.post(act_url(requested, "delete"), {}).status_code == 404
    assert client.get(act_url(requested, "accept")).status_code == 302
    assert snapshot(requested) == before


# --- analysts read, managers decide -------------------------------------------------------


def test_analyst_sees_the_review_page_read_only(client, analyst, requested):
    # DOMAIN E-8, T-5: analysts follow escalations; managers decide.
    client.force_login(analyst)

    response = client.get(change_url(requested))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nobody has looked at this for a week" in page
    assert "data-action=" not in page
    assert '<form method="post"' not in page.split('id="decide-heading"')[1]
    assert "Customer Care managers decide" in page


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("accept", {"importance": "high", "urgency": "high"}),
        ("reject", {"explanation": "No."}),
        ("post-message", {"body": "Hello from an analyst."}),
    ],
)
def test_analyst_posts_are_refused_and_change_nothing(client, analyst, requested, action, data):
    # DOMAIN E-8: a forged POST by an analyst stops before any service.
    client.force_login(analyst)
    before = snapshot(requested)

    response = client.post(act_url(requested, action), {"owner": analyst.pk, **data})

    assert response.status_code == 403
    assert snapshot(requested) == before


def test_analyst_cannot_resolve_or_reassign(client, analyst, manager, accepted):
    client.force_login(analyst)
    before = snapshot(accepted)

    assert client.post(act_url(accepted, "resolve"), {"summary": "x"}).status_code == 403
    assert client.post(act_url(accepted, "reassign"), {"owner": manager.pk}).status_code == 403
    assert snapshot(accepted) == before


# --- the escalation feed (E-9) ------------------------------------------------------------


def test_composer_posts_to_the_feed_and_the_customer_is_emailed(client, manager, requested, dc_a):
    # DOMAIN E-9, N-1
    with acting_as(dc_a):
        services.escalation_post_message(
            escalation=requested, actor=dc_a, body="Any news?", now=timezone.now()
        )
    client.force_login(manager)
    emails_before = OutboxEmail.unscoped.count()

    response = client.post(act_url(requested, "post-message"), {"body": "Looking at it now."})

    assert response.status_code == 302
    with scopes_disabled():
        message = EscalationMessage.objects.filter(escalation=requested).latest("id")
        email = OutboxEmail.objects.latest("id")
    assert (message.body, message.by_care, message.channel) == ("Looking at it now.", True, "admin")
    assert message.author_id == manager.pk
    assert reload(requested).last_message_at == message.created_at
    assert OutboxEmail.unscoped.count() == emails_before + 1
    assert dc_a.email in email.to
    assert "Looking at it now." in email.body_text
    # The feed, oldest first; not the case feed.
    page = client.get(change_url(requested)).content.decode()
    feed = page[page.index('data-testid="escalation-feed"') :]
    assert feed.index("Any news?") < feed.index("Looking at it now.")
    with scopes_disabled():
        assert not requested.case.updates.exists()


def test_composer_refuses_an_empty_message(client, manager, requested):
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(act_url(requested, "post-message"), {"body": "  "})

    assert response.status_code == 400
    assert snapshot(requested) == before
    assert any("Write a message" in m for m in messages_of(response))


def test_feed_of_a_closed_escalation_is_closed(client, manager, requested):
    with scopes_disabled():
        services.escalation_reject(
            escalation=requested, actor=manager, explanation="On track.", now=timezone.now()
        )
    client.force_login(manager)
    before = snapshot(requested)

    response = client.post(act_url(requested, "post-message"), {"body": "One more thing."})

    assert response.status_code == 409
    assert snapshot(requested) == before


# --- the case page and the case list ------------------------------------------------------


def test_case_page_lists_the_case_escalations_with_links(client, analyst, manager, requested):
    # DOMAIN E-8: the case shows its escalations, read-only.
    with scopes_disabled():
        services.escalation_reject(
            escalation=requested, actor=manager, explanation="On track.", now=timezone.now()
        )
    second = escalate(requested.case, requested.requester)
    client.force_login(analyst)

    page = client.get(reverse("admin:cases_case_change", args=[requested.case_id])).content
    page = page.decode()

    assert "Escalations (E-8)" in page
    assert "Escalation 1 of case" not in page
    assert f'<a href="{change_url(second)}">Review #{second.pk}</a>' in page
    assert f'<a href="{change_url(requested)}">Review #{requested.pk}</a>' in page
    assert page.index(f"Review #{second.pk}") < page.index(f"Review #{requested.pk}")
    assert "Rejected" in page
    assert 'name="escalations-0-id"' not in page  # read-only, no formset inputs


def test_case_list_marks_and_filters_escalated_cases(client, analyst, requested, org_a, dc_a):
    # DOMAIN E-7: the case shows when it was escalated; the stored time, no join.
    other = make_case(org_a, dc_a, subject="Never escalated")
    client.force_login(analyst)
    changelist = reverse("admin:cases_case_changelist")

    page = client.get(changelist).content.decode()
    escalated = client.get(f"{changelist}?escalated_at__isnull=False")

    assert page.count('data-testid="case-escalated"') == 1
    assert [c.pk for c in escalated.context["cl"].result_list] == [requested.case_id]
    assert other.pk not in [c.pk for c in escalated.context["cl"].result_list]


# --- the front page -----------------------------------------------------------------------


def test_managers_see_how_many_escalations_wait_on_the_index(client, manager, queue_world):
    # DOMAIN E-8
    client.force_login(manager)

    page = client.get(INDEX).content.decode()

    assert "Escalations to review: 2" in page
    assert f"{CHANGELIST}?queue=requested" in page


def test_index_tile_costs_one_count(client, manager, queue_world):
    client.force_login(manager)
    client.get(INDEX)

    with CaptureQueriesContext(connection) as ctx:
        client.get(INDEX)

    escalation_queries = [q["sql"] for q in ctx.captured_queries if "escalation" in q["sql"]]
    assert len(escalation_queries) == 1
    assert "COUNT" in escalation_queries[0].upper()


def test_analysts_have_no_escalation_tile(client, analyst, queue_world):
    client.force_login(analyst)

    page = client.get(INDEX).content.decode()

    assert 'data-testid="escalations-work"' not in page


# --- audit and tenant scoping -------------------------------------------------------------


def test_escalation_pages_are_audited(client, analyst, requested):
    # DOMAIN T-5
    client.force_login(analyst)

    client.get(f"{CHANGELIST}?queue=requested")
    client.get(change_url(requested))

    rows = list(
        AuditLogEntry.objects.order_by("id").values_list(
            "action", "model", "object_id", "organization_id", "path"
        )
    )
    assert rows == [
        ("list", "escalations.escalation", "", None, f"{CHANGELIST}?queue=requested"),
        (
            "view",
            "escalations.escalation",
            str(requested.pk),
            requested.organization_id,
            change_url(requested),
        ),
    ]


def test_admin_views_disable_scoping_themselves(manager, requested):
    # Outside any scope a tenant query raises, inside an empty one it shows nothing; the
    # admin views disable scoping themselves.
    def call(url: str):
        request = RequestFactory().get(url)
        request.user = manager
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        match = resolve(url)
        return match.func(request, *match.args, **match.kwargs)

    with pytest.raises(ScopeError):
        Escalation.objects.count()
    assert call(CHANGELIST).status_code == 200
    with tenant_scope(()):
        assert Escalation.objects.count() == 0
        listed = call(CHANGELIST)
        review = call(change_url(requested))

    assert [e.pk for e in listed.context_data["cl"].result_list] == [requested.pk]
    assert review.status_code == 200
