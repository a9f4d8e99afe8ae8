"""The API's case representations are written out by hand for speed; they must say exactly
what the declared serializer fields say (the fields also describe the OpenAPI schema)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cases.api.serializers import CaseDetailSerializer, CaseListSerializer
from cases.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(no_scope, org_a, dc_a, analyst):
    now = timezone.now()
    made = [
        CaseFactory(organization=org_a, contact=dc_a),
        CaseFactory(
            organization=org_a,
            contact=dc_a,
            owner=analyst,
            sub_status="info_required",
            priority="high",
            affected_count=120,
            external_reference="INC-7",
            escalated_at=now - timedelta(hours=3),
            response_due_at=now + timedelta(hours=2),
            resolution_due_at=now + timedelta(days=2),
        ),
        CaseFactory(
            organization=org_a,
            contact=dc_a,
            type="admin",
            sub_type="",
            implementation_stage="",
            service=None,
            sub_status="resolved",
            closure_reason="resolved",
        ),
        CaseFactory(
            organization=org_a,
            contact=dc_a,
            sub_status="solution_proposed",
            sla_paused_since=now - timedelta(hours=1),
            response_met=True,
        ),
    ]
    return list(
        Case.objects.filter(pk__in=[c.pk for c in made])
        .select_related("organization", "deployment", "service", "contact", "owner")
        .order_by("pk")
    )


def _context(user):
    request = RequestFactory().get("/api/v1/cases/", HTTP_HOST="testserver")
    request.user = user
    return {"request": request, "now": timezone.now()}


@pytest.mark.parametrize("serializer_class", [CaseListSerializer, CaseDetailSerializer])
@pytest.mark.parametrize("who", ["dc_a", "analyst"])
def test_written_out_representation_equals_the_declared_fields(
    request, cases, serializer_class, who
):
    user = request.getfixturevalue(who)
    for case in cases:
        serializer = serializer_class(case, context=_context(user))
        fast = serializer.to_representation(case)
        declared = serializer_class(case, context=_context(user)).declared_representation(case)
        assert fast == dict(declared), case.sub_status
        assert list(fast) == list(declared)


def test_a_list_uses_the_written_out_rows(cases, dc_a):
    data = CaseListSerializer(cases, many=True, context=_context(dc_a)).data
    assert [row["number"] for row in data] == [c.display_number for c in cases]
    assert data[2]["service"] is None
    assert data[1]["owner"] == cases[1].owner.get_full_name()
    assert data[1]["escalated_at"].endswith("Z")
