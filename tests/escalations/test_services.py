"""The escalation write path (E-7 … E-9, T-4 … T-6): the request, the owner's decisions and
the escalation feed. Each service checks the actor, writes the case history in the same
transaction, and a refused call changes nothing."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from cases.models import Case, CaseEvent, Channel
from cases.selectors import case_feed, case_history
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from escalations import selectors, services
from escalations.models import Escalation, EscalationMessage
from tests.cases import (  # noqa: F401  (migrated_data_restored is a fixture)
    NOW,
    acting_as,
    make_case,
    migrated_data_restored,
    postgres_only,
    reload,
    snapshot,
)
from tests.factories import UserFactory
from tests.helpers.concurrency import race

pytestmark = pytest.mark.django_db

DETAILS = "Three days without progress while half of our agents cannot take calls."
LATER = NOW + timedelta(hours=1)


# --- helpers -----------------------------------------------------------------------------


def escalate(case, actor, *, reason="slow_progress", details=DETAILS, now=NOW) -> Escalation:
    with acting_as(actor):
        return services.escalation_request(
            case=case, actor=actor, reason=reason, details=details, channel=Channel.PORTAL, now=now
        )


def accept(escalation, actor, now=LATER, **kwargs) -> Escalation:
    with acting_as(actor):
        return services.escalation_accept(escalation=escalation, actor=actor, now=now, **kwargs)


def reject(escalation, actor, explanation, now=LATER) -> Escalation:
    with acting_as(actor):
        return services.escalation_reject(
            escalation=escalation, actor=actor, explanation=explanation, now=now
        )


def resolve(escalation, actor, summary, now=LATER + timedelta(hours=1)) -> Escalation:
    with acting_as(actor):
        return services.escalation_resolve(
            escalation=escalation, actor=actor, summary=summary, now=now
        )


def post(escalation, actor, body, now=LATER) -> EscalationMessage:
    with acting_as(actor):
        return services.escalation_post_message(
            escalation=escalation, actor=actor, body=body, channel=Channel.PORTAL, now=now
        )


def fresh(escalation: Escalation) -> Escalation:
    with scopes_disabled():
        return Escalation.unscoped.get(pk=escalation.pk)


def state(case) -> dict:
    """Everything a refused call must leave as it was: the case, its history and feed, the
    escalations and their feeds, the outbox."""
    with scopes_disabled():
        return {
            **snapshot(case),
            "escalations": list(Escalation.unscoped.order_by("pk").values()),
            "messages": list(EscalationMessage.unscoped.values_list("pk", flat=True)),
            "emails": list(OutboxEmail.unscoped.values_list("pk", flat=True)),
        }


def escalation_events(case) -> list[CaseEvent]:
    with scopes_disabled():
        return list(
            CaseEvent.unscoped.filter(case_id=case.pk, kind="escalation").order_by(
                "created_at", "id"
            )
        )


@pytest.fixture
def case(org_a, dc_a) -> Case:
    return make_case(org_a, dc_a, "investigation", priority="high")


@pytest.fixture
def requested(case, dc_a) -> Escalation:
    return escalate(case, dc_a)


@pytest.fixture
def accepted(requested, manager) -> Escalation:
    return accept(requested, manager)


@pytest.fixture
def second_manager(db):
    user = UserFactory(email="manager2@care.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.CARE_MANAGER))
    return user


# --- E-7 the request ------------------------------------------------------------------------


@pytest.mark.parametrize("details", ["", "   ", "\n\t"])
def test_e7_details_are_required(case, dc_a, details):
    # DOMAIN E-7
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        escalate(case, dc_a, details=details)

    assert set(caught.value.errors) == {"details"}
    assert state(case) == before
    assert reload(case).escalated_at is None


def test_e7_a_reason_is_required(case, dc_a):
    # DOMAIN E-7
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        escalate(case, dc_a, reason="")

    assert set(caught.value.errors) == {"reason"}
    assert state(case) == before


def test_e7_overlong_details_are_refused(case, dc_a):
    # DOMAIN E-7
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        escalate(case, dc_a, details="x" * (services.DETAILS_MAX + 1))

    assert set(caught.value.errors) == {"details"}
    assert state(case) == before


def test_e7_request_records_the_escalation_the_timestamp_and_a_public_history_event(
    case, dc_a, analyst
):
    # DOMAIN E-7, C-16
    escalation = escalate(case, dc_a, reason=" Slow_Progress ", details=f"  {DETAILS}  ")

    escalation = fresh(escalation)
    assert (escalation.state, escalation.reason, escalation.details) == (
        "requested",
        "slow_progress",
        DETAILS,
    )
    assert (escalation.requester, escalation.channel, escalation.requested_at) == (
        dc_a,
        Channel.PORTAL,
        NOW,
    )
    assert escalation.owner is None and escalation.priority_score == 0
    assert escalation.organization_id == case.organization_id
    assert reload(case).escalated_at == NOW
    (event,) = escalation_events(case)
    assert (event.actor, event.channel, event.created_at, event.internal) == (
        dc_a,
        Channel.PORTAL,
        NOW,
        False,
    )
    assert event.before == {}
    assert event.after == {
        "escalation": escalation.pk,
        "state": "requested",
        "reason": "slow_progress",
    }
    # the customer sees it in the case history
    with acting_as(dc_a):
        assert event in case_history(user=dc_a, case=case)


def test_e7_the_timestamp_is_the_last_request(case, dc_a, manager):
    # DOMAIN E-7
    first = escalate(case, dc_a, now=NOW)
    reject(first, manager, "We are on it.", now=NOW + timedelta(hours=1))

    escalate(case, dc_a, now=NOW + timedelta(days=2))

    assert reload(case).escalated_at == NOW + timedelta(days=2)


# --- E-8 the owner's decision ----------------------------------------------------------------


def test_e8_accept_prioritises_and_makes_the_accepting_manager_the_owner(case, requested, manager):
    # DOMAIN E-8
    accepted = accept(requested, manager, importance="high", urgency="medium")

    accepted = fresh(accepted)
    assert accepted.state == "accepted"
    assert (accepted.importance, accepted.urgency, accepted.priority_score) == (
        "high",
        "medium",
        6,
    )
    assert (accepted.owner, accepted.decided_by, accepted.decided_at) == (manager, manager, LATER)
    assert accepted.resolved_at is None


def test_e8_accept_defaults_to_medium_importance_and_urgency(requested, manager):
    # DOMAIN E-8
    accepted = fresh(accept(requested, manager))

    assert (accepted.importance, accepted.urgency, accepted.priority_score) == (
        "medium",
        "medium",
        4,
    )


@pytest.mark.parametrize(
    ("importance", "urgency", "score"),
    [("high", "high", 9), ("low", "high", 3), ("high", "low", 3), ("low", "low", 1)],
)
def test_e8_priority_score_is_importance_times_urgency(
    requested, manager, importance, urgency, score
):
    # DOMAIN E-8
    accepted = accept(requested, manager, importance=importance, urgency=urgency)

    assert fresh(accepted).priority_score == score


def test_e8_accept_may_name_another_manager_as_owner(requested, manager, second_manager):
    # DOMAIN E-8
    accepted = fresh(accept(requested, manager, owner=second_manager))

    assert (accepted.owner, accepted.decided_by) == (second_manager, manager)


def test_e8_the_owner_must_be_a_care_manager(case, requested, manager, analyst, dc_a):
    # DOMAIN E-8
    before = state(case)

    for owner in (analyst, dc_a):
        with pytest.raises(InvalidInput) as caught:
            accept(requested, manager, owner=owner)
        assert set(caught.value.errors) == {"owner"}

    assert state(case) == before


@pytest.mark.parametrize("field", ["importance", "urgency"])
def test_e8_importance_and_urgency_are_high_medium_or_low(case, requested, manager, field):
    # DOMAIN E-8
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        accept(requested, manager, **{field: "urgent"})

    assert set(caught.value.errors) == {field}
    assert state(case) == before


# Which escalation each decision applies to: a requested one is accepted or rejected, an
# accepted one is resolved or handed to another owner.
DECISIONS = [("accept", "requested"), ("reject", "requested"), ("resolve", "accepted")]


@pytest.mark.parametrize(("decision", "target"), [*DECISIONS, ("reassign", "accepted")])
def test_e8_an_analyst_cannot_decide(request, case, analyst, manager, decision, target):
    # DOMAIN E-8, T-5 (escalation owners are care managers)
    escalation = request.getfixturevalue(target)
    before = state(case)

    with pytest.raises(NotAllowed), scopes_disabled():
        _decide(decision, escalation, analyst, manager)

    assert state(case) == before


@pytest.mark.parametrize(("decision", "target"), DECISIONS)
@pytest.mark.parametrize("customer", ["dc_a", "ro_a"])
def test_e8_a_customer_cannot_decide(request, case, manager, customer, decision, target):
    # DOMAIN E-8, T-4
    escalation = request.getfixturevalue(target)
    user = request.getfixturevalue(customer)
    before = state(case)

    with pytest.raises(NotAllowed), acting_as(user):
        _decide(decision, escalation, user, manager)

    assert state(case) == before


@pytest.mark.parametrize(("decision", "target"), DECISIONS)
def test_e8_another_tenants_user_cannot_find_the_escalation(
    request, case, dc_b, manager, decision, target
):
    # DOMAIN T-6
    escalation = request.getfixturevalue(target)
    before = state(case)

    with pytest.raises(NotFound), acting_as(dc_b):
        _decide(decision, escalation, dc_b, manager)

    assert state(case) == before


def _decide(decision: str, escalation: Escalation, actor, manager):
    if decision == "accept":
        return services.escalation_accept(escalation=escalation, actor=actor, now=LATER)
    if decision == "reject":
        return services.escalation_reject(
            escalation=escalation, actor=actor, explanation="No.", now=LATER
        )
    if decision == "resolve":
        return services.escalation_resolve(
            escalation=escalation, actor=actor, summary="Done.", now=LATER
        )
    return services.escalation_reassign(
        escalation=escalation, actor=actor, owner=manager, now=LATER
    )


@pytest.mark.parametrize("explanation", ["", "   "])
def test_e8_reject_requires_an_explanation(case, requested, manager, explanation):
    # DOMAIN E-8
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        reject(requested, manager, explanation)

    assert set(caught.value.errors) == {"explanation"}
    assert state(case) == before
    assert fresh(requested).state == "requested"


def test_e8_reject_records_the_explanation_for_the_customer(case, requested, manager):
    # DOMAIN E-8
    explanation = "The fix is scheduled for tonight's change window; escalating adds nothing."

    rejected = fresh(reject(requested, manager, f" {explanation} "))

    assert (rejected.state, rejected.explanation) == ("rejected", explanation)
    assert (rejected.decided_by, rejected.decided_at, rejected.owner) == (manager, LATER, manager)
    assert rejected.priority_score == 0
    assert not rejected.is_active


@pytest.mark.parametrize("summary", ["", "  "])
def test_e8_resolve_requires_a_summary(case, accepted, manager, summary):
    # DOMAIN E-8
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        resolve(accepted, manager, summary)

    assert set(caught.value.errors) == {"summary"}
    assert state(case) == before


def test_e8_resolve_only_from_accepted(case, requested, manager):
    # DOMAIN E-8
    before = state(case)

    with pytest.raises(Conflict, match="accept it first"):
        resolve(requested, manager, "Handled.")

    assert state(case) == before


def test_e8_resolve_records_the_summary(case, accepted, manager):
    # DOMAIN E-8
    summary = "A senior engineer owns the case; the fix is live since 14:00."
    when = LATER + timedelta(hours=5)

    resolved = fresh(resolve(accepted, manager, summary, now=when))

    assert (resolved.state, resolved.summary, resolved.resolved_at) == (
        "resolved",
        summary,
        when,
    )
    assert resolved.owner == manager
    assert not resolved.is_active


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("reject", "accept"),
        ("reject", "reject"),
        ("reject", "resolve"),
        ("accept", "accept"),
        ("accept", "reject"),
        ("resolve", "accept"),
        ("resolve", "reject"),
        ("resolve", "resolve"),
    ],
)
def test_e8_a_decided_escalation_is_not_decided_again(case, requested, manager, first, then):
    # DOMAIN E-8
    if first in ("accept", "resolve"):
        accept(requested, manager)
        if first == "resolve":
            resolve(requested, manager, "Handled.")
    else:
        reject(requested, manager, "Not needed.")
    before = state(case)

    with pytest.raises(Conflict), scopes_disabled():
        _decide(then, requested, manager, manager)

    assert state(case) == before


def test_e8_decisions_are_written_to_the_case_history(case, dc_a, manager):
    # DOMAIN E-8, C-16
    first = escalate(case, dc_a, now=NOW)
    reject(first, manager, "We are on it.", now=NOW + timedelta(hours=1))
    second = escalate(case, dc_a, reason="deadline_at_risk", now=NOW + timedelta(hours=2))
    accept(second, manager, now=NOW + timedelta(hours=3))
    resolve(second, manager, "Fixed.", now=NOW + timedelta(hours=4))

    events = escalation_events(case)

    assert [(e.before, e.after) for e in events] == [
        ({}, {"escalation": first.pk, "state": "requested", "reason": "slow_progress"}),
        (
            {"escalation": first.pk, "state": "requested"},
            {"escalation": first.pk, "state": "rejected"},
        ),
        ({}, {"escalation": second.pk, "state": "requested", "reason": "deadline_at_risk"}),
        (
            {"escalation": second.pk, "state": "requested"},
            {"escalation": second.pk, "state": "accepted"},
        ),
        (
            {"escalation": second.pk, "state": "accepted"},
            {"escalation": second.pk, "state": "resolved"},
        ),
    ]
    assert [e.actor for e in events] == [dc_a, manager, dc_a, manager, manager]
    assert [e.created_at for e in events] == [NOW + timedelta(hours=h) for h in range(5)]
    assert all(e.kind == "escalation" and not e.internal for e in events)
    assert [e.channel for e in events] == [
        Channel.PORTAL,
        Channel.ADMIN,
        Channel.PORTAL,
        Channel.ADMIN,
        Channel.ADMIN,
    ]
    # the customer sees every step in the case history
    with acting_as(dc_a):
        visible = set(case_history(user=dc_a, case=case).filter(kind="escalation"))
    assert visible == set(events)


def test_e8_reassign_hands_the_escalation_to_another_manager(
    case, accepted, manager, second_manager, dc_a
):
    # DOMAIN E-8
    with scopes_disabled():
        services.escalation_reassign(
            escalation=accepted, actor=manager, owner=second_manager, now=LATER + timedelta(hours=1)
        )

    assert fresh(accepted).owner == second_manager
    event = escalation_events(case)[-1]
    assert (event.before, event.after, event.internal) == (
        {"escalation": accepted.pk, "owner": manager.pk},
        {"escalation": accepted.pk, "owner": second_manager.pk},
        True,  # an owner change is care's business, as on cases
    )
    with acting_as(dc_a):
        assert event not in case_history(user=dc_a, case=case)


def test_e8_reassign_is_only_for_accepted_escalations(case, requested, manager, second_manager):
    # DOMAIN E-8
    before = state(case)

    with pytest.raises(Conflict), scopes_disabled():
        services.escalation_reassign(
            escalation=requested, actor=manager, owner=second_manager, now=LATER
        )

    assert state(case) == before


# --- E-9 the escalation feed ------------------------------------------------------------------


def test_e9_the_designated_contact_and_the_manager_write_in_the_escalation_feed(
    case, accepted, dc_a, manager
):
    # DOMAIN E-9
    first = post(accepted, dc_a, "Can someone call us today?", now=LATER)
    second = post(accepted, manager, "I will call you at 15:00.", now=LATER + timedelta(minutes=5))

    with acting_as(dc_a):
        feed = list(selectors.escalation_feed(escalation=accepted))
    assert feed == [first, second]
    assert [(m.author, m.by_care, m.channel) for m in feed] == [
        (dc_a, False, Channel.PORTAL),
        (manager, True, Channel.PORTAL),
    ]
    assert fresh(accepted).last_message_at == LATER + timedelta(minutes=5)


def test_e9_the_customer_may_write_while_the_escalation_awaits_a_decision(requested, dc_a, manager):
    # DOMAIN E-9
    post(requested, dc_a, "Adding: the Berlin site is affected too.")
    post(requested, manager, "Noted, reviewing now.")

    with scopes_disabled():
        assert EscalationMessage.unscoped.filter(escalation=requested).count() == 2


def test_e9_the_escalation_feed_is_not_the_case_feed(case, accepted, dc_a, manager, analyst):
    # DOMAIN E-9, C-9
    post(accepted, dc_a, "Customer message in the escalation feed.")
    post(accepted, manager, "Owner message in the escalation feed.")

    for viewer in (dc_a, analyst):
        with acting_as(viewer):
            bodies = [u.body for u in case_feed(user=viewer, case=case)]
        assert not any("escalation feed" in body for body in bodies)
    with scopes_disabled():
        assert not CaseEvent.unscoped.filter(case_id=case.pk, kind__in=["update", "note"]).exists()


def test_e9_a_message_does_not_touch_the_case(case, accepted, dc_a, manager):
    # DOMAIN E-9, C-9 (the case's last modified time follows its own feed)
    before = reload(case)

    post(accepted, dc_a, "Any news?")
    post(accepted, manager, "Yes, shortly.")

    after = reload(case)
    assert (after.modified_at, after.sub_status, after.escalated_at) == (
        before.modified_at,
        before.sub_status,
        before.escalated_at,
    )


def test_e9_a_read_only_user_cannot_write(case, accepted, ro_a):
    # DOMAIN E-9, T-4
    before = state(case)

    with pytest.raises(NotAllowed):
        post(accepted, ro_a, "Me too.")

    assert state(case) == before


def test_e9_an_analyst_cannot_write(case, accepted, analyst):
    # DOMAIN E-9, E-8 (the feed is between the customer and the escalation owner)
    before = state(case)

    with pytest.raises(NotAllowed):
        post(accepted, analyst, "Analyst here.")

    assert state(case) == before


@pytest.mark.parametrize("outsider", ["dc_b", "basic_a"])
def test_e9_someone_who_cannot_see_the_case_cannot_find_the_escalation(
    request, case, accepted, outsider
):
    # DOMAIN T-6, T-4 (a basic user sees no cases)
    user = request.getfixturevalue(outsider)
    before = state(case)

    with pytest.raises(NotFound):
        post(accepted, user, "Hello?")
    with pytest.raises(NotFound), acting_as(user):
        selectors.escalation_get_for_user(user=user, escalation_id=accepted.pk)

    assert state(case) == before


def test_e9_an_empty_message_is_refused(case, accepted, dc_a):
    # DOMAIN E-9
    before = state(case)

    with pytest.raises(InvalidInput) as caught:
        post(accepted, dc_a, "  ")

    assert set(caught.value.errors) == {"body"}
    assert state(case) == before


@pytest.mark.parametrize("ending", ["reject", "resolve"])
def test_e9_the_feed_closes_when_the_escalation_ends(case, requested, dc_a, manager, ending):
    # DOMAIN E-9
    if ending == "reject":
        reject(requested, manager, "The fix ships tonight.")
    else:
        accept(requested, manager)
        resolve(requested, manager, "Fixed.")
    before = state(case)

    for author in (dc_a, manager):
        with pytest.raises(Conflict, match="feed is closed"):
            post(requested, author, "One more thing.", now=LATER + timedelta(days=1))

    assert state(case) == before
    assert not services.can_write_message(dc_a, fresh(requested))


# --- T-4 / T-6 who may request ---------------------------------------------------------------


def test_t4_a_read_only_user_cannot_escalate(case, ro_a):
    # DOMAIN T-4
    before = state(case)

    with pytest.raises(NotAllowed, match="read-only"):
        escalate(case, ro_a)

    assert state(case) == before


@pytest.mark.parametrize(
    ("staff", "error"),
    # care staff see the case and are told why; staff outside care do not see it at all
    [("analyst", NotAllowed), ("manager", NotAllowed), ("product_manager", NotFound)],
)
def test_t4_staff_cannot_request_an_escalation(request, case, staff, error):
    # DOMAIN T-4, T-5 (escalations are requested by the customer's designated contacts)
    user = request.getfixturevalue(staff)
    before = state(case)

    with pytest.raises(error):
        escalate(case, user)

    assert state(case) == before


@pytest.mark.parametrize("outsider", ["dc_b", "basic_a"])
def test_t6_someone_who_cannot_see_the_case_gets_not_found(request, case, outsider):
    # DOMAIN T-6, T-4
    user = request.getfixturevalue(outsider)
    before = state(case)

    with pytest.raises(NotFound):
        escalate(case, user)

    assert state(case) == before


def test_t6_not_found_even_without_a_scope_around_the_service(case, dc_b):
    # DOMAIN T-6: the service checks visibility itself, not only the request's scope
    before = state(case)

    with pytest.raises(NotFound), scopes_disabled():
        services.escalation_request(
            case=case, actor=dc_b, reason="slow_progress", details=DETAILS, now=NOW
        )

    assert state(case) == before


def test_t6_another_tenants_escalations_are_not_listed(case, requested, dc_a, dc_b, ro_a):
    # DOMAIN T-6
    with acting_as(dc_b):
        assert list(selectors.case_escalations(user=dc_b, case=case)) == []
    for viewer in (dc_a, ro_a):
        with acting_as(viewer):
            assert list(selectors.case_escalations(user=viewer, case=case)) == [requested]


def test_t8_a_reseller_contact_escalates_an_end_user_case(end_user_org, reseller_dc, manager):
    # DOMAIN T-8 (the partner's designated contacts manage its end users' cases), T-4
    case = make_case(end_user_org, reseller_dc, "investigation")

    escalation = fresh(escalate(case, reseller_dc))

    assert (escalation.requester, escalation.organization_id) == (reseller_dc, end_user_org.pk)
    with acting_as(reseller_dc):
        message = services.escalation_post_message(
            escalation=escalation, actor=reseller_dc, body="Any news?", now=LATER
        )
    assert message.organization_id == end_user_org.pk


# --- races ----------------------------------------------------------------------------------


@pytest.fixture
def quiet_broker():
    with mock.patch("config.celery.app.send_task") as apply_async:
        yield apply_async


@postgres_only
def test_e2_two_requests_at_once_one_wins(quiet_broker, org_a, dc_a):
    # DOMAIN E-2
    from accounts.models import AccessLevel
    from tests.factories import member_of

    other_dc = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    case = make_case(org_a, dc_a, "investigation")

    results = race(lambda: escalate(case, dc_a), lambda: escalate(case, other_dc))

    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Escalation)]
    assert (len(conflicts), len(winners)) == (1, 1), results
    with scopes_disabled():
        assert Escalation.unscoped.filter(case_id=case.pk).count() == 1
        assert CaseEvent.unscoped.filter(case_id=case.pk, kind="escalation").count() == 1


@postgres_only
def test_e8_two_decisions_at_once_one_wins(quiet_broker, org_a, dc_a, manager):
    # DOMAIN E-8
    case = make_case(org_a, dc_a, "investigation")
    escalation = escalate(case, dc_a)

    results = race(
        lambda: accept(escalation, manager),
        lambda: reject(escalation, manager, "Not needed."),
    )

    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Escalation)]
    assert (len(conflicts), len(winners)) == (1, 1), results
    assert fresh(escalation).state == winners[0].state
    assert len(escalation_events(case)) == 2
