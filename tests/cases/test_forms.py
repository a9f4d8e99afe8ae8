"""The portal's case forms: they parse input and carry the services' errors to the fields;
the rules themselves are the services' (tested in test_services.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from cases.models import CloudService
from cases.web.forms import CaseOpenForm, CaseReopenForm, CaseUpdateForm, MultipleFileField
from core.tenancy import scopes_disabled
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def open_form(org, data=None, files=None, **kwargs) -> CaseOpenForm:
    with scopes_disabled():
        deployments = list(org.deployments.all())
    return CaseOpenForm(
        data,
        files,
        organizations=[org],
        deployments=deployments,
        services=list(CloudService.objects.all()),
        **kwargs,
    )


def options(form: CaseOpenForm, name: str) -> list[str]:
    return [value for value, _ in form.fields[name].widget.choices]


def test_multiple_file_field_returns_every_file_and_nothing_when_empty():
    field = MultipleFileField()
    one, two = SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")

    assert field.clean([one, two]) == [one, two]
    assert field.clean(one) == [one]
    assert field.clean(None) == []
    assert field.clean([]) == []


def test_open_form_offers_only_the_customer_types_and_priorities(org_a):
    # DOMAIN C-2, C-5: Incident and Feature Request are care's; Critical is care's.
    form = open_form(org_a)

    assert options(form, "type") == ["", "support", "service_request", "data_privacy", "admin"]
    assert [value for value, _ in form.fields["priority"].widget.choices] == [
        "high",
        "medium",
        "low",
    ]


@pytest.mark.parametrize(
    ("case_type", "sub_types"),
    [
        ("support", ["problem", "question"]),
        (
            "service_request",
            ["add_remove_access", "password_reset", "change_request", "new_project_request"],
        ),
        ("data_privacy", []),
        ("admin", ["question", "request", "problem"]),
    ],
)
def test_sub_types_follow_the_type(org_a, case_type, sub_types):
    # DOMAIN C-2
    form = open_form(org_a, initial={"type": case_type})

    assert options(form, "sub_type") == ["", *sub_types]
    assert form.shows_sub_type == bool(sub_types)
    assert form.shows_service == (case_type != "admin")
    assert form.shows_stage == (case_type == "support")


def test_affected_count_is_offered_for_problems_only(org_a):
    # DOMAIN C-4
    assert open_form(org_a, initial={"type": "support", "sub_type": "problem"}).shows_affected_count
    assert not open_form(
        org_a, initial={"type": "support", "sub_type": "question"}
    ).shows_affected_count
    assert not open_form(org_a, initial={"type": "service_request"}).shows_affected_count


def test_a_single_organization_is_a_hidden_field(org_a, org_b):
    single = open_form(org_a)
    with scopes_disabled():
        several = CaseOpenForm(
            organizations=[org_a, org_b], deployments=[], services=[], refresh_url="/x/"
        )

    assert single.fields["organization"].widget.is_hidden
    assert not several.fields["organization"].widget.is_hidden
    assert several.fields["organization"].widget.attrs["hx-post"] == "/x/"


def test_open_form_builds_the_service_input(org_a):
    form = open_form(
        org_a,
        {
            "organization": "org-a",
            "deployment": "7",
            "type": "support",
            "sub_type": "problem",
            "implementation_stage": "uat",
            "service": "ivr",
            "subject": "IVR loops",
            "description": "It loops",
            "priority": "low",
            "business_impact": "Callers hang up",
            "affected_count": "3",
            "external_reference": "X-1",
        },
    )

    assert form.is_valid(), form.errors
    data = form.case_input()
    assert data.organization == org_a
    assert (data.deployment_id, data.service_slug, data.affected_count) == ("7", "ivr", 3)
    assert (data.implementation_stage, data.priority, data.external_reference) == (
        "uat",
        "low",
        "X-1",
    )


def test_open_form_refuses_an_organization_that_is_not_offered(org_a):
    # DOMAIN T-6
    form = open_form(org_a, {"organization": "org-b"})

    assert not form.is_valid()
    assert "Choose one of the organizations" in form.errors["organization"][0]
    assert form.case_input() is None


def test_service_errors_land_on_their_fields_and_unknown_ones_on_the_form(org_a):
    form = open_form(org_a, {"organization": "org-a", "affected_count": "x"})
    form.is_valid()

    form.add_service_errors(
        {
            "subject": ["Write a short subject."],
            "affected_count": ["Only Problem cases record how many are affected."],
            "weird": ["Something else."],
        },
        skip_known=True,
    )

    assert form.errors["subject"] == ["Write a short subject."]
    assert form.errors["affected_count"] == ["Enter a whole number, or leave it empty."]
    assert form.non_field_errors() == ["Something else."]


def test_update_form_offers_medium_on_a_low_case_only(org_a, dc_a):
    # DOMAIN C-6
    low = CaseFactory(organization=org_a, contact=dc_a, priority="low")
    high = CaseFactory(organization=org_a, contact=dc_a, priority="high")

    low_form = CaseUpdateForm(case=low)

    assert [v for v, _ in low_form.fields["requested_priority"].widget.choices] == ["", "medium"]
    assert "requested_priority" not in CaseUpdateForm(case=high).fields


def test_update_form_takes_several_files(org_a, dc_a):
    case = CaseFactory(organization=org_a, contact=dc_a)
    files = MultiValueDict(
        {
            "update-attachments": [
                SimpleUploadedFile("a.log", b"a"),
                SimpleUploadedFile("b.log", b"b"),
            ]
        }
    )

    form = CaseUpdateForm({"update-body": "logs"}, files, case=case, prefix="update")

    assert form.is_valid()
    assert [f.name for f in form.cleaned_data["attachments"]] == ["a.log", "b.log"]


def test_reopen_form_shows_the_services_body_error_on_the_reason():
    # DOMAIN C-12: the service calls the reason "body".
    form = CaseReopenForm({"reason": ""})
    form.is_valid()

    form.add_service_errors({"body": ["Write a reason for reopening."]})

    assert form.errors["reason"] == ["Write a reason for reopening."]
