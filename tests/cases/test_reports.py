"""Service-level reports (S-6): per organization and month, the share of responses and
resolutions within target against the 80% goal and the open cases at risk or breached; one
aggregate query; for care in the workspace (every organization) and for designated contacts
in the portal (their organizations only); exported to .xlsx with no formulas."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AccessLevel, Organization
from cases import services
from cases.models import Case, Channel
from cases.reports import ReportRow, report_period, sla_report, write_report_xlsx
from cases.sla import sla_sweep
from core.audit.models import AuditLogEntry
from core.errors import InvalidInput
from core.tenancy import scopes_disabled
from tests.cases import acting_as, reload
from tests.cases.test_export import excel_datetime, read_sheet
from tests.factories import (
    BusinessCalendarFactory,
    DeploymentFactory,
    MembershipFactory,
    OrganizationFactory,
    member_of,
    open_case,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = report_period("2026-03", now=datetime(2026, 3, 20, tzinfo=UTC))
SPRING = report_period(None, now=datetime(2026, 3, 20, tzinfo=UTC))  # Apr 2025 – Mar 2026


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def care(action: str, case: Case, actor, at: datetime, **kwargs) -> Case:
    with acting_as(actor):
        getattr(services, action)(
            case=reload(case), actor=actor, channel=Channel.ADMIN, now=at, **kwargs
        )
    return reload(case)


@pytest.fixture
def world(org_a, org_b, dc_a, dc_b, analyst):
    """Org A (Berlin): in February one LOW case answered in time, still open and past its
    resolution due time; in March a case that met both targets, one that missed both, one
    unanswered and at risk, and an Admin case (no targets). Org B (UTC): in March one HIGH
    case whose response is breached."""
    with scopes_disabled():
        BusinessCalendarFactory(organization=org_a)
    feb = open_case(dc_a, org_a, now=berlin(2026, 2, 2, 10), priority="low")
    care("case_take", feb, analyst, berlin(2026, 2, 2, 11))
    good = open_case(dc_a, org_a, now=berlin(2026, 3, 2, 10), priority="high")
    care("case_take", good, analyst, berlin(2026, 3, 2, 10, 30))
    care("case_propose_solution", good, analyst, berlin(2026, 3, 3, 10), body="Fix")
    late = open_case(dc_a, org_a, now=berlin(2026, 3, 2, 10), priority="high")
    care("case_take", late, analyst, berlin(2026, 3, 2, 13))
    care("case_propose_solution", late, analyst, berlin(2026, 3, 5, 10), body="Fix")
    waiting = open_case(dc_a, org_a, now=berlin(2026, 3, 2, 10), priority="medium")
    open_case(
        dc_a,
        org_a,
        now=berlin(2026, 3, 2, 10),
        type="admin",
        sub_type="question",
        service_slug=None,
        implementation_stage="",
    )
    breached = open_case(dc_b, org_b, now=datetime(2026, 3, 2, 10, tzinfo=UTC), priority="high")
    # 13:00 in Berlin: Org A's MEDIUM response (due 14:00) is at risk; Org B's HIGH
    # response (due 12:00 UTC) is breached.
    sla_sweep(now=berlin(2026, 3, 2, 13))
    return {"waiting": waiting, "breached": breached}


EXPECTED = [
    # organization, month, cases, response measured/met, resolution measured/met, risk, breached
    ("Org A", date(2026, 2, 1), 1, 1, 1, 0, 0, 0, 1),
    ("Org A", date(2026, 3, 1), 3, 2, 1, 2, 1, 1, 0),
    ("Org B", date(2026, 3, 1), 1, 0, 0, 0, 0, 0, 1),
]


def as_tuples(rows: list[ReportRow]) -> list[tuple]:
    return [
        (
            r.organization,
            r.month,
            r.cases,
            r.response_measured,
            r.response_met,
            r.resolution_measured,
            r.resolution_met,
            r.at_risk,
            r.breached,
        )
        for r in rows
    ]


# --- the report ---------------------------------------------------------------------------------


def test_report_per_organization_and_month(world):
    # DOMAIN S-6
    with scopes_disabled():
        rows = sla_report(cases=Case.objects.all(), period=SPRING)

    assert as_tuples(rows) == EXPECTED
    march_a = rows[1]
    assert march_a.response_share == 0.5 and march_a.response_goal_met is False
    assert rows[0].response_share == 1.0 and rows[0].response_goal_met is True
    assert rows[0].resolution_share is None and rows[0].resolution_goal_met is None


def test_one_month(world):
    with scopes_disabled():
        rows = sla_report(cases=Case.objects.all(), period=MARCH)

    assert [(r.organization, r.month) for r in rows] == [
        ("Org A", date(2026, 3, 1)),
        ("Org B", date(2026, 3, 1)),
    ]


@pytest.mark.parametrize(("met", "measured", "goal"), [(4, 5, False), (5, 6, True), (9, 10, True)])
def test_the_goal_is_over_80_percent(met, measured, goal):
    # DOMAIN S-6: "over 80%": exactly 80% is not enough.
    row = ReportRow(1, "Org", date(2026, 3, 1), measured, measured, met, measured, met, 0, 0)

    assert row.response_goal_met is goal and row.resolution_goal_met is goal


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3", "0999-01", "2026-03-01"])
def test_a_bad_month_is_refused_with_a_message(month):
    with pytest.raises(InvalidInput) as caught:
        report_period(month, now=datetime(2026, 3, 20, tzinfo=UTC))

    assert "YYYY-MM" in caught.value.message


def test_the_report_is_one_query_however_many_organizations(world, dc_a, analyst):
    def count() -> tuple[int, int]:
        with scopes_disabled(), CaptureQueriesContext(connection) as queries:
            rows = sla_report(cases=Case.objects.all(), period=SPRING)
        return len(queries), len(rows)

    few = count()
    for i in range(10):
        with scopes_disabled():
            org = OrganizationFactory(slug=f"extra-{i}")
            DeploymentFactory(organization=org)
        contact = member_of(org, AccessLevel.DESIGNATED_CONTACT, f"dc{i}@extra.example")
        open_case(contact, org, now=berlin(2026, 3, 2 + i % 3, 10), priority="high")

    many = count()
    assert few == (1, 3)
    assert many == (1, 13)


# --- the spreadsheet ------------------------------------------------------------------------------


def test_xlsx_has_the_rows_as_numbers_and_dates_and_never_formulas(tmp_path):
    rows = [
        ReportRow(1, '=HYPERLINK("http://evil")', date(2026, 3, 1), 6, 5, 4, 4, 4, 1, 2),
        ReportRow(2, "Org B", date(2026, 3, 1), 1, 0, 0, 0, 0, 0, 1),
    ]
    target = tmp_path / "report.xlsx"

    write_report_xlsx(rows, str(target))

    values, _cells, xml = read_sheet(target.read_bytes())
    assert values[0][:3] == ["Organization", "Month", "Cases with a target"]
    first = values[1]
    assert first[0] == '=HYPERLINK("http://evil")'
    assert excel_datetime(first[1]).date() == date(2026, 3, 1)
    assert first[2:] == [6.0, 5.0, 4.0, 0.8, "Not met", 4.0, 4.0, 1.0, "Met", 1.0, 2.0]
    assert values[2][3:7] == [0.0, 0.0, None, None]
    assert b"<f>" not in xml


# --- the customer portal (designated contacts) -------------------------------------------------


URL = "/cases/reports/service-levels/"


def test_designated_contact_sees_only_their_organizations(client, world, dc_a):
    # DOMAIN S-6, T-6
    client.force_login(dc_a)

    response = client.get(URL, {"month": "2026-03"})

    assert response.status_code == 200
    assert as_tuples(response.context["rows"]) == [EXPECTED[1]]
    html = response.content.decode()
    assert "Org A" in html and "Org B" not in html
    assert "50%" in html and "Below goal" in html


def test_another_tenants_organization_is_not_found(client, world, dc_a):
    # DOMAIN T-6
    client.force_login(dc_a)

    assert client.get(URL, {"organization": "org-b"}).status_code == 404
    assert client.get(URL, {"organization": "nope"}).status_code == 404


@pytest.mark.parametrize("user", ["ro_a", "basic_a"])
def test_read_only_and_basic_users_are_refused(request, client, world, user):
    # DOMAIN T-4: reports are for designated contacts.
    client.force_login(request.getfixturevalue(user))

    assert client.get(URL).status_code == 403
    assert client.get(URL + "export.xlsx").status_code == 403


def test_an_organization_seen_read_only_is_refused(client, world, dc_a, org_b):
    # DOMAIN T-4: a designated contact of A who only reads B's cases.
    with scopes_disabled():
        MembershipFactory(user=dc_a, organization=org_b, access_level=AccessLevel.READ_ONLY)
    client.force_login(dc_a)

    assert client.get(URL, {"organization": "org-b"}).status_code == 403
    response = client.get(URL, {"month": "2026-03"})
    assert [r.organization for r in response.context["rows"]] == ["Org A"]


def test_reseller_contact_reports_on_their_end_users(client, world, reseller_dc, end_user_org):
    # DOMAIN T-8
    open_case(reseller_dc, end_user_org, now=berlin(2026, 3, 2, 10), priority="high")
    client.force_login(reseller_dc)

    response = client.get(URL, {"month": "2026-03", "organization": "end-user"})

    assert response.status_code == 200
    assert [r.organization for r in response.context["rows"]] == ["End User Inc"]


def test_a_bad_month_shows_the_message_and_no_rows(client, world, dc_a):
    client.force_login(dc_a)

    response = client.get(URL, {"month": "2026-13"})

    assert response.status_code == 400
    assert "Give the month as YYYY-MM" in response.content.decode()
    assert response.context["rows"] == []


def test_portal_export_is_the_same_rows(client, world, dc_a):
    client.force_login(dc_a)

    response = client.get(URL + "export.xlsx", {"month": "2026-03"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "service-levels-all-2026-03.xlsx" in response["Content-Disposition"]
    values, _, _ = read_sheet(response.content)
    assert [row[0] for row in values[1:]] == ["Org A"]
    assert values[1][2] == 3.0


def test_portal_report_query_count_does_not_grow_with_rows(client, world, dc_a, analyst):
    client.force_login(dc_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    client.get(URL)
    before = count()
    for day in range(3, 20):
        open_case(dc_a, Organization.objects.get(slug="org-a"), now=berlin(2025, 12, day, 10))

    assert count() == before


def test_care_is_sent_to_the_workspace_report(client, world, analyst):
    client.force_login(analyst)

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_case_sla_report")


# --- the care workspace ---------------------------------------------------------------------------


ADMIN_URL = "/admin/cases/case/service-levels/"


def test_care_sees_every_organization_and_filters(client, world, analyst, org_b):
    # DOMAIN S-6, T-5
    client.force_login(analyst)

    response = client.get(ADMIN_URL, {"month": "2026-03"})
    assert response.status_code == 200
    assert as_tuples(response.context["rows"]) == EXPECTED[1:]

    response = client.get(ADMIN_URL, {"month": "2026-03", "organization": org_b.pk})
    assert as_tuples(response.context["rows"]) == EXPECTED[2:]
    assert AuditLogEntry.objects.filter(model="cases.sla_report", organization=org_b).exists()


def test_care_report_refuses_bad_filters(client, world, analyst):
    client.force_login(analyst)

    response = client.get(ADMIN_URL, {"month": "03/2026", "organization": "x"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the month as YYYY-MM" in html
    assert "Choose an organization from the list." in html


def test_care_export(client, world, analyst):
    client.force_login(analyst)

    response = client.get(ADMIN_URL + "export.xlsx", {"month": "2026-03"})

    assert response.status_code == 200
    values, _, _ = read_sheet(response.content)
    assert [row[0] for row in values[1:]] == ["Org A", "Org B"]
    assert AuditLogEntry.objects.filter(model="cases.sla_report", action="download").exists()


@pytest.mark.parametrize("user", ["product_manager", "dc_a"])
def test_care_report_is_for_care(request, client, world, user):
    client.force_login(request.getfixturevalue(user))

    response = client.get(ADMIN_URL)

    assert response.status_code in (302, 403)
    assert "rows" not in (response.context or {})


def test_care_report_query_count_does_not_grow_with_organizations(client, world, analyst):
    client.force_login(analyst)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ADMIN_URL, {"month": "2026-03"}).status_code == 200
        return len(queries)

    client.get(ADMIN_URL)
    before = count()
    for i in range(5):
        with scopes_disabled():
            org = OrganizationFactory(slug=f"more-{i}")
            DeploymentFactory(organization=org)
        contact = member_of(org, AccessLevel.DESIGNATED_CONTACT, f"dc{i}@more.example")
        open_case(contact, org, now=berlin(2026, 3, 2, 10), priority="high")

    assert count() == before
    assert reload(world["breached"]).sla_state == "breached"
