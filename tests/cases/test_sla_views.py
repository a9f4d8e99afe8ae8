"""Service levels where people see them: the case page's panel and the API's ``sla`` block
(S-1 … S-8, B-5), the care workspace's "next due" column and "at risk / breached" queue,
and the recomputation that care's changes to an organization trigger (S-5, B-1)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Organization, SupportLevel
from accounts.selectors import business_calendar_for
from cases import services
from cases.models import Case, Channel, SlaState
from cases.sla import sla_sweep, targets_for
from core import business_time
from core.tenancy import scopes_disabled
from tests.accounts.test_admin import form_data
from tests.cases import acting_as, reload
from tests.factories import BusinessCalendarFactory, open_case

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 3, 2, 10, tzinfo=BERLIN)


@pytest.fixture
def berlin(org_a):
    with scopes_disabled():
        return BusinessCalendarFactory(organization=org_a)


def api_case(user, case: Case) -> dict:
    client = APIClient()
    client.force_login(user)
    response = client.get(f"/api/v1/cases/{case.display_number}/")
    assert response.status_code == 200
    return response.json()


def page(client, user, case: Case) -> str:
    client.force_login(user)
    response = client.get(reverse("cases:detail", args=[case.number]))
    assert response.status_code == 200
    return response.content.decode()


def set_level(organization: Organization, level: str) -> None:
    Organization.objects.filter(pk=organization.pk).update(support_level=level)


# --- the API ----------------------------------------------------------------------------------


def test_api_detail_has_the_sla_block(berlin, org_a, dc_a):
    # DOMAIN S-2, S-3, S-8, B-4: stored due times, in UTC on the wire.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    sla = api_case(dc_a, case)["sla"]

    assert sla == {
        "response_due_at": "2026-03-02T11:00:00Z",
        "response_met": None,
        "resolution_due_at": "2026-03-04T09:00:00Z",
        "resolution_met": None,
        "paused": False,
        "paused_since": None,
    }


def test_api_sla_block_when_paused_and_met(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    with acting_as(analyst):
        services.case_request_info(
            case=case,
            actor=analyst,
            body="Logs please",
            channel=Channel.ADMIN,
            now=datetime(2026, 3, 2, 11, tzinfo=BERLIN),
        )

    sla = api_case(dc_a, case)["sla"]

    assert sla["response_met"] is True
    assert sla["resolution_due_at"] is None
    assert (sla["paused"], sla["paused_since"]) == (True, "2026-03-02T10:00:00Z")


def test_api_sla_block_has_no_response_for_a_care_organization(berlin, org_a, dc_a, analyst):
    # DOMAIN S-5: not shown, not measured.
    set_level(org_a, SupportLevel.CARE)
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    for user in (dc_a, analyst):
        sla = api_case(user, case)["sla"]
        assert (sla["response_due_at"], sla["response_met"]) == (None, None)
        assert sla["resolution_due_at"] == "2026-03-04T09:00:00Z"


def test_api_sla_block_is_null_where_no_target_applies(berlin, org_a, dc_a):
    # DOMAIN S-1
    case = open_case(
        dc_a,
        org_a,
        now=MONDAY_10,
        type="admin",
        sub_type="question",
        service_slug=None,
        implementation_stage="",
    )

    assert api_case(dc_a, case)["sla"] == {
        "response_due_at": None,
        "response_met": None,
        "resolution_due_at": None,
        "resolution_met": None,
        "paused": False,
        "paused_since": None,
    }


def test_schema_documents_the_sla_block():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]

    assert "sla" in components["schemas"]["CaseDetail"]["properties"]
    assert set(components["schemas"]["Sla"]["properties"]) == {
        "response_due_at",
        "response_met",
        "resolution_due_at",
        "resolution_met",
        "paused",
        "paused_since",
    }


# --- the case page ----------------------------------------------------------------------------


def test_case_page_shows_targets_in_the_users_time_zone(client, berlin, org_a, dc_a, ro_a):
    # DOMAIN S-8, B-5: due 11:00 UTC is 06:00 in New York for a user who chose that zone;
    # the read-only user without a zone sees the organization's (Berlin).
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    dc_a.time_zone = "America/New_York"
    dc_a.save(update_fields=["time_zone"])

    html = page(client, dc_a, case)
    assert 'data-testid="sla-panel"' in html
    assert "Service levels" in html and "First response" in html and "Resolution" in html
    assert "2 Mar 2026 06:00 EST" in html
    assert "Target: 2 business hours" in html
    assert "/cases/reports/service-levels/?organization=org-a" in html

    html = page(client, ro_a, case)
    assert "2 Mar 2026 12:00 CET" in html
    assert "/cases/reports/service-levels/" not in html  # reports are for designated contacts


def test_case_page_shows_met_and_paused(client, berlin, org_a, dc_a, analyst):
    # DOMAIN S-2, S-3
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    with acting_as(analyst):
        services.case_request_info(
            case=case,
            actor=analyst,
            body="Logs please",
            channel=Channel.ADMIN,
            now=datetime(2026, 3, 2, 11, tzinfo=BERLIN),
        )

    html = page(client, dc_a, case)

    assert 'data-testid="sla-response-met"' in html
    assert "Paused since" in html and "2 Mar 2026 11:00 CET" in html
    assert "15 business hours left" in html


def test_case_page_of_a_care_organization_has_no_response_target(client, berlin, org_a, dc_a):
    # DOMAIN S-5
    set_level(org_a, SupportLevel.CARE)
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    html = page(client, dc_a, case)

    assert "First response" not in html
    assert "has no response target" in html
    assert 'data-testid="sla-resolution"' in html


def test_case_page_says_when_no_target_applies(client, berlin, org_a, dc_a):
    # DOMAIN S-1
    case = open_case(
        dc_a, org_a, now=MONDAY_10, type="data_privacy", sub_type="", implementation_stage=""
    )

    assert "No service-level targets apply to Data Privacy Request cases." in page(
        client, dc_a, case
    )


# --- the care workspace -----------------------------------------------------------------------


CHANGELIST = "/admin/cases/case/"


def test_case_list_shows_the_next_due_time_and_the_state(client, berlin, org_a, dc_a, analyst):
    # DOMAIN S-6, S-8
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    sla_sweep(now=datetime(2026, 3, 2, 11, 45, tzinfo=BERLIN))
    client.force_login(analyst)

    html = client.get(CHANGELIST).content.decode()

    assert "Next due" in html
    assert "2 Mar 11:00 · at risk" in html  # the workspace shows UTC
    assert reload(case).sla_state == SlaState.AT_RISK


def test_at_risk_queue_lists_open_cases_at_risk_or_breached_soonest_first(
    client, berlin, org_a, org_b, dc_a, dc_b, analyst
):
    # DOMAIN S-6
    with scopes_disabled():
        BusinessCalendarFactory(organization=org_b)
    breached = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    at_risk = open_case(
        dc_b, org_b, now=datetime(2026, 3, 2, 10, 50, tzinfo=BERLIN), priority="high"
    )
    calm = open_case(dc_a, org_a, now=datetime(2026, 3, 2, 12, 50, tzinfo=BERLIN), priority="low")
    closed = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    sla_sweep(now=datetime(2026, 3, 2, 12, 30, tzinfo=BERLIN))
    with acting_as(dc_a):
        services.case_close(
            case=reload(closed),
            actor=dc_a,
            channel=Channel.PORTAL,
            now=datetime(2026, 3, 2, 12, 40, tzinfo=BERLIN),
        )
    client.force_login(analyst)

    response = client.get(f"{CHANGELIST}?queue=sla")

    assert response.status_code == 200
    listed = [c.pk for c in response.context["cl"].result_list]
    assert listed == [breached.pk, at_risk.pk]
    assert calm.pk not in listed
    home = client.get(reverse("admin:cases_case_home"))
    assert {row["queue"].key: row["count"] for row in home.context["queues"]}["sla"] == 2


def test_case_page_in_the_workspace_shows_the_service_levels(client, berlin, org_a, dc_a, analyst):
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    client.force_login(analyst)

    html = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()

    assert "Service levels" in html and "Response due at" in html


# --- care's changes to an organization recompute its open cases (S-5, B-1, S-8) ---------------


def test_changing_the_support_level_in_the_admin_recomputes_due_times(client, manager, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    url = reverse("admin:accounts_organization_change", args=[org_a.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    data["support_level"] = SupportLevel.PREMIUM

    response = client.post(url, data)

    assert response.status_code == 302
    case = reload(case)
    fast = targets_for(case_type="support", priority="medium", support_level="PREMIUM")
    assert case.response_due_at == fast.response.due(business_calendar_for(org_a), case.opened_at)


def test_adding_a_closed_day_in_the_admin_recomputes_due_times(client, manager, org_a, dc_a):
    with scopes_disabled():
        calendar = BusinessCalendarFactory(
            organization=org_a, holiday_country="", holiday_subdivision=""
        )
    now = timezone.now()
    case = reload(open_case(dc_a, org_a, now=now, priority="low"))
    before = case.resolution_due_at
    url = reverse("admin:accounts_businesscalendar_change", args=[calendar.pk])
    client.force_login(manager)
    data = form_data(client.get(url))
    # Close the first business day after the opening: the 10-business-day target moves.
    calendar_now = business_calendar_for(org_a)
    day = business_time.next_business_day(
        calendar_now, business_time.to_local(calendar_now, now).date()
    )
    data.update(
        {
            "closures-TOTAL_FORMS": 1,
            "closures-0-day": day.isoformat(),
            "closures-0-reason": "Office move",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    assert reload(case).resolution_due_at > before
