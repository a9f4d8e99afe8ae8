"""Care corrects a case's deployment or cloud service (C-16), from the services, the care
workspace and the API."""

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseEvent, CloudService
from core.errors import Conflict, InvalidInput, NotAllowed
from core.tenancy import scopes_disabled
from tests.cases import NOW, acting_as, make_case, reload
from tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db


def test_care_moves_a_case_to_another_deployment_and_service(org_a, dc_a, analyst):
    # DOMAIN C-16: the change is in the history with before and after.
    case = make_case(org_a, dc_a, "investigation")
    other = DeploymentFactory(organization=org_a)
    routing = CloudService.objects.get(slug="routing")
    with acting_as(analyst):
        services.case_change_fields(
            case=case,
            actor=analyst,
            deployment_id=other.pk,
            service_slug="routing",
            channel="admin",
            now=NOW,
        )
    case = reload(case)
    assert (case.deployment_id, case.service_id) == (other.pk, routing.pk)
    assert case.product_group_id == routing.product_group_id
    with scopes_disabled():
        event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.FIELDS)
    assert event.after == {"deployment": other.pk, "service": routing.pk}
    assert event.actor == analyst


def test_deployment_of_another_organization_is_refused_and_nothing_changes(
    org_a, org_b, dc_a, analyst
):
    # DOMAIN T-6
    case = make_case(org_a, dc_a, "investigation")
    foreign = DeploymentFactory(organization=org_b)
    with acting_as(analyst), pytest.raises(InvalidInput) as caught:
        services.case_change_fields(
            case=case, actor=analyst, deployment_id=foreign.pk, channel="admin", now=NOW
        )
    assert "deployment" in caught.value.errors
    assert reload(case).deployment_id == case.deployment_id
    with scopes_disabled():
        assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FIELDS).exists()


def test_customers_cannot_change_fields_and_closed_cases_cannot_change(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a, "investigation")
    with acting_as(dc_a), pytest.raises(NotAllowed):
        services.case_change_fields(
            case=case, actor=dc_a, service_slug="ivr", channel="portal", now=NOW
        )
    closed = make_case(org_a, dc_a, "resolved")
    with acting_as(analyst), pytest.raises(Conflict):
        services.case_change_fields(
            case=closed, actor=analyst, service_slug="ivr", channel="admin", now=NOW
        )


def test_admin_form_changes_fields_through_the_service(client, analyst, org_a, dc_a):
    case = make_case(org_a, dc_a, "investigation")
    other = DeploymentFactory(organization=org_a)
    client.force_login(analyst)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "Correct deployment or service" in page
    response = client.post(
        reverse("admin:cases_case_act", args=[case.pk, "change-fields"]),
        {"deployment": other.pk, "service": "ivr", "organization_id": org_a.pk},
    )
    assert response.status_code == 302
    assert reload(case).deployment_id == other.pk


def test_api_change_fields_for_staff_only(client, analyst, dc_a, org_a):
    case = make_case(org_a, dc_a, "investigation")
    url = reverse("api:case-change-fields", args=[case.number])
    client.force_login(dc_a)
    assert client.post(url, {"service": "ivr"}, content_type="application/json").status_code == 403
    client.force_login(analyst)
    assert client.post(url, {}, content_type="application/json").status_code == 400
    response = client.post(url, {"service": "ivr"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["service"] == "ivr"
