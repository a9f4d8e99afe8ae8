"""Who may do what with a case (T-4, T-5, C-8, C-12). The actions that ``available_actions``
offers are exactly the ones the services accept: the case page and the API show buttons
that work, and no others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction

from cases import policy, services
from cases.models import Case, Channel
from core.errors import DomainError
from tests.cases import NOW, acting_as, make_case, reload
from tests.factories import DeploymentFactory, UserFactory

pytestmark = pytest.mark.django_db

SUB_STATUSES = [
    "new",
    "investigation",
    "customer_responded",
    "info_required",
    "pending_permanent_solution",
    "pending_rca",
    "solution_proposed",
    "problem_resolved",
    "cancelled",
    "resolved",
    "redirected",
]


def _wire_calls(actor) -> dict[str, Callable[[Case], object]]:
    """Each wire action name and the service call behind it (as the API maps them)."""
    s = services
    ch = Channel.API
    return {
        "post-update": lambda c: s.case_post_update(
            case=c, actor=actor, body="Any news?", channel=ch, now=NOW
        ),
        "confirm": lambda c: s.case_confirm_solution(case=c, actor=actor, channel=ch, now=NOW),
        "close": lambda c: s.case_close(case=c, actor=actor, channel=ch, now=NOW),
        "reopen": lambda c: s.case_reopen(
            case=c, actor=actor, reason="Back again.", channel=ch, now=NOW
        ),
        "take": lambda c: s.case_take(case=c, actor=actor, channel=ch, now=NOW),
        "request-info": lambda c: s.case_request_info(
            case=c, actor=actor, body="Logs, please.", channel=ch, now=NOW
        ),
        "propose-solution": lambda c: s.case_propose_solution(
            case=c, actor=actor, body="Try this.", channel=ch, now=NOW
        ),
        "restore-service": lambda c: s.case_restore_service(
            case=c, actor=actor, channel=ch, now=NOW
        ),
        "deliver-rca": lambda c: s.case_deliver_rca(
            case=c, actor=actor, body="Root cause.", channel=ch, now=NOW
        ),
        "resolve": lambda c: s.case_resolve(case=c, actor=actor, channel=ch, now=NOW),
        "cancel": lambda c: s.case_cancel(case=c, actor=actor, channel=ch, now=NOW),
        "redirect": lambda c: s.case_redirect(case=c, actor=actor, channel=ch, now=NOW),
        "convert-to-incident": lambda c: s.case_convert_to_incident(
            case=c, actor=actor, channel=ch, now=NOW
        ),
        "set-priority": lambda c: s.case_change_priority(
            case=c, actor=actor, priority="critical", channel=ch, now=NOW
        ),
        "change-fields": lambda c: s.case_change_fields(
            case=c,
            actor=actor,
            deployment_id=DeploymentFactory(organization=c.organization).pk,
            channel=ch,
            now=NOW,
        ),
        "assign": lambda c: s.case_assign(
            case=c,
            actor=actor,
            owner=UserFactory(is_staff=True, is_superuser=True),
            channel=ch,
            now=NOW,
        ),
    }


class _Undo(Exception):
    pass


def _accepted(call: Callable[[Case], object], case: Case, actor) -> bool:
    """Whether the service accepts the call; whatever it did is rolled back."""
    try:
        with acting_as(actor), transaction.atomic():
            call(case)
            raise _Undo
    except _Undo:
        return True
    except DomainError:
        return False


@pytest.mark.parametrize("sub_status", SUB_STATUSES)
@pytest.mark.parametrize("who", ["dc_a", "ro_a", "basic_a", "dc_b", "analyst", "product_manager"])
@pytest.mark.parametrize("type_", ["support", "service_request"])
def test_available_actions_are_exactly_what_the_services_accept(
    request, org_a, dc_a, who, sub_status, type_
):
    # DOMAIN C-8, T-4, T-5, T-6
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a, sub_status, type=type_)

    offered = set(policy.available_actions(actor, reload(case), NOW))
    # each side has its own wire names: a customer's "close" covers cancelling (C-11)
    names = policy.CARE_ACTIONS if actor.is_staff else policy.CUSTOMER_ACTIONS
    calls = _wire_calls(actor)
    accepted = {name for name in names if _accepted(calls[name], reload(case), actor)}

    assert offered == accepted
    assert reload(case).sub_status == sub_status


@pytest.mark.parametrize(("days", "offered"), [(29, True), (31, False)])
def test_reopen_is_offered_within_thirty_days(org_a, dc_a, days, offered):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, "resolved")
    now = reload(case).closed_at + timedelta(days=days)

    assert ("reopen" in policy.available_actions(dc_a, reload(case), now)) is offered


def test_read_only_sees_no_actions(org_a, dc_a, ro_a):
    # DOMAIN T-4
    for sub_status in SUB_STATUSES:
        case = make_case(org_a, dc_a, sub_status)
        assert policy.available_actions(ro_a, case, NOW) == []


@pytest.mark.parametrize(
    ("who", "care", "view", "designated"),
    [
        ("dc_a", False, True, True),
        ("ro_a", False, True, False),
        ("basic_a", False, False, False),
        ("dc_b", False, False, False),
        ("analyst", True, True, False),
        ("manager", True, True, False),
        ("product_manager", False, False, False),
    ],
)
def test_roles(request, org_a, dc_a, who, care, view, designated):
    # DOMAIN T-4, T-5, T-6
    actor = request.getfixturevalue(who)
    case = make_case(org_a, dc_a)

    assert policy.is_care(actor) is care
    assert policy.can_view(actor, case) is view
    assert policy.is_designated_contact(actor, case) is designated


def test_inactive_staff_are_not_care(analyst):
    # DOMAIN T-5
    analyst.is_active = False

    assert not policy.is_care(analyst)
