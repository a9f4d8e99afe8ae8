"""Staff looks at tenant data from the portal and the API are audited (T-5, T-6)."""

import pytest
from django.urls import reverse

from core.audit.models import AuditLogEntry
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_staff_viewing_a_case_page_or_api_detail_is_logged(client, analyst, dc_a, org_a):
    case = CaseFactory(organization=org_a, contact=dc_a)
    client.force_login(analyst)
    assert client.get(reverse("cases:detail", args=[case.number])).status_code == 200
    assert client.get(reverse("api:case-detail", args=[case.number])).status_code == 200
    rows = list(AuditLogEntry.objects.filter(actor=analyst, object_id=str(case.pk)))
    assert len(rows) == 2
    assert {r.organization_id for r in rows} == {org_a.pk}


def test_customers_are_not_audited(client, dc_a, org_a):
    case = CaseFactory(organization=org_a, contact=dc_a)
    client.force_login(dc_a)
    assert client.get(reverse("cases:detail", args=[case.number])).status_code == 200
    assert not AuditLogEntry.objects.exists()
