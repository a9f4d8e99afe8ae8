"""The case write path, rule by rule (C-2 … C-16): every service locks, checks the actor,
fires the state machine, records history and decides the emails; a refused call changes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import transaction

from cases import emails as case_emails
from cases import services
from cases.models import Case, CaseEvent, CaseUpdate, Channel
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from tests.cases import (  # noqa: F401  (migrated_data_restored is a fixture)
    NOW,
    acting_as,
    make_case,
    migrated_data_restored,
    postgres_only,
    reload,
    snapshot,
)
from tests.factories import UserFactory, case_input, open_case
from tests.helpers.concurrency import race

pytestmark = pytest.mark.django_db


# The rules as DOMAIN.md states them, written out here rather than read from the model, so
# a drift between the two fails a test.
STATUS_OF = {  # C-7
    "new": "open",
    "investigation": "open",
    "customer_responded": "open",
    "info_required": "awaiting_info",
    "pending_permanent_solution": "service_restored",
    "pending_rca": "service_restored",
    "solution_proposed": "solution_proposed",
    "problem_resolved": "solution_proposed",
    "cancelled": "closed",
    "resolved": "closed",
    "redirected": "closed",
}
SUB_STATUSES = list(STATUS_OF)
CLOSED = ["cancelled", "resolved", "redirected"]
OPEN = [s for s in SUB_STATUSES if s not in CLOSED]

# C-8: (action, source) → target. Care actions run as an analyst, customer actions as the
# designated contact.
ALLOWED: dict[tuple[str, str], str] = {
    ("take", "new"): "investigation",
    **{
        ("request_info", s): "info_required" for s in ("new", "investigation", "customer_responded")
    },
    **{
        ("propose_solution", s): "solution_proposed"
        for s in (
            "new",
            "investigation",
            "customer_responded",
            "pending_permanent_solution",
            "pending_rca",
        )
    },
    **{
        ("restore_pending_solution", s): "pending_permanent_solution"
        for s in ("investigation", "customer_responded")
    },
    **{("restore_pending_rca", s): "pending_rca" for s in ("investigation", "customer_responded")},
    ("deliver_rca", "pending_rca"): "solution_proposed",
    ("confirm", "solution_proposed"): "problem_resolved",
    ("respond", "info_required"): "customer_responded",
    ("respond", "solution_proposed"): "customer_responded",
    **{("cancel_by_care", s): "cancelled" for s in OPEN},
    **{("cancel_by_customer", s): "cancelled" for s in OPEN},
    **{("resolve", s): "resolved" for s in OPEN},
    **{("redirect", s): "redirected" for s in OPEN},
    **{
        ("close", s): "resolved" if s in ("solution_proposed", "problem_resolved") else "cancelled"
        for s in OPEN
    },
    **{("reopen", s): "customer_responded" for s in CLOSED},
}
CARE_ACTIONS = {
    "take",
    "request_info",
    "propose_solution",
    "restore_pending_solution",
    "restore_pending_rca",
    "deliver_rca",
    "cancel_by_care",
    "resolve",
    "redirect",
}
CUSTOMER_ACTIONS = {"confirm", "respond", "cancel_by_customer", "close", "reopen"}
TRANSITION_ACTIONS = sorted(CARE_ACTIONS | CUSTOMER_ACTIONS)


def _refused_pairs() -> list[tuple[str, str]]:
    pairs = []
    for sub_status in SUB_STATUSES:
        for action in TRANSITION_ACTIONS:
            if (action, sub_status) in ALLOWED:
                continue
            # A customer update on an open case that awaits nobody is accepted without a
            # transition; only a closed case refuses it.
            if action == "respond" and sub_status in OPEN:
                continue
            pairs.append((sub_status, action))
    return pairs


# --- helpers -----------------------------------------------------------------------------


def _service_call(action: str) -> Callable:
    s = services
    calls: dict[str, Callable] = {
        "take": lambda c, a, now, ch: s.case_take(case=c, actor=a, channel=ch, now=now),
        "request_info": lambda c, a, now, ch: s.case_request_info(
            case=c, actor=a, body="Please send the call recording.", channel=ch, now=now
        ),
        "propose_solution": lambda c, a, now, ch: s.case_propose_solution(
            case=c, actor=a, body="Restart the transfer service.", channel=ch, now=now
        ),
        "restore_pending_solution": lambda c, a, now, ch: s.case_restore_service(
            case=c, actor=a, pending="permanent_solution", channel=ch, now=now
        ),
        "restore_pending_rca": lambda c, a, now, ch: s.case_restore_service(
            case=c, actor=a, pending="rca", channel=ch, now=now
        ),
        "deliver_rca": lambda c, a, now, ch: s.case_deliver_rca(
            case=c, actor=a, body="Root cause: a full disk.", channel=ch, now=now
        ),
        "cancel_by_care": lambda c, a, now, ch: s.case_cancel(case=c, actor=a, channel=ch, now=now),
        "resolve": lambda c, a, now, ch: s.case_resolve(case=c, actor=a, channel=ch, now=now),
        "redirect": lambda c, a, now, ch: s.case_redirect(case=c, actor=a, channel=ch, now=now),
        "confirm": lambda c, a, now, ch: s.case_confirm_solution(
            case=c, actor=a, channel=ch, now=now
        ),
        "respond": lambda c, a, now, ch: s.case_post_update(
            case=c, actor=a, body="Here is the recording.", channel=ch, now=now
        ),
        "cancel_by_customer": lambda c, a, now, ch: s.case_cancel(
            case=c, actor=a, channel=ch, now=now
        ),
        "close": lambda c, a, now, ch: s.case_close(case=c, actor=a, channel=ch, now=now),
        "reopen": lambda c, a, now, ch: s.case_reopen(
            case=c, actor=a, reason="It happens again.", channel=ch, now=now
        ),
    }
    return calls[action]


def fire(action: str, case: Case, actor, *, now: datetime = NOW):
    channel = Channel.ADMIN if actor.is_staff else Channel.PORTAL
    with acting_as(actor):
        return _service_call(action)(case, actor, now, channel)


# --- C-1, C-2 … C-5: opening -------------------------------------------------------------


# DOMAIN C-2: every type and sub-type a designated contact can open.
OPENABLE = [
    ("support", "problem", "production", "routing"),
    ("support", "question", "uat", "routing"),
    ("service_request", "add_remove_access", "", "ivr"),
    ("service_request", "password_reset", "", "ivr"),
    ("service_request", "change_request", "", "ivr"),
    ("service_request", "new_project_request", "", "ivr"),
    ("data_privacy", "", "", "reporting"),
    ("admin", "question", "", None),
    ("admin", "request", "", None),
    ("admin", "problem", "", None),
]


@pytest.mark.parametrize(("type_", "sub_type", "stage", "service"), OPENABLE)
def test_designated_contact_opens_every_customer_type(org_a, dc_a, type_, sub_type, stage, service):
    # DOMAIN C-2, C-3, C-4
    case = open_case(
        dc_a,
        org_a,
        type=type_,
        sub_type=sub_type,
        implementation_stage=stage,
        service_slug=service,
        now=NOW,
    )

    case = reload(case)
    assert (case.type, case.sub_type, case.implementation_stage) == (type_, sub_type, stage)
    assert (case.sub_status, case.status) == ("new", "open")
    assert case.contact == dc_a and case.organization == org_a
    assert case.opened_at == case.modified_at == NOW
    if service:
        assert case.service.slug == service
        assert case.product_group == case.service.product_group
    else:
        assert case.service is None and case.product_group is None


def test_open_records_every_field_and_history(org_a, dc_a):
    # DOMAIN C-4, C-16
    case = open_case(
        dc_a,
        org_a,
        subject="  Agents cannot log in  ",
        priority="high",
        affected_count=40,
        external_reference="INC-77",
        channel=Channel.API,
        now=NOW,
    )

    case = reload(case)
    assert case.subject == "Agents cannot log in"
    assert (case.priority, case.affected_count, case.external_reference) == ("high", 40, "INC-77")
    assert case.channel == Channel.API
    with scopes_disabled():
        (event,) = CaseEvent.unscoped.filter(case=case)
    assert (event.kind, event.actor, event.channel) == ("opened", dc_a, Channel.API)
    assert event.after["sub_status"] == "new" and event.after["priority"] == "high"


def _deployment_of(organization):
    with scopes_disabled():
        return organization.deployments.first().pk


INVALID_OPENINGS = [
    pytest.param(
        lambda org_b: {"deployment_id": _deployment_of(org_b)},
        "deployment",
        "deployment",
        id="deployment-of-another-organization",
    ),
    pytest.param(lambda org_b: {"deployment_id": None}, "deployment", "", id="no-deployment"),
    pytest.param(lambda org_b: {"deployment_id": "x1"}, "deployment", "", id="deployment-junk"),
    pytest.param(lambda org_b: {"service_slug": "fax"}, "service", "", id="unknown-service"),
    pytest.param(lambda org_b: {"service_slug": None}, "service", "", id="no-service"),
    pytest.param(
        lambda org_b: {
            "type": "admin",
            "sub_type": "question",
            "implementation_stage": "",
            "service_slug": "routing",
        },
        "service",
        "Admin",
        id="admin-with-service",
    ),
    pytest.param(
        lambda org_b: {"type": "incident"}, "type", "Customer Care", id="incident-by-customer"
    ),
    pytest.param(
        lambda org_b: {"type": "feature_request", "sub_type": "", "implementation_stage": ""},
        "type",
        "Customer Care",
        id="feature-request-by-customer",
    ),
    pytest.param(lambda org_b: {"type": "bogus"}, "type", "", id="unknown-type"),
    pytest.param(
        lambda org_b: {"sub_type": "password_reset"}, "sub_type", "", id="sub-type-mismatch"
    ),
    pytest.param(lambda org_b: {"sub_type": ""}, "sub_type", "", id="support-without-sub-type"),
    pytest.param(
        lambda org_b: {"type": "data_privacy", "sub_type": "question", "implementation_stage": ""},
        "sub_type",
        "no sub-type",
        id="data-privacy-with-sub-type",
    ),
    pytest.param(
        lambda org_b: {"implementation_stage": ""},
        "implementation_stage",
        "Production or UAT",
        id="support-without-stage",
    ),
    pytest.param(
        lambda org_b: {"type": "service_request", "sub_type": "password_reset"},
        "implementation_stage",
        "Only Support",
        id="stage-on-service-request",
    ),
    pytest.param(
        lambda org_b: {"priority": "critical"}, "priority", "call", id="critical-by-customer"
    ),
    pytest.param(lambda org_b: {"priority": "urgent"}, "priority", "", id="unknown-priority"),
    pytest.param(
        lambda org_b: {"sub_type": "question", "affected_count": 5},
        "affected_count",
        "Problem",
        id="affected-count-on-question",
    ),
    pytest.param(
        lambda org_b: {"affected_count": -1}, "affected_count", "", id="affected-count-negative"
    ),
    pytest.param(lambda org_b: {"subject": "  \n "}, "subject", "", id="empty-subject"),
    pytest.param(lambda org_b: {"subject": "x" * 201}, "subject", "200", id="long-subject"),
    pytest.param(lambda org_b: {"description": " \t "}, "description", "", id="empty-description"),
    pytest.param(
        lambda org_b: {"business_impact": ""}, "business_impact", "", id="empty-business-impact"
    ),
    pytest.param(
        lambda org_b: {"external_reference": "r" * 101},
        "external_reference",
        "100",
        id="long-external-reference",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "fragment"), INVALID_OPENINGS)
def test_invalid_opening_is_refused_and_changes_nothing(
    org_a, org_b, dc_a, overrides, field, fragment
):
    # DOMAIN C-2, C-3, C-4, C-5
    before = open_case(dc_a, org_a, now=NOW)
    state = snapshot(before)

    with pytest.raises(InvalidInput) as refused:
        open_case(dc_a, org_a, now=NOW, **overrides(org_b))

    assert field in refused.value.errors
    assert fragment in " ".join(refused.value.errors[field])
    assert snapshot(before) == state
    # the refused attempt used no number: the next case follows directly
    after = open_case(dc_a, org_a, now=NOW)
    assert after.number == before.number + 1


def test_critical_is_refused_with_the_phone_numbers(org_a, dc_a, settings):
    # DOMAIN C-5
    settings.PORTAL = {**settings.PORTAL, "CARE_PHONE_NUMBERS": ["Europe: +49 800 555 0100"]}

    with pytest.raises(InvalidInput) as refused:
        open_case(dc_a, org_a, priority="critical", now=NOW)

    (message,) = refused.value.errors["priority"]
    assert "High" in message and "call" in message and "+49 800 555 0100" in message


def test_every_field_error_is_reported_at_once(org_a, dc_a):
    # DOMAIN C-4
    with pytest.raises(InvalidInput) as refused:
        open_case(dc_a, org_a, subject="", description="", business_impact="", priority="x")

    assert {"subject", "description", "business_impact", "priority"} <= set(refused.value.errors)


def test_subject_with_line_breaks_is_stored_on_one_line(org_a, dc_a):
    # DOMAIN C-4, N-2: a subject ends up in email headers
    case = open_case(dc_a, org_a, subject="Calls drop\r\nBcc: victim@example.com", now=NOW)

    assert reload(case).subject == "Calls drop Bcc: victim@example.com"


def test_control_characters_are_removed_from_text(org_a, dc_a):
    # DOMAIN C-4: a NUL would be refused by PostgreSQL; it is never meaningful
    case = open_case(dc_a, org_a, description="line one\x00\r\nline two\x07", now=NOW)

    assert reload(case).description == "line one\nline two"


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("ro_a", NotAllowed),
        ("basic_a", NotAllowed),
        ("dc_b", NotFound),
        ("analyst", NotAllowed),
        ("product_manager", NotAllowed),
    ],
)
def test_only_a_designated_contact_of_the_organization_opens_cases(request, org_a, who, error):
    # DOMAIN T-4, T-5, T-6, C-2
    actor = request.getfixturevalue(who)
    data = case_input(org_a)

    with acting_as(actor), pytest.raises(error):
        services.case_open(actor=actor, data=data, now=NOW)

    with scopes_disabled():
        assert not Case.unscoped.exists()
        assert not OutboxEmail.unscoped.exists()


def test_reseller_contact_opens_a_case_for_an_end_user(end_user_org, reseller_dc):
    # DOMAIN T-8
    case = open_case(reseller_dc, end_user_org, now=NOW)

    assert reload(case).organization == end_user_org


def test_refused_upload_on_open_creates_no_case(org_a, dc_a, settings, tmp_path):
    # DOMAIN C-10, C-4
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    fake = SimpleUploadedFile("shot.png", b"<html><script>alert(1)</script></html>")

    with pytest.raises(InvalidInput):
        open_case(dc_a, org_a, uploads=[fake], now=NOW)

    with scopes_disabled():
        assert not Case.unscoped.exists()
    assert not list(tmp_path.rglob("*.*"))


# --- C-7, C-8: the state machine ---------------------------------------------------------


@pytest.mark.parametrize("sub_status", SUB_STATUSES)
def test_status_is_derived_from_every_sub_status(org_a, dc_a, sub_status):
    # DOMAIN C-7
    case = make_case(org_a, dc_a, sub_status)

    assert reload(case).status == STATUS_OF[sub_status]


@pytest.mark.parametrize(
    ("action", "source"), sorted(ALLOWED), ids=[f"{a}-from-{s}" for a, s in sorted(ALLOWED)]
)
def test_every_allowed_transition(org_a, dc_a, analyst, action, source):
    # DOMAIN C-8, C-7, C-16
    case = make_case(org_a, dc_a, source)
    actor = analyst if action in CARE_ACTIONS else dc_a
    events_before = snapshot(case)["events"]

    fire(action, case, actor)

    case = reload(case)
    target = ALLOWED[(action, source)]
    assert case.sub_status == target
    assert case.status == STATUS_OF[target]
    assert (case.closed_at is not None) == (target in CLOSED)
    with scopes_disabled():
        transition = CaseEvent.unscoped.filter(case=case, kind="transition").exclude(
            pk__in=[pk for (pk,) in events_before]
        )
        (event,) = transition
        emails = OutboxEmail.unscoped.filter(case=case).count()
    assert event.actor == actor
    assert event.channel == (Channel.ADMIN if actor.is_staff else Channel.PORTAL)
    assert event.created_at == NOW
    assert event.before == {"sub_status": source, "status": STATUS_OF[source]}
    assert event.after["sub_status"] == target and event.after["status"] == STATUS_OF[target]
    # N-1: a status change is emailed; a customer's own update is not sent back to them
    assert emails == (0 if action == "respond" else 1)


@pytest.mark.parametrize(
    ("sub_status", "action"), _refused_pairs(), ids=[f"{a}-from-{s}" for s, a in _refused_pairs()]
)
def test_every_other_transition_is_refused_and_changes_nothing(
    org_a, dc_a, analyst, sub_status, action
):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, sub_status)
    actor = analyst if action in CARE_ACTIONS else dc_a
    state = snapshot(case)

    with pytest.raises(Conflict) as refused:
        fire(action, case, actor)

    message = refused.value.message
    label = Case(sub_status=sub_status).get_sub_status_display()
    assert label in message or "closed" in message.lower()
    assert message.endswith(".")
    assert snapshot(case) == state


@pytest.mark.parametrize("type_", ["service_request", "data_privacy", "admin"])
@pytest.mark.parametrize("pending", ["restore_pending_solution", "restore_pending_rca"])
def test_restore_service_only_for_support_and_incident(org_a, dc_a, analyst, type_, pending):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, "investigation", type=type_, sub_type="")
    state = snapshot(case)

    with pytest.raises(Conflict, match="Support cases and Incidents"):
        fire(pending, case, analyst)

    assert snapshot(case) == state


def test_restore_service_for_an_incident(org_a, dc_a, analyst):
    # DOMAIN C-8, S-4
    case = make_case(org_a, dc_a, "customer_responded", type="incident")

    fire("restore_pending_rca", case, analyst)

    case = reload(case)
    assert (case.sub_status, case.restored_at) == ("pending_rca", NOW)


def test_restore_service_refuses_an_unknown_pending_reason(org_a, dc_a, analyst):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with scopes_disabled(), pytest.raises(InvalidInput):
        services.case_restore_service(
            case=case, actor=analyst, pending="later", channel=Channel.ADMIN, now=NOW
        )

    assert snapshot(case) == state


def test_deliver_rca_records_when(org_a, dc_a, analyst):
    # DOMAIN C-8, S-4
    case = make_case(org_a, dc_a, "pending_rca", restored_at=NOW - timedelta(days=6))

    fire("deliver_rca", case, analyst)

    assert reload(case).rca_delivered_at == NOW


@pytest.mark.parametrize("action", ["request_info", "propose_solution", "deliver_rca"])
def test_care_transitions_that_ask_the_customer_need_a_message(org_a, dc_a, analyst, action):
    # DOMAIN C-8
    source = "pending_rca" if action == "deliver_rca" else "investigation"
    case = make_case(org_a, dc_a, source)
    state = snapshot(case)
    call = {
        "request_info": services.case_request_info,
        "propose_solution": services.case_propose_solution,
        "deliver_rca": services.case_deliver_rca,
    }[action]

    with scopes_disabled(), pytest.raises(InvalidInput) as refused:
        call(case=case, actor=analyst, body="   ", channel=Channel.ADMIN, now=NOW)

    assert refused.value.errors["body"]
    assert snapshot(case) == state


def test_the_state_is_checked_before_the_message(org_a, dc_a, analyst):
    # DOMAIN C-8: "the case is closed" helps more than "write a message"
    case = make_case(org_a, dc_a, "resolved")

    with scopes_disabled(), pytest.raises(Conflict, match="Resolved"):
        services.case_request_info(
            case=case, actor=analyst, body="", channel=Channel.ADMIN, now=NOW
        )
    with acting_as(dc_a), pytest.raises(Conflict, match="closed"):
        services.case_post_update(case=case, actor=dc_a, body="", now=NOW)


def test_take_makes_the_analyst_owner_and_first_responder(org_a, dc_a, analyst):
    # DOMAIN C-8, C-16
    case = make_case(org_a, dc_a, "new")

    fire("take", case, analyst)

    case = reload(case)
    assert (case.owner, case.first_response_at) == (analyst, NOW)
    with scopes_disabled():
        owner_event = CaseEvent.unscoped.get(case=case, kind="owner")
    assert (owner_event.before, owner_event.after) == ({"owner": None}, {"owner": analyst.pk})


# --- roles -------------------------------------------------------------------------------


ROLE_OUTCOMES = {
    # actor fixture: (care action, customer action)
    "dc_a": (NotAllowed, None),
    "ro_a": (NotAllowed, NotAllowed),
    "basic_a": (NotFound, NotFound),
    "dc_b": (NotFound, NotFound),
    "product_manager": (NotAllowed, NotAllowed),
    "analyst": (None, NotAllowed),
    "manager": (None, NotAllowed),
}
CARE_SAMPLES = [
    ("take", "new"),
    ("request_info", "investigation"),
    ("resolve", "investigation"),
    ("restore_pending_rca", "investigation"),
]
CUSTOMER_SAMPLES = [
    ("close", "investigation"),
    ("confirm", "solution_proposed"),
    ("reopen", "resolved"),
]


@pytest.mark.parametrize("who", sorted(ROLE_OUTCOMES))
@pytest.mark.parametrize(("action", "source"), CARE_SAMPLES)
def test_care_transitions_by_role(request, org_a, dc_a, who, action, source):
    # DOMAIN T-4, T-5, T-6, C-8
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, source)
    state = snapshot(case)
    error = ROLE_OUTCOMES[who][0]

    if error is None:
        fire(action, case, actor)
        assert reload(case).sub_status == ALLOWED[(action, source)]
    else:
        with pytest.raises(error) as refused:
            fire(action, case, actor)
        assert refused.value.message
        assert snapshot(case) == state


@pytest.mark.parametrize("who", sorted(ROLE_OUTCOMES))
@pytest.mark.parametrize(("action", "source"), CUSTOMER_SAMPLES)
def test_customer_transitions_by_role(request, org_a, dc_a, who, action, source):
    # DOMAIN T-4, T-5, T-6, C-8, C-11, C-12
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, source)
    state = snapshot(case)
    error = ROLE_OUTCOMES[who][1]

    if error is None:
        fire(action, case, actor)
        assert reload(case).sub_status == ALLOWED[(action, source)]
    else:
        with pytest.raises(error) as refused:
            fire(action, case, actor)
        assert refused.value.message
        assert snapshot(case) == state


@pytest.mark.parametrize("who", sorted(ROLE_OUTCOMES))
def test_posting_an_update_by_role(request, org_a, dc_a, who):
    # DOMAIN T-4, T-5, T-6, C-9
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)
    error = {"dc_a": None, "analyst": None, "manager": None}.get(
        who, NotFound if who in ("basic_a", "dc_b") else NotAllowed
    )

    if error is None:
        fire("respond", case, actor)
        assert len(snapshot(case)["updates"]) == 1
    else:
        with pytest.raises(error):
            fire("respond", case, actor)
        assert snapshot(case) == state


def test_read_only_is_told_why(org_a, dc_a, ro_a):
    # DOMAIN T-4
    case = make_case(org_a, dc_a, "investigation")

    with pytest.raises(NotAllowed, match="read-only"):
        fire("close", case, ro_a)


def test_other_tenant_is_not_found_even_without_a_scope(org_a, dc_a, dc_b):
    # DOMAIN T-6: the service checks on its own, the scope is a second guard
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    for call in (
        lambda: services.case_close(case=case, actor=dc_b, channel=Channel.PORTAL, now=NOW),
        lambda: services.case_post_update(case=case, actor=dc_b, body="hello", now=NOW),
        lambda: services.case_take(case=case, actor=dc_b, channel=Channel.PORTAL, now=NOW),
    ):
        with scopes_disabled(), pytest.raises(NotFound):
            call()

    assert snapshot(case) == state


def test_inactive_designated_contact_cannot_act(org_a, dc_a):
    # DOMAIN T-4
    case = make_case(org_a, dc_a, "investigation")
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])

    with scopes_disabled(), pytest.raises(NotFound):
        services.case_close(case=case, actor=dc_a, channel=Channel.PORTAL, now=NOW)


def test_reseller_contact_manages_end_user_cases(end_user_org, reseller_dc):
    # DOMAIN T-8
    contact = UserFactory()
    case = make_case(end_user_org, contact, "solution_proposed")

    fire("confirm", case, reseller_dc)

    assert reload(case).sub_status == "problem_resolved"


# --- C-9: the feed -----------------------------------------------------------------------


def test_care_public_update_on_a_new_case_takes_it(org_a, dc_a, analyst):
    # DOMAIN C-8, C-9
    case = make_case(org_a, dc_a, "new")

    fire("respond", case, analyst)

    case = reload(case)
    assert (case.sub_status, case.first_response_at, case.modified_at) == (
        "investigation",
        NOW,
        NOW,
    )
    with scopes_disabled():
        kinds = sorted(CaseEvent.unscoped.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["transition", "update"]


@pytest.mark.parametrize("source", ["info_required", "solution_proposed"])
def test_customer_update_while_awaiting_them_responds(org_a, dc_a, source):
    # DOMAIN C-8, F-5
    case = make_case(org_a, dc_a, source)

    fire("respond", case, dc_a)

    assert reload(case).sub_status == "customer_responded"


@pytest.mark.parametrize("source", ["new", "investigation", "pending_rca", "problem_resolved"])
def test_customer_update_elsewhere_keeps_the_sub_status(org_a, dc_a, source):
    # DOMAIN C-8
    case = make_case(org_a, dc_a, source)

    fire("respond", case, dc_a)

    case = reload(case)
    assert (case.sub_status, case.modified_at) == (source, NOW)


@pytest.mark.parametrize("source", ["info_required", "solution_proposed"])
def test_care_update_while_awaiting_the_customer_keeps_waiting(org_a, dc_a, manager, source):
    # DOMAIN C-8: only a customer's update is a customer response
    case = make_case(org_a, dc_a, source)

    fire("respond", case, manager)

    assert reload(case).sub_status == source


def test_status_change_without_a_message_leaves_date_modified(org_a, dc_a, analyst):
    # DOMAIN C-9
    case = make_case(org_a, dc_a, "investigation")
    before = reload(case).modified_at

    fire("restore_pending_solution", case, analyst)
    fire("resolve", case, analyst, now=NOW + timedelta(hours=1))

    assert reload(case).modified_at == before


@pytest.mark.parametrize("who", ["dc_a", "analyst"])
def test_public_update_moves_date_modified(request, org_a, dc_a, who):
    # DOMAIN C-9
    case = make_case(org_a, dc_a, "investigation")

    fire("respond", case, request.getfixturevalue(who), now=NOW + timedelta(minutes=5))

    assert reload(case).modified_at == NOW + timedelta(minutes=5)


def test_internal_note_is_flagged_kept_from_email_and_leaves_date_modified(org_a, dc_a, analyst):
    # DOMAIN C-9, N-1
    case = make_case(org_a, dc_a, "new")
    before = reload(case).modified_at

    with scopes_disabled():
        note = services.case_post_update(
            case=case,
            actor=analyst,
            body="Customer is on the legacy trunk.",
            internal=True,
            channel=Channel.ADMIN,
            now=NOW,
        )
        event = CaseEvent.unscoped.get(case=case)
        emails = OutboxEmail.unscoped.count()

    case = reload(case)
    assert note.is_internal and note.by_care
    assert (event.kind, event.internal) == ("note", True)
    assert case.modified_at == before
    assert case.sub_status == "new"  # a note is not a response to the customer
    assert case.first_response_at is None
    assert emails == 0


def test_the_public_update_email_refuses_an_internal_note_even_under_python_o(org_a, dc_a, analyst):
    # DOMAIN C-9, N-1: the guard is a raise, not an assert that `python -O` would strip
    case = make_case(org_a, dc_a, "investigation")
    with scopes_disabled():
        note = services.case_post_update(
            case=case, actor=analyst, body="Legacy trunk.", internal=True, channel="admin", now=NOW
        )
        event = CaseEvent.unscoped.get(case=case, kind="note")
        sent_before = OutboxEmail.unscoped.count()

        with pytest.raises(ValueError, match="Internal notes never leave"):
            case_emails.case_public_update(case=reload(case), update=note, event=event, now=NOW)

        assert OutboxEmail.unscoped.count() == sent_before


def test_customer_cannot_post_an_internal_note(org_a, dc_a):
    # DOMAIN C-9
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with acting_as(dc_a), pytest.raises(NotAllowed, match="Internal notes"):
        services.case_post_update(case=case, actor=dc_a, body="secret", internal=True, now=NOW)

    assert snapshot(case) == state


@pytest.mark.parametrize("body", ["", "   \n\t ", "x" * 100_001])
def test_update_needs_sensible_text(org_a, dc_a, body):
    # DOMAIN C-9
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with acting_as(dc_a), pytest.raises(InvalidInput) as refused:
        services.case_post_update(case=case, actor=dc_a, body=body, now=NOW)

    assert refused.value.errors["body"]
    assert snapshot(case) == state


# --- C-5, C-6: priority ------------------------------------------------------------------


def test_customer_asks_for_medium_on_a_low_case(org_a, dc_a):
    # DOMAIN C-6
    case = make_case(org_a, dc_a, "investigation", priority="low")

    with acting_as(dc_a):
        update = services.case_post_update(
            case=case,
            actor=dc_a,
            body="More agents are affected now.",
            requested_priority="medium",
            now=NOW,
        )

    assert update.requested_priority == "medium" and not update.is_internal
    assert reload(case).priority == "low"  # care decides
    with scopes_disabled():
        event = CaseEvent.unscoped.get(case=case, kind="priority_request")
    assert (event.actor, event.before, event.after) == (
        dc_a,
        {"priority": "low"},
        {"requested_priority": "medium"},
    )


@pytest.mark.parametrize(
    ("current", "requested"), [("medium", "high"), ("low", "high"), ("low", "critical")]
)
def test_raising_to_high_or_critical_says_call(org_a, dc_a, current, requested, settings):
    # DOMAIN C-6, C-5
    settings.PORTAL = {**settings.PORTAL, "CARE_PHONE_NUMBERS": ["US: +1 800 555 0100"]}
    case = make_case(org_a, dc_a, "investigation", priority=current)
    state = snapshot(case)

    with acting_as(dc_a), pytest.raises(InvalidInput) as refused:
        services.case_post_update(
            case=case, actor=dc_a, body="Worse now.", requested_priority=requested, now=NOW
        )

    (message,) = refused.value.errors["requested_priority"]
    assert "call" in message and "+1 800 555 0100" in message
    assert snapshot(case) == state


@pytest.mark.parametrize("requested", ["urgent", "low"])
def test_priority_request_must_be_a_change(org_a, dc_a, requested):
    # DOMAIN C-6
    case = make_case(org_a, dc_a, "investigation", priority="low")
    state = snapshot(case)

    with acting_as(dc_a), pytest.raises(InvalidInput):
        services.case_post_update(
            case=case, actor=dc_a, body="Please.", requested_priority=requested, now=NOW
        )

    assert snapshot(case) == state


def test_care_does_not_request_priority_but_sets_it(org_a, dc_a, analyst):
    # DOMAIN C-5, C-6
    case = make_case(org_a, dc_a, "investigation", priority="low")
    state = snapshot(case)

    with scopes_disabled(), pytest.raises(InvalidInput) as refused:
        services.case_post_update(
            case=case, actor=analyst, body="Raising.", requested_priority="medium", now=NOW
        )

    assert "directly" in refused.value.errors["requested_priority"][0]
    assert snapshot(case) == state


@pytest.mark.parametrize("priority", ["critical", "high", "low"])
def test_care_changes_priority_and_history_keeps_it(org_a, dc_a, manager, priority):
    # DOMAIN C-5, C-16
    case = make_case(org_a, dc_a, "investigation", priority="medium")

    with scopes_disabled():
        services.case_change_priority(
            case=case, actor=manager, priority=priority, channel=Channel.ADMIN, now=NOW
        )
        event = CaseEvent.unscoped.get(case=case, kind="priority")
        emails = OutboxEmail.unscoped.filter(case=case).count()

    assert reload(case).priority == priority
    assert (event.actor, event.channel, event.before, event.after) == (
        manager,
        Channel.ADMIN,
        {"priority": "medium"},
        {"priority": priority},
    )
    assert emails == 1


@pytest.mark.parametrize(
    ("who", "priority", "error"),
    [
        ("dc_a", "critical", NotAllowed),
        ("product_manager", "high", NotAllowed),
        ("analyst", "urgent", InvalidInput),
        ("analyst", "medium", Conflict),
    ],
)
def test_priority_change_refusals(request, org_a, dc_a, who, priority, error):
    # DOMAIN C-5
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, "investigation", priority="medium")
    state = snapshot(case)

    with acting_as(actor), pytest.raises(error):
        services.case_change_priority(
            case=case, actor=actor, priority=priority, channel=Channel.PORTAL, now=NOW
        )

    assert snapshot(case) == state


# --- C-11: close -------------------------------------------------------------------------


@pytest.mark.parametrize("source", OPEN)
def test_customer_close(org_a, dc_a, source):
    # DOMAIN C-11, C-8
    case = make_case(org_a, dc_a, source)

    fire("close", case, dc_a)

    case = reload(case)
    expected = {
        "solution_proposed": ("resolved", "customer_closed"),
        "problem_resolved": ("resolved", "solution_confirmed"),
    }.get(source, ("cancelled", "cancelled"))
    assert (case.sub_status, case.closure_reason) == expected
    assert (case.status, case.closed_at) == ("closed", NOW)


def test_close_with_a_message_posts_it(org_a, dc_a):
    # DOMAIN C-11, C-9
    case = make_case(org_a, dc_a, "investigation")

    with acting_as(dc_a):
        services.case_close(
            case=case, actor=dc_a, body="Fixed itself.", channel=Channel.PORTAL, now=NOW
        )

    with scopes_disabled():
        (update,) = CaseUpdate.unscoped.filter(case=case)
    assert (update.body, update.is_internal, update.author) == ("Fixed itself.", False, dc_a)
    assert reload(case).modified_at == NOW


# --- C-12: reopen ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "allowed"), [(1, True), (29, True), (30, True), (30.001, False), (31, False)]
)
def test_reopen_within_thirty_days(org_a, dc_a, days, allowed):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, "resolved")
    now = reload(case).closed_at + timedelta(days=days)
    state = snapshot(case)

    if allowed:
        fire("reopen", case, dc_a, now=now)
        case = reload(case)
        assert (case.sub_status, case.status) == ("customer_responded", "open")
        assert (case.closed_at, case.closure_reason) == (None, "")
    else:
        with pytest.raises(Conflict) as refused:
            fire("reopen", case, dc_a, now=now)
        assert "open a new case" in refused.value.message
        assert snapshot(case) == state


def test_reopen_posts_the_reason_as_a_public_update(org_a, dc_a):
    # DOMAIN C-12, C-9, C-16
    case = make_case(org_a, dc_a, "cancelled")
    now = NOW + timedelta(days=2)

    with acting_as(dc_a):
        services.case_reopen(
            case=case, actor=dc_a, reason="  Still failing.  ", channel=Channel.API, now=now
        )

    with scopes_disabled():
        (update,) = CaseUpdate.unscoped.filter(case=case)
        kinds = set(CaseEvent.unscoped.filter(case=case).values_list("kind", flat=True))
    assert (update.body, update.is_internal, update.channel) == (
        "Still failing.",
        False,
        Channel.API,
    )
    assert reload(case).modified_at == now
    assert {"transition", "reopened"} <= kinds
    with scopes_disabled():
        reopened = CaseEvent.unscoped.get(case=case, kind="reopened")
    assert reopened.before == {
        "closed_at": (NOW - timedelta(days=1)).isoformat(),
        "closure_reason": "",
    }
    assert (reopened.after, reopened.actor, reopened.channel) == (
        {"closed_at": None, "closure_reason": ""},
        dc_a,
        Channel.API,
    )


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_reopen_needs_a_reason(org_a, dc_a, reason):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, "resolved")
    state = snapshot(case)

    with acting_as(dc_a), pytest.raises(InvalidInput) as refused:
        services.case_reopen(case=case, actor=dc_a, reason=reason, channel=Channel.PORTAL, now=NOW)

    assert refused.value.errors["body"]
    assert snapshot(case) == state


def test_updates_on_a_closed_case_say_reopen(org_a, dc_a):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, "resolved")

    with pytest.raises(Conflict, match="reopen"):
        fire("respond", case, dc_a)


# --- care field changes ------------------------------------------------------------------


def test_convert_support_to_incident(org_a, dc_a, analyst):
    # DOMAIN C-2, C-16
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_convert_to_incident(
            case=case, actor=analyst, body="Service affecting.", channel=Channel.ADMIN, now=NOW
        )
        event = CaseEvent.unscoped.get(case=case, kind="type")

    assert reload(case).type == "incident"
    assert (event.before, event.after, event.actor) == (
        {"type": "support"},
        {"type": "incident"},
        analyst,
    )


@pytest.mark.parametrize(
    ("type_", "sub_status", "who", "error"),
    [
        ("service_request", "investigation", "analyst", Conflict),
        ("incident", "investigation", "analyst", Conflict),
        ("support", "resolved", "analyst", Conflict),
        ("support", "investigation", "dc_a", NotAllowed),
    ],
)
def test_convert_to_incident_refusals(request, org_a, dc_a, type_, sub_status, who, error):
    # DOMAIN C-2
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, sub_status, type=type_)
    state = snapshot(case)

    with acting_as(actor), pytest.raises(error):
        services.case_convert_to_incident(case=case, actor=actor, channel=Channel.PORTAL, now=NOW)

    assert snapshot(case) == state


def test_assign_owner_is_recorded(org_a, dc_a, analyst, manager):
    # DOMAIN C-16
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_assign(case=case, actor=manager, owner=analyst, channel="admin", now=NOW)
        event = CaseEvent.unscoped.get(case=case, kind="owner")

    assert reload(case).owner == analyst
    assert (event.actor, event.before, event.after) == (
        manager,
        {"owner": None},
        {"owner": analyst.pk},
    )


@pytest.mark.parametrize("owner", ["dc_a", "product_manager"])
def test_owner_must_be_care(request, org_a, dc_a, manager, owner):
    # DOMAIN T-5
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with scopes_disabled(), pytest.raises(InvalidInput):
        services.case_assign(
            case=case,
            actor=manager,
            owner=request.getfixturevalue(owner),
            channel=Channel.ADMIN,
            now=NOW,
        )

    assert snapshot(case) == state


# --- C-16: history -----------------------------------------------------------------------


def test_history_is_append_only(org_a, dc_a):
    # DOMAIN C-16
    case = open_case(dc_a, org_a, now=NOW)
    with scopes_disabled():
        event = CaseEvent.unscoped.get(case=case)

        event.after = {"sub_status": "resolved"}
        with pytest.raises(ValueError, match="append-only"):
            event.save()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()

        assert CaseEvent.unscoped.get(pk=event.pk).after["sub_status"] == "new"


def test_history_refuses_bulk_changes(org_a, dc_a):
    # DOMAIN C-16: a queryset cannot change or remove events either, scoped or not
    case = open_case(dc_a, org_a, now=NOW)
    with scopes_disabled():
        for manager in (CaseEvent.objects, CaseEvent.unscoped):
            with pytest.raises(ValueError, match="append-only"):
                manager.filter(case=case).update(after={})
            with pytest.raises(ValueError, match="append-only"):
                manager.filter(case=case).delete()
        assert CaseEvent.unscoped.filter(case=case).count() == 1


def test_history_refuses_an_update_sent_as_sql_on_postgresql(org_a, dc_a):
    # DOMAIN C-16: the database itself refuses, whatever sends the UPDATE
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    case = open_case(dc_a, org_a, now=NOW)
    sql = "UPDATE cases_caseevent SET after = '{}' WHERE case_id = %s"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [case.pk])
    with scopes_disabled():
        assert CaseEvent.unscoped.get(case=case).after["sub_status"] == "new"


def test_deleting_a_case_still_removes_its_history(org_a, dc_a):
    # The guard is on changing the history, not on removing a case with it.
    case = open_case(dc_a, org_a, now=NOW)
    with scopes_disabled():
        Case.unscoped.filter(pk=case.pk).first().updates.all().delete()
        Case.unscoped.get(pk=case.pk).delete()
        assert not CaseEvent.unscoped.filter(case_id=case.pk).exists()


def test_a_whole_lifecycle_leaves_a_complete_history(org_a, dc_a, analyst):
    # DOMAIN C-16
    case = open_case(dc_a, org_a, now=NOW)
    steps = [
        ("take", analyst),
        ("request_info", analyst),
        ("respond", dc_a),
        ("propose_solution", analyst),
        ("confirm", dc_a),
        ("close", dc_a),
        ("reopen", dc_a),
    ]
    for minutes, (action, actor) in enumerate(steps, start=1):
        fire(action, case, actor, now=NOW + timedelta(minutes=minutes))

    with scopes_disabled():
        transitions = list(
            CaseEvent.unscoped.filter(case=case, kind="transition")
            .order_by("created_at", "id")
            .values_list("before__sub_status", "after__sub_status", "actor")
        )
    assert transitions == [
        ("new", "investigation", analyst.pk),
        ("investigation", "info_required", analyst.pk),
        ("info_required", "customer_responded", dc_a.pk),
        ("customer_responded", "solution_proposed", analyst.pk),
        ("solution_proposed", "problem_resolved", dc_a.pk),
        ("problem_resolved", "resolved", dc_a.pk),
        ("resolved", "customer_responded", dc_a.pk),
    ]


# --- concurrency (PostgreSQL row locks) --------------------------------------------------


@pytest.fixture
def quiet_broker():
    with mock.patch("config.celery.app.send_task") as apply_async:
        yield apply_async


@pytest.mark.parametrize(
    ("source", "first", "second"),
    [
        ("new", ("take", "analyst"), ("take", "manager")),
        ("solution_proposed", ("close", "dc_a"), ("resolve", "analyst")),
        ("investigation", ("request_info", "analyst"), ("propose_solution", "manager")),
    ],
)
@postgres_only
def test_conflicting_transitions_at_once_one_wins(
    request, quiet_broker, org_a, dc_a, source, first, second
):
    # DOMAIN C-8, C-16
    case = make_case(org_a, dc_a, source)
    actors = {name: request.getfixturevalue(name) for name in {first[1], second[1]}}

    def call(action: str, who: str) -> Callable[[], object]:
        return lambda: fire(action, case, actors[who])

    results = race(call(*first), call(*second))

    conflicts = [r for r in results if isinstance(r, Conflict)]
    others = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not others, others
    assert len(conflicts) == 1
    with scopes_disabled():
        assert CaseEvent.unscoped.filter(case_id=case.pk, kind="transition").count() == 1
        assert OutboxEmail.unscoped.filter(case_id=case.pk).count() == 1
    winner = next(r for r in results if isinstance(r, Case))
    assert reload(case).sub_status == winner.sub_status


@postgres_only
def test_two_customer_updates_at_once_respond_once(quiet_broker, org_a, dc_a):
    # DOMAIN C-8, C-9
    case = make_case(org_a, dc_a, "info_required")

    results = race(lambda: fire("respond", case, dc_a), lambda: fire("respond", case, dc_a))

    assert all(isinstance(r, CaseUpdate) for r in results), results
    with scopes_disabled():
        assert CaseUpdate.unscoped.filter(case_id=case.pk).count() == 2
        assert CaseEvent.unscoped.filter(case_id=case.pk, kind="transition").count() == 1
    assert reload(case).sub_status == "customer_responded"


@postgres_only
def test_cases_opened_at_once_get_distinct_numbers(quiet_broker, org_a, dc_a):
    # DOMAIN C-1
    results = race(*[lambda: open_case(dc_a, org_a, now=NOW) for _ in range(4)])

    assert all(isinstance(r, Case) for r in results), results
    assert len({r.number for r in results}) == 4


def test_service_is_atomic_with_its_caller(org_a, dc_a, analyst):
    # DOMAIN N-5, C-16: a caller's rollback takes the whole change with it
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with scopes_disabled(), pytest.raises(RuntimeError), transaction.atomic():
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)
        raise RuntimeError("the view failed after the service")

    assert snapshot(case) == state
