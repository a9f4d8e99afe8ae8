"""Follow-up timers in the care workspace: visible to care, read-only, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.audit.models import AuditLogEntry
from followups.sweep import followup_sweep
from tests.cases import NOW, make_case
from tests.followups.helpers import (
    R1,
    ask,
    timers,
)

CHANGELIST = reverse("admin:followups_followuptimer_changelist")


@pytest.fixture
def timer(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW)
    followup_sweep(now=R1)
    return timers(case)[0]


@pytest.mark.parametrize("role", ["analyst", "manager"])
def test_care_sees_timers_and_their_steps(request, client, timer, role):
    # DOMAIN T-5, F-7
    client.force_login(request.getfixturevalue(role))

    listing = client.get(CHANGELIST, {"state": "running"})
    page = client.get(reverse("admin:followups_followuptimer_change", args=[timer.pk]))

    assert listing.status_code == 200
    assert timer.case.display_number in listing.content.decode()
    assert page.status_code == 200
    assert "First reminder" in page.content.decode()
    assert AuditLogEntry.objects.filter(model="followups.followuptimer").exists()


def test_timers_cannot_be_changed_in_the_workspace(client, timer, manager):
    # DOMAIN F-6: only the services and the sweep change timers
    client.force_login(manager)

    response = client.post(
        reverse("admin:followups_followuptimer_change", args=[timer.pk]), {"steps_done": 0}
    )

    assert response.status_code == 403
    assert timers(timer.case)[0].steps_done == 1
    assert client.get(reverse("admin:followups_followuptimer_add")).status_code == 403


def test_product_managers_do_not_see_timers(client, timer, product_manager):
    # DOMAIN T-5
    client.force_login(product_manager)

    assert client.get(CHANGELIST).status_code == 403
