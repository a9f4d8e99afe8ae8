"""Who may do what with a case (T-4, T-5, C-8, C-12). The actions that the registry's
``available_actions`` offers are exactly the ones the services accept: the case page and the
API show buttons that work, and no others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction

from cases import policy
from cases.actions import CASE_ACTIONS, Who, available_actions, case_actions_for
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
    """Each action of the registry, run as the API and the care workspace run it."""

    def run(name: str, data: Callable[[Case], dict] = lambda c: {}) -> Callable[[Case], object]:
        return lambda c: CASE_ACTIONS[name].run(
            case=c, actor=actor, data=data(c), channel=Channel.API, now=NOW
        )

    samples = {
        "post-update": lambda c: {"body": "Any news?"},
        "reopen": lambda c: {"reason": "Back again."},
        "request-info": lambda c: {"body": "Logs, please."},
        "propose-solution": lambda c: {"body": "Try this."},
        "deliver-rca": lambda c: {"body": "Root cause."},
        "set-priority": lambda c: {"priority": "critical"},
        "change-fields": lambda c: {
            "deployment": DeploymentFactory(organization=c.organization).pk
        },
        "assign": lambda c: {"owner": UserFactory(is_staff=True, is_superuser=True)},
    }
    return {name: run(name, samples.get(name, lambda c: {})) for name in CASE_ACTIONS}


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

    offered = set(available_actions(actor, reload(case), NOW))
    # each side has its own actions: a customer's "close" covers cancelling (C-11)
    names = [a.name for a in case_actions_for(Who.CARE if actor.is_staff else Who.CUSTOMER)]
    calls = _wire_calls(actor)
    accepted = {name for name in names if _accepted(calls[name], reload(case), actor)}

    assert offered == accepted
    assert reload(case).sub_status == sub_status


@pytest.mark.parametrize(("days", "offered"), [(29, True), (31, False)])
def test_reopen_is_offered_within_thirty_days(org_a, dc_a, days, offered):
    # DOMAIN C-12
    case = make_case(org_a, dc_a, "resolved")
    now = reload(case).closed_at + timedelta(days=days)

    assert ("reopen" in available_actions(dc_a, reload(case), now)) is offered


def test_read_only_sees_no_actions(org_a, dc_a, ro_a):
    # DOMAIN T-4
    for sub_status in SUB_STATUSES:
        case = make_case(org_a, dc_a, sub_status)
        assert available_actions(ro_a, case, NOW) == []


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
