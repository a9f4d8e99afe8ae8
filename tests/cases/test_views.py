"""The customer portal's case pages: who sees what, opening a case, the lists, search,
the case page and its actions, downloads and exports (issue 3, "Customer portal")."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLevel
from cases.links import case_path
from cases.models import Attachment, Case, CaseEvent, CaseUpdate, CloudService
from cases.services import case_post_update
from core.tenancy import scopes_disabled
from tests.factories import (
    BusinessCalendarFactory,
    CaseFactory,
    DeploymentFactory,
    member_of,
    open_case,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- helpers -----------------------------------------------------------------------------


def page_of(response) -> str:
    return response.content.decode()


def reload(case: Case) -> Case:
    with scopes_disabled():
        return Case.objects.get(pk=case.pk)


def case_count() -> int:
    with scopes_disabled():
        return Case.objects.count()


def detail(case: Case) -> str:
    return reverse("cases:detail", args=[case.number])


def action(case: Case, name: str) -> str:
    return reverse(f"cases:{name}", args=[case.number])


def field_block(page: str, name: str) -> str:
    """The HTML of one form field's block (label, input, help, errors)."""
    match = re.search(rf'<(div|fieldset)[^>]*id="field-{re.escape(name)}".*?</\1>', page, re.S)
    assert match, f"no field {name} on the page"
    return match.group(0)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def sheet_text(content: bytes) -> str:
    """All text of the first worksheet of an .xlsx (a zip of XML)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
        if "xl/sharedStrings.xml" in archive.namelist():
            xml += archive.read("xl/sharedStrings.xml").decode()
    return xml


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def care_note(case: Case, analyst, body: str, **kwargs) -> CaseUpdate:
    with scopes_disabled():
        return case_post_update(
            case=case,
            actor=analyst,
            body=body,
            internal=True,
            channel="admin",
            now=timezone.now(),
            **kwargs,
        )


def new_case_data(org, **overrides) -> dict:
    with scopes_disabled():
        deployment = org.deployments.first()
    data = {
        "organization": org.slug,
        "deployment": str(deployment.pk),
        "type": "support",
        "sub_type": "problem",
        "implementation_stage": "production",
        "service": "routing",
        "subject": "Calls drop after transfer",
        "description": "Calls drop after a blind transfer.",
        "priority": "medium",
        "business_impact": "Agents call customers back.",
        "affected_count": "",
        "external_reference": "",
        "checklist_of": "",
    }
    data.update(overrides)
    return data


# --- URLs --------------------------------------------------------------------------------


def test_case_url_is_the_8_digit_number_that_email_links_use(org_a, dc_a):
    # DOMAIN C-1
    assert reverse("cases:detail", args=[1000]) == case_path(1000) == "/cases/00001000/"
    assert reverse("cases:detail", args=[123456789]) == case_path(123456789)


def test_case_page_also_answers_without_leading_zeros(client, org_a, dc_a):
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    assert client.get(f"/cases/{case.number}/").status_code == 200


def test_cases_root_redirects_to_all_cases(client, dc_a):
    client.force_login(dc_a)

    response = client.get(reverse("cases:index"))

    assert response.status_code == 302
    assert response.url == reverse("cases:all")


def test_anonymous_visitors_are_sent_to_sign_in(client, org_a, dc_a):
    case = open_case(dc_a, org_a)
    for url in (
        reverse("cases:mine"),
        reverse("cases:all"),
        reverse("cases:new"),
        detail(case),
        reverse("cases:search") + "?q=x",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


# --- who sees what (T-4 … T-6) -----------------------------------------------------------


def test_designated_contact_has_every_case_page_and_link(client, org_a, dc_a):
    # DOMAIN T-4
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    for url in (reverse("cases:mine"), reverse("cases:all"), reverse("cases:new"), detail(case)):
        assert client.get(url).status_code == 200, url
    page = page_of(client.get(reverse("home")))
    for link in (reverse("cases:mine"), reverse("cases:all"), reverse("cases:new")):
        assert f'href="{link}"' in page
    assert 'role="search"' in page


def test_read_only_user_sees_cases_and_no_action_forms(client, org_a, dc_a, ro_a):
    # DOMAIN T-4
    case = open_case(dc_a, org_a)
    client.force_login(ro_a)

    assert client.get(reverse("cases:mine")).status_code == 200
    assert case.subject in page_of(client.get(reverse("cases:all")))
    page = page_of(client.get(detail(case)))
    assert case.subject in page
    assert 'data-testid="read-only-note"' in page
    assert "<form" not in page.split('id="main"')[1].split("</main>")[0]
    assert client.get(reverse("cases:new")).status_code == 403
    home = page_of(client.get(reverse("home")))
    assert f'href="{reverse("cases:all")}"' in home
    assert f'href="{reverse("cases:new")}"' not in home


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("update", {"update-body": "More logs"}),
        ("confirm", {}),
        ("close", {}),
        ("reopen", {"reopen-reason": "Still broken"}),
    ],
)
def test_read_only_user_posting_an_action_gets_the_not_allowed_page(
    client, org_a, dc_a, ro_a, name, data
):
    # DOMAIN T-4
    sub_status = {"confirm": "solution_proposed", "reopen": "resolved"}.get(name, "investigation")
    case = CaseFactory(organization=org_a, contact=dc_a, sub_status=sub_status)
    before = (case.sub_status, case.modified_at)
    client.force_login(ro_a)

    response = client.post(action(case, name), data)

    assert response.status_code == 403
    assert "Not allowed" in page_of(response)
    after = reload(case)
    assert (after.sub_status, after.modified_at) == before
    with scopes_disabled():
        assert not CaseUpdate.objects.filter(case=case).exists()


def test_basic_user_has_no_case_links_or_pages(client, org_a, dc_a, basic_a):
    # DOMAIN T-4: BASIC has no cases at all.
    case = open_case(dc_a, org_a)
    client.force_login(basic_a)

    home = page_of(client.get(reverse("home")))
    for link in (reverse("cases:mine"), reverse("cases:all"), reverse("cases:new")):
        assert f'href="{link}"' not in home
    assert 'role="search"' not in home
    for url in (
        reverse("cases:mine"),
        reverse("cases:all"),
        reverse("cases:new"),
        reverse("cases:search") + "?q=calls",
        reverse("cases:all-export"),
        reverse("cases:mine-export"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.get(detail(case)).status_code == 404
    assert client.post(action(case, "close")).status_code == 404


def test_another_tenants_case_is_not_found_everywhere(client, org_a, dc_a, dc_b):
    # DOMAIN T-6
    case = open_case(dc_a, org_a, uploads=[SimpleUploadedFile("log.txt", b"line 1\n")])
    with scopes_disabled():
        token = Attachment.objects.get(case=case).token
    client.force_login(dc_b)

    assert client.get(detail(case)).status_code == 404
    for name, data in [
        ("update", {"update-body": "x"}),
        ("close", {}),
        ("confirm", {}),
        ("reopen", {"reopen-reason": "x"}),
    ]:
        assert client.post(action(case, name), data).status_code == 404
    assert client.get(reverse("cases:attachment", args=[token])).status_code == 404
    assert case.subject not in page_of(client.get(reverse("cases:all")))
    assert reload(case).sub_status == "new"


def test_missing_case_looks_the_same_as_another_tenants(client, dc_b):
    # DOMAIN T-6
    client.force_login(dc_b)

    assert client.get(reverse("cases:detail", args=[99999999])).status_code == 404


def test_care_analyst_sees_every_case_internal_notes_and_no_customer_forms(
    client, org_a, org_b, dc_a, dc_b, analyst
):
    # DOMAIN T-5, C-9
    case_a = open_case(dc_a, org_a, subject="Alpha subject")
    open_case(dc_b, org_b, subject="Bravo subject")
    care_note(case_a, analyst, "Looks like the trunk config")
    client.force_login(analyst)

    listing = page_of(client.get(reverse("cases:all")))
    assert "Alpha subject" in listing
    assert "Bravo subject" in listing
    page = page_of(client.get(detail(case_a)))
    assert "Looks like the trunk config" in page
    assert "Internal note" in page
    assert 'id="update-form"' not in page
    assert "care workspace" in page
    assert client.get(reverse("cases:new")).status_code == 403


def test_product_manager_has_no_case_pages(client, org_a, dc_a, product_manager):
    # DOMAIN T-5: cases are worked by analysts and managers.
    case = open_case(dc_a, org_a)
    client.force_login(product_manager)

    assert client.get(reverse("cases:all")).status_code == 403
    assert client.get(detail(case)).status_code == 404


# --- dashboard ---------------------------------------------------------------------------


def test_dashboard_lists_my_first_five_open_cases_and_the_quick_links(client, org_a, dc_a):
    # DOMAIN C-13, K-2
    cases = [open_case(dc_a, org_a, subject=f"Dashboard case {i}") for i in range(6)]
    client.force_login(dc_a)

    page = page_of(client.get(reverse("home")))

    section = page.split('data-testid="my-open-cases"')[1].split("</section>")[0]
    shown = re.findall(r"Dashboard case \d", section)
    assert len(shown) == 5
    assert "Dashboard case 0" not in shown  # the oldest is the sixth
    assert reverse("cases:mine") in section
    assert "Open a case" in page.split('data-testid="quick-links"')[1].split("</nav>")[0]
    assert cases[-1].display_number in section


def test_dashboard_of_a_basic_user_has_no_case_section(client, basic_a):
    # DOMAIN T-4
    client.force_login(basic_a)

    page = page_of(client.get(reverse("home")))

    assert 'data-testid="my-open-cases"' not in page
    assert 'data-testid="quick-links"' not in page


# --- open a case (C-4, C-5, C-15) --------------------------------------------------------


def test_new_case_form_explains_priority_and_one_issue_per_case(client, settings, dc_a):
    # DOMAIN C-5, C-15
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:new")))

    assert "One issue per case" in page
    advice = page.split('data-testid="critical-advice"')[1].split("</div>")[0]
    assert "Open the case as <strong>High</strong> and call" in advice
    assert settings.PORTAL["CARE_PHONE_NUMBERS"][0] in advice
    priorities = re.findall(r'name="priority" value="(\w+)"', page)
    assert priorities == ["high", "medium", "low"]


def test_service_in_the_url_prefills_its_checklist(client, dc_a):
    # DOMAIN C-4, T-3
    checklist = CloudService.objects.get(slug="telephony").checklist
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:new") + "?service=telephony"))

    description = field_block(page, "description")
    assert "One or more DNIS / ANI / agent IDs" in description
    assert checklist.splitlines()[0] in description
    assert 'name="checklist_of" value="telephony"' in page


def test_changing_the_service_refills_an_untouched_description(client, org_a, dc_a):
    # DOMAIN C-4, T-3: what htmx posts when the service changes.
    routing = CloudService.objects.get(slug="routing").checklist
    client.force_login(dc_a)

    response = client.post(
        reverse("cases:new"),
        new_case_data(
            org_a,
            action="refresh",
            service="telephony",
            description=routing.replace("\n", "\r\n"),  # as a browser sends a textarea
            checklist_of="routing",
        ),
        **HTMX,
    )

    assert response.status_code == 200
    description = field_block(page_of(response), "description")
    assert "One or more DNIS / ANI / agent IDs" in description
    assert "Good and bad call examples" not in description
    assert case_count() == 0


def test_changing_the_service_keeps_a_description_the_user_wrote(client, org_a, dc_a):
    client.force_login(dc_a)

    response = client.post(
        reverse("cases:new"),
        new_case_data(
            org_a,
            action="refresh",
            service="telephony",
            description="My own words",
            checklist_of="routing",
        ),
    )

    description = field_block(page_of(response), "description")
    assert "My own words" in description
    assert "DNIS / ANI" not in description
    assert 'class="field-error"' not in page_of(response)  # a refresh is not a submission


def test_changing_the_type_narrows_the_sub_types_and_drops_the_service(client, org_a, dc_a):
    # DOMAIN C-2, C-4: Admin cases have no service, Service Requests their own sub-types.
    client.force_login(dc_a)

    routing = CloudService.objects.get(slug="routing").checklist
    admin = page_of(
        client.post(
            reverse("cases:new"),
            new_case_data(
                org_a, action="refresh", type="admin", description=routing, checklist_of="routing"
            ),
        )
    )
    request = page_of(
        client.post(
            reverse("cases:new"),
            new_case_data(org_a, action="refresh", type="service_request"),
        )
    )

    assert 'name="service"' not in admin
    assert 'name="implementation_stage"' not in admin
    assert "Good and bad call examples" not in admin  # the untouched checklist went too
    sub_types = re.findall(r'<option value="(\w+)"', field_block(request, "sub_type"))
    assert sub_types == [
        "add_remove_access",
        "password_reset",
        "change_request",
        "new_project_request",
    ]
    assert 'name="affected_count"' not in request


def test_designated_contact_opens_a_case_and_lands_on_it(client, org_a, dc_a):
    # DOMAIN C-4
    client.force_login(dc_a)

    response = client.post(
        reverse("cases:new"),
        new_case_data(org_a, affected_count="12", external_reference="INC-7"),
        follow=True,
    )

    with scopes_disabled():
        case = Case.objects.get()
    assert response.redirect_chain[-1][0] == detail(case)
    page = page_of(response)
    assert f"Case {case.display_number} is open" in page
    assert (case.contact, case.organization, case.priority) == (dc_a, org_a, "medium")
    assert (case.affected_count, case.external_reference) == (12, "INC-7")
    assert case.service.slug == "routing"
    assert "INC-7" in page


def test_opening_with_attachments_stores_them(client, org_a, dc_a):
    # DOMAIN C-10
    client.force_login(dc_a)
    data = new_case_data(org_a)
    data["attachments"] = [
        SimpleUploadedFile("trace.log", b"dropped\n"),
        SimpleUploadedFile("screen.png", tiny_png()),
    ]

    response = client.post(reverse("cases:new"), data)

    assert response.status_code == 302
    with scopes_disabled():
        assert sorted(Attachment.objects.values_list("name", flat=True)) == [
            "screen.png",
            "trace.log",
        ]


def test_empty_form_shows_every_error_next_to_its_field_and_opens_nothing(client, org_a, dc_a):
    # DOMAIN C-4
    client.force_login(dc_a)
    data = new_case_data(
        org_a,
        deployment="",
        sub_type="",
        service="",
        subject="",
        description="",
        priority="",
        business_impact="",
    )

    response = client.post(reverse("cases:new"), data)

    assert response.status_code == 200
    page = page_of(response)
    assert 'data-testid="form-errors"' in page
    for name, message in [
        ("deployment", "Choose the deployment"),
        ("sub_type", "Choose one of: Problem, Question"),
        ("service", "Choose the cloud service"),
        ("subject", "Write a short subject"),
        ("description", "Describe the issue"),
        ("priority", "Choose High, Medium or Low"),
        ("business_impact", "Say how the issue affects your business"),
    ]:
        block = field_block(page, name)
        assert message in block, name
        assert 'role="alert"' in block
    assert case_count() == 0


def test_critical_priority_is_refused_with_the_advice_to_call(client, org_a, dc_a, settings):
    # DOMAIN C-5
    client.force_login(dc_a)

    page = page_of(client.post(reverse("cases:new"), new_case_data(org_a, priority="critical")))

    block = field_block(page, "priority")
    assert "Only Customer Care sets Critical" in block
    assert settings.PORTAL["CARE_PHONE_NUMBERS"][0] in block
    assert case_count() == 0


def test_a_parse_error_is_shown_with_every_other_error(client, org_a, dc_a):
    client.force_login(dc_a)

    page = page_of(
        client.post(reverse("cases:new"), new_case_data(org_a, affected_count="many", subject=""))
    )

    assert "Enter a whole number" in field_block(page, "affected_count")
    assert "Write a short subject" in field_block(page, "subject")
    assert case_count() == 0


def test_disguised_attachment_is_refused_next_to_the_field_and_opens_nothing(
    client, org_a, dc_a, tmp_path
):
    # DOMAIN C-10
    client.force_login(dc_a)
    data = new_case_data(org_a)
    data["attachments"] = [SimpleUploadedFile("shot.png", b"<html><script>x</script></html>")]

    page = page_of(client.post(reverse("cases:new"), data))

    block = field_block(page, "attachments")
    assert "does not contain what its name says" in block
    assert "Choose the files again" in block
    assert case_count() == 0
    assert not list((tmp_path / "media").rglob("*.*"))


def test_another_organization_cannot_be_chosen(client, org_a, org_b, dc_a):
    # DOMAIN T-6
    client.force_login(dc_a)

    page = page_of(client.post(reverse("cases:new"), new_case_data(org_b)))

    assert "Choose one of the organizations" in field_block(page, "organization")
    assert case_count() == 0


def test_a_deployment_of_another_organization_is_refused(client, org_a, org_b, dc_a):
    # DOMAIN T-2
    with scopes_disabled():
        foreign = org_b.deployments.first()
    client.force_login(dc_a)

    page = page_of(
        client.post(reverse("cases:new"), new_case_data(org_a, deployment=str(foreign.pk)))
    )

    assert "Choose one of your organization&#x27;s deployments" in field_block(page, "deployment")
    assert case_count() == 0


def test_reseller_contact_picks_the_end_user_organization(
    client, reseller, end_user_org, reseller_dc
):
    # DOMAIN T-8
    client.force_login(reseller_dc)
    with scopes_disabled():
        DeploymentFactory(organization=reseller, code="P-1", name="Partner Ops")

    form = page_of(client.get(reverse("cases:new")))
    options = re.findall(r'<option value="([\w-]+)"', field_block(form, "organization"))
    refreshed = page_of(
        client.post(
            reverse("cases:new"),
            new_case_data(end_user_org, action="refresh", deployment=""),
        )
    )
    response = client.post(reverse("cases:new"), new_case_data(end_user_org))

    assert options == ["end-user", "partner"]
    assert "EU-PRD / End User Production" in field_block(refreshed, "deployment")
    assert "Partner Ops" not in field_block(refreshed, "deployment")
    assert response.status_code == 302
    with scopes_disabled():
        assert Case.objects.get().organization == end_user_org


# --- My Cases (C-13) ---------------------------------------------------------------------


def _my_cases(org, contact, count: int, **kwargs) -> list[Case]:
    start = timezone.now() - timedelta(days=1)
    return [
        CaseFactory(
            organization=org,
            contact=contact,
            subject=f"Mine {i:02d}",
            opened_at=start + timedelta(minutes=i),
            **kwargs,
        )
        for i in range(count)
    ]


def test_my_cases_shows_five_newest_then_show_more(client, org_a, dc_a):
    # DOMAIN C-13
    _my_cases(org_a, dc_a, 7)
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:mine")))

    assert re.findall(r"Mine \d\d", page) == ["Mine 06", "Mine 05", "Mine 04", "Mine 03", "Mine 02"]
    assert f'href="{reverse("cases:mine")}?page=2"' in page
    assert 'hx-get="/cases/mine/?page=2"' in page


def test_show_more_with_htmx_returns_only_the_next_rows(client, org_a, dc_a):
    # DOMAIN C-13
    _my_cases(org_a, dc_a, 7)
    client.force_login(dc_a)

    response = client.get(reverse("cases:mine") + "?page=2", **HTMX)

    fragment = page_of(response)
    assert "<html" not in fragment
    assert re.findall(r"Mine \d\d", fragment) == ["Mine 01", "Mine 00"]
    assert "Show more" not in fragment
    assert "HX-Request" in response["Vary"]


def test_show_more_without_javascript_shows_the_first_pages(client, org_a, dc_a):
    _my_cases(org_a, dc_a, 12)
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:mine") + "?page=2"))

    assert len(re.findall(r"Mine \d\d", page)) == 10
    assert "?page=3" in page


def test_my_cases_leaves_out_closed_cases_and_other_contacts(client, org_a, dc_a):
    # DOMAIN C-13
    colleague = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    CaseFactory(organization=org_a, contact=dc_a, subject="Mine open")
    CaseFactory(organization=org_a, contact=dc_a, subject="Mine closed", sub_status="resolved")
    CaseFactory(organization=org_a, contact=colleague, subject="Theirs open")
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:mine")))

    assert "Mine open" in page
    assert "Mine closed" not in page
    assert "Theirs open" not in page


# --- All Cases (C-13) --------------------------------------------------------------------


def test_all_cases_shows_every_case_of_the_organization_only(client, org_a, org_b, dc_a, dc_b):
    # DOMAIN C-13, T-6
    colleague = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    CaseFactory(organization=org_a, contact=colleague, subject="Colleague's case")
    CaseFactory(organization=org_a, contact=dc_a, subject="Closed one", sub_status="resolved")
    CaseFactory(organization=org_b, contact=dc_b, subject="Other tenant")
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:all")))

    assert "Colleague&#39;s case" in page
    assert "Closed one" in page
    assert "Other tenant" not in page


def test_all_cases_filters_by_status_and_priority(client, org_a, dc_a):
    # DOMAIN C-13
    CaseFactory(organization=org_a, contact=dc_a, subject="High open", priority="high")
    CaseFactory(organization=org_a, contact=dc_a, subject="Low open", priority="low")
    CaseFactory(
        organization=org_a,
        contact=dc_a,
        subject="High closed",
        priority="high",
        sub_status="resolved",
    )
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:all"), {"status": "open", "priority": "high"}))

    assert re.findall(r"(?:High|Low) (?:open|closed)", page) == ["High open"]
    assert 'value="open" checked' in page
    assert 'value="high" checked' in page


def test_all_cases_filters_by_service_and_deployment(client, org_a, dc_a):
    # DOMAIN C-13
    with scopes_disabled():
        uat = DeploymentFactory(organization=org_a, code="A-UAT", name="A Test")
    CaseFactory(organization=org_a, contact=dc_a, subject="Routing prod")
    CaseFactory(organization=org_a, contact=dc_a, subject="Routing uat", deployment=uat)
    CaseFactory(
        organization=org_a,
        contact=dc_a,
        subject="Telephony prod",
        service=CloudService.objects.get(slug="telephony"),
    )
    client.force_login(dc_a)

    by_service = page_of(client.get(reverse("cases:all"), {"service": "telephony"}))
    by_deployment = page_of(client.get(reverse("cases:all"), {"deployment": uat.pk}))

    assert re.findall(r"(?:Routing|Telephony) (?:prod|uat)", by_service) == ["Telephony prod"]
    assert re.findall(r"(?:Routing|Telephony) (?:prod|uat)", by_deployment) == ["Routing uat"]


def test_all_cases_filters_by_opened_dates_and_contact(client, org_a, dc_a):
    # DOMAIN C-13
    colleague = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    now = timezone.now()
    CaseFactory(
        organization=org_a, contact=dc_a, subject="Old mine", opened_at=now - timedelta(days=40)
    )
    CaseFactory(organization=org_a, contact=dc_a, subject="New mine", opened_at=now)
    CaseFactory(organization=org_a, contact=colleague, subject="New theirs", opened_at=now)
    client.force_login(dc_a)
    since = (now - timedelta(days=7)).date().isoformat()

    page = page_of(client.get(reverse("cases:all"), {"opened_after": since, "contact": dc_a.pk}))

    assert re.findall(r"(?:Old|New) (?:mine|theirs)", page) == ["New mine"]


def test_care_filters_all_cases_by_organization(client, org_a, org_b, dc_a, dc_b, analyst):
    # DOMAIN T-5, C-13: care see every tenant; the deployments offered follow the filter.
    CaseFactory(organization=org_a, contact=dc_a, subject="Case of A")
    CaseFactory(organization=org_b, contact=dc_b, subject="Case of B")
    client.force_login(analyst)

    unfiltered = page_of(client.get(reverse("cases:all")))
    page = page_of(client.get(reverse("cases:all"), {"organization": "org-b"}))

    assert 'name="deployment"' not in unfiltered  # not every tenant's deployments at once
    assert "Case of B" in page
    assert "Case of A" not in page
    assert "B-PRD / B Production" in page
    assert "A-PRD" not in page


def test_reseller_contact_filters_by_end_user_organization(
    client, reseller, end_user_org, reseller_dc
):
    # DOMAIN T-8
    CaseFactory(organization=end_user_org, contact=reseller_dc, subject="End user case")
    CaseFactory(organization=reseller, contact=reseller_dc, subject="Partner case")
    client.force_login(reseller_dc)

    page = page_of(client.get(reverse("cases:all"), {"organization": "end-user"}))

    assert '<option value="end-user" selected>' in page
    assert "End user case" in page
    assert "Partner case" not in page


def test_invalid_filters_are_explained_and_show_no_rows(client, org_a, dc_a):
    # Bad input gets a clear error and changes nothing.
    CaseFactory(organization=org_a, contact=dc_a, subject="Visible case")
    client.force_login(dc_a)

    response = client.get(
        reverse("cases:all"), {"status": "bogus", "opened_after": "yesterday-ish"}
    )

    page = page_of(response)
    assert 'data-testid="filter-errors"' in page
    assert "Status:" in page
    assert "Opened on or after:" in page
    assert "Visible case" not in page
    assert 'data-testid="export-link"' not in page


def test_all_cases_sorts_by_a_column_header(client, org_a, dc_a):
    # DOMAIN C-13
    for subject in ("Bravo", "Alpha", "Charlie"):
        CaseFactory(organization=org_a, contact=dc_a, subject=subject)
    client.force_login(dc_a)

    ascending = page_of(client.get(reverse("cases:all"), {"ordering": "subject"}))
    descending = page_of(client.get(reverse("cases:all"), {"ordering": "-subject"}))

    assert re.findall(r"<td>(Alpha|Bravo|Charlie)</td>", ascending) == ["Alpha", "Bravo", "Charlie"]
    assert re.findall(r"<td>(Alpha|Bravo|Charlie)</td>", descending) == [
        "Charlie",
        "Bravo",
        "Alpha",
    ]
    assert 'aria-sort="ascending"' in ascending
    assert "?ordering=-subject" in ascending  # the header now offers the other direction


def test_all_cases_sorts_by_priority_most_urgent_first(client, org_a, dc_a):
    for priority in ("low", "critical", "medium", "high"):
        CaseFactory(organization=org_a, contact=dc_a, subject=f"P-{priority}", priority=priority)
    client.force_login(dc_a)

    page = page_of(client.get(reverse("cases:all"), {"ordering": "priority"}))

    assert re.findall(r"<td>P-(\w+)</td>", page) == ["critical", "high", "medium", "low"]


def test_all_cases_pages_by_25_keeping_the_filters(client, org_a, dc_a):
    # DOMAIN C-13
    _my_cases(org_a, dc_a, 27, priority="high")
    CaseFactory(organization=org_a, contact=dc_a, subject="Low one", priority="low")
    client.force_login(dc_a)

    first = page_of(client.get(reverse("cases:all"), {"priority": "high"}))
    second = page_of(client.get(reverse("cases:all"), {"priority": "high", "page": "2"}))
    beyond = page_of(client.get(reverse("cases:all"), {"priority": "high", "page": "9"}))

    assert len(re.findall(r"Mine \d\d", first)) == 25
    assert "?priority=high&amp;page=2" in first
    assert re.findall(r"Mine \d\d", second) == ["Mine 01", "Mine 00"]
    assert "Next page" not in second
    assert "Previous page" in second
    assert "There are no more cases" in beyond
    assert "Low one" not in first + second


def test_list_pages_run_the_same_number_of_queries_at_5_and_50_rows(client, org_a, dc_a):
    # Lists assert a constant query count (ARCHITECTURE, issue 3 acceptance).
    client.force_login(dc_a)
    urls = [
        reverse("cases:mine"),
        reverse("cases:all"),
        reverse("cases:all") + "?ordering=priority&status=open",
        reverse("home"),
    ]

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            out.append(len(queries))
        return out

    _my_cases(org_a, dc_a, 5)
    counts()  # warm up: the first request fills process-wide caches
    at_five = counts()
    _my_cases(org_a, dc_a, 45)
    at_fifty = counts()

    assert at_five == at_fifty


def test_case_page_runs_the_same_number_of_queries_at_2_and_20_updates(client, org_a, dc_a):
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    def post_updates(count: int) -> None:
        for i in range(count):
            with scopes_disabled():
                case_post_update(
                    case=case,
                    actor=dc_a,
                    body=f"update {i}",
                    uploads=[SimpleUploadedFile(f"log{i}.txt", b"x\n")],
                    channel="portal",
                    now=timezone.now(),
                )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(case)).status_code == 200
        return len(queries)

    post_updates(2)
    at_two = count()
    post_updates(18)

    assert count() == at_two


# --- export (C-13) -----------------------------------------------------------------------


def test_all_cases_export_holds_exactly_the_filtered_rows(client, org_a, org_b, dc_a, dc_b):
    # DOMAIN C-13
    CaseFactory(organization=org_a, contact=dc_a, subject="Export high", priority="high")
    CaseFactory(organization=org_a, contact=dc_a, subject="Export low", priority="low")
    CaseFactory(organization=org_b, contact=dc_b, subject="Export foreign", priority="high")
    client.force_login(dc_a)

    listing = page_of(client.get(reverse("cases:all"), {"priority": "high"}))
    response = client.get(reverse("cases:all-export"), {"priority": "high"})

    assert f'href="{reverse("cases:all-export")}?priority=high"' in listing
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    text = sheet_text(streamed(response))
    assert "Export high" in text
    assert "Export low" not in text
    assert "Export foreign" not in text
    assert "Account/Deployment" in text  # the list's columns, with their headers


def test_all_cases_export_refuses_invalid_filters(client, org_a, dc_a):
    client.force_login(dc_a)

    response = client.get(reverse("cases:all-export"), {"priority": "urgent"})

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in page_of(response)


def test_my_cases_export_holds_my_open_cases(client, org_a, dc_a):
    # DOMAIN C-13
    _my_cases(org_a, dc_a, 7)
    CaseFactory(organization=org_a, contact=dc_a, subject="Mine closed", sub_status="resolved")
    client.force_login(dc_a)

    response = client.get(reverse("cases:mine-export"))

    text = sheet_text(streamed(response))
    assert len(set(re.findall(r"Mine \d\d", text))) == 7
    assert "Mine closed" not in text


# --- search (C-14) -----------------------------------------------------------------------


def test_search_by_number_opens_the_visible_case(client, org_a, dc_a):
    # DOMAIN C-14
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    for query in (case.display_number, str(case.number), f"#{case.number}"):
        response = client.get(reverse("cases:search"), {"q": query})
        assert response.status_code == 302
        assert response.url == detail(case)


def test_search_by_number_of_another_tenants_case_finds_nothing(client, org_b, dc_a, dc_b):
    # DOMAIN C-14, T-6
    foreign = open_case(dc_b, org_b)
    client.force_login(dc_a)

    response = client.get(reverse("cases:search"), {"q": foreign.display_number}, follow=True)

    page = page_of(response)
    assert f"There is no case {foreign.display_number} that you can see" in page
    assert foreign.subject not in page


def test_search_by_keywords_lists_only_visible_matches(client, org_a, org_b, dc_a, dc_b):
    # DOMAIN C-14
    open_case(dc_a, org_a, subject="Voicemail greeting missing")
    open_case(dc_a, org_a, subject="Reports are slow")
    open_case(dc_b, org_b, subject="Voicemail greeting broken")
    client.force_login(dc_a)

    response = client.get(reverse("cases:search"), {"q": "voicemail"})
    page = page_of(client.get(response.url))

    assert response.url == reverse("cases:all") + "?q=voicemail"
    assert "Voicemail greeting missing" in page
    assert "Reports are slow" not in page
    assert "Voicemail greeting broken" not in page


def test_search_finds_words_of_public_updates_but_not_of_internal_notes(
    client, org_a, dc_a, analyst
):
    # DOMAIN C-14, C-9
    case = open_case(dc_a, org_a, subject="Calls drop")
    with scopes_disabled():
        case_post_update(
            case=case, actor=dc_a, body="Seen on trunk zebra", channel="portal", now=timezone.now()
        )
    care_note(case, analyst, "suspect quokka firmware")
    client.force_login(dc_a)

    found = page_of(client.get(reverse("cases:all"), {"q": "zebra"}))
    hidden = page_of(client.get(reverse("cases:all"), {"q": "quokka"}))

    assert "Calls drop" in found
    assert "Calls drop" not in hidden


def test_the_search_box_is_on_every_page_for_case_users(client, org_a, dc_a):
    # DOMAIN C-14
    client.force_login(dc_a)

    for url in (reverse("home"), reverse("help"), reverse("profile"), reverse("cases:mine")):
        page = page_of(client.get(url))
        assert f'action="{reverse("cases:search")}"' in page, url
        assert '<label for="site-search"' in page


# --- the case page -----------------------------------------------------------------------


def test_case_page_shows_the_header_fields_in_words(client, org_a, dc_a, analyst):
    # DOMAIN C-4, C-7
    case = CaseFactory(
        organization=org_a,
        contact=dc_a,
        owner=analyst,
        sub_status="info_required",
        external_reference="REF-42",
        affected_count=30,
    )
    client.force_login(dc_a)

    facts = page_of(client.get(detail(case))).split('data-testid="case-facts"')[1]

    for text in (
        case.display_number,
        "Org A",
        "A-PRD / A Production",
        "Routing",
        "Support / Problem",
        "Production",
        "Medium",
        "Awaiting Info: Info Required from Customer",
        dc_a.display_name,
        analyst.display_name,
        "REF-42",
        "30",
    ):
        assert text in facts, text


def test_internal_notes_never_reach_the_customer_page(client, org_a, dc_a, ro_a, analyst):
    # DOMAIN C-9
    case = open_case(dc_a, org_a)
    care_note(
        case,
        analyst,
        "Internal: customer config is wrong",
        uploads=[SimpleUploadedFile("internal.txt", b"secret\n")],
    )
    with scopes_disabled():
        case_post_update(
            case=case,
            actor=analyst,
            body="We are looking into it",
            channel="admin",
            now=timezone.now(),
        )

    for user in (dc_a, ro_a):
        client.force_login(user)
        page = page_of(client.get(detail(case)))
        assert "We are looking into it" in page
        assert "customer config is wrong" not in page
        assert "internal.txt" not in page
        assert "Internal note" not in page


def test_feed_is_newest_first_with_download_links(client, org_a, dc_a):
    # DOMAIN C-9, C-10
    case = open_case(dc_a, org_a)
    base = timezone.now()
    with scopes_disabled():
        case_post_update(case=case, actor=dc_a, body="First words", channel="portal", now=base)
        case_post_update(
            case=case,
            actor=dc_a,
            body="Second words",
            uploads=[SimpleUploadedFile("trace.log", b"x\n")],
            channel="portal",
            now=base + timedelta(minutes=1),
        )
        token = Attachment.objects.get(case=case).token
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))

    feed = page.split('data-testid="feed"')[1]
    assert feed.index("Second words") < feed.index("First words")
    assert reverse("cases:attachment", args=[token]) in feed
    assert "trace.log" in page.split('data-testid="files"')[1]


def test_history_lists_the_changes_in_words(client, org_a, dc_a):
    # DOMAIN C-16
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)
    client.post(action(case, "close"), {"close-body": ""})

    history = page_of(client.get(detail(case))).split('data-testid="history"')[1]

    assert "Opened as Support / Problem, priority Medium" in history
    assert "Status: New → Cancelled" in history
    assert "via Portal" in history


def test_feed_and_history_show_what_people_wrote_as_text(client, org_a, dc_a):
    # C-9, C-16: an update keeps its paragraphs and line breaks; names, texts and file
    # names are escaped, never markup
    from accounts.models import User

    User.objects.filter(pk=dc_a.pk).update(display_name="Dee <i>Contact</i>")
    dc_a.refresh_from_db()
    case = open_case(dc_a, org_a, priority="low")
    at = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    with scopes_disabled():
        case_post_update(
            case=case,
            actor=dc_a,
            body="<script>alert(1)</script>\nsecond line\n\nnext 'paragraph'",
            requested_priority="medium",
            uploads=[SimpleUploadedFile("a<b>.txt", b"x\n")],
            channel="portal",
            now=at,
        )
        token = Attachment.objects.get(case=case).token
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))

    feed = page.split('data-testid="feed"')[1].split("</ol>")[0]
    assert (
        '<li class="feed-item">\n'
        '  <p class="feed-meta"><strong>Dee &lt;i&gt;Contact&lt;/i&gt;</strong> '
        '<time datetime="2026-03-02T09:05:00+00:00">2 Mar 2026 09:05 UTC</time> '
        '<span class="muted small">via Portal</span></p>\n'
        '  <p class="small"><strong>Priority request:</strong> Medium</p>'
        '<div class="feed-body"><p>&lt;script&gt;alert(1)&lt;/script&gt;<br>second line</p>'
        "\n\n<p>next &#x27;paragraph&#x27;</p></div>\n"
        f'  <ul class="files"><li><a href="/cases/files/{token}/" download>a_b.txt</a> '
        '<span class="muted small">(2\xa0bytes)</span></li></ul>\n'
        "</li>\n"
    ) in feed
    history = page.split('data-testid="history"')[1].split("</ol>")[0]
    assert (
        '<li><time datetime="2026-03-02T09:05:00+00:00">2 Mar 2026 09:05 UTC</time> '
        "Asked for priority Medium"
        '<span class="muted small"> · Dee &lt;i&gt;Contact&lt;/i&gt; via Portal</span></li>\n'
    ) in history
    assert "<script>" not in page and "<i>Contact" not in page


def test_care_updates_and_internal_notes_are_marked_in_the_feed(client, org_a, dc_a, analyst):
    # C-9: care's entries carry the Customer Care pill; internal notes (care only) theirs
    case = open_case(dc_a, org_a)
    with scopes_disabled():
        case_post_update(
            case=case, actor=analyst, body="From care", channel="admin", now=timezone.now()
        )
    care_note(case, analyst, "Only care")
    client.force_login(analyst)

    feed = page_of(client.get(detail(case))).split('data-testid="feed"')[1]

    assert '<li class="feed-item by-care internal">' in feed
    assert (
        '<span class="pill subtle">Customer Care</span> '
        '<span class="pill internal">Internal note</span> <time'
    ) in feed
    assert '<li class="feed-item by-care">' in feed


def test_times_are_shown_in_the_users_time_zone(client, org_a, dc_a):
    # DOMAIN B-5
    case = open_case(dc_a, org_a)
    with scopes_disabled():
        Case.objects.filter(pk=case.pk).update(opened_at=datetime(2026, 11, 23, 13, 5, tzinfo=UTC))
    dc_a.time_zone = "Europe/Berlin"
    dc_a.save()
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))

    assert "23 Nov 2026 14:05 CET" in page


def test_times_fall_back_to_the_organizations_time_zone(client, org_a, dc_a):
    # DOMAIN B-5
    BusinessCalendarFactory(organization=org_a, time_zone="America/New_York")
    case = open_case(dc_a, org_a)
    with scopes_disabled():
        Case.objects.filter(pk=case.pk).update(opened_at=datetime(2026, 7, 1, 16, 0, tzinfo=UTC))
    client.force_login(dc_a)

    assert "1 Jul 2026 12:00 EDT" in page_of(client.get(detail(case)))
    assert "1 Jul 2026 12:00 EDT" in page_of(client.get(reverse("cases:all")))


# --- actions -----------------------------------------------------------------------------


def test_posting_an_update_with_a_file(client, org_a, dc_a):
    # DOMAIN C-8, C-9, C-10
    case = CaseFactory(organization=org_a, contact=dc_a, sub_status="info_required")
    client.force_login(dc_a)

    response = client.post(
        action(case, "update"),
        {
            "update-body": "Here are the logs",
            "update-attachments": [SimpleUploadedFile("calls.log", b"drop at 10:02\n")],
        },
        follow=True,
    )

    assert "Your update is posted." in page_of(response)
    assert reload(case).sub_status == "customer_responded"
    with scopes_disabled():
        update = CaseUpdate.objects.get(case=case)
        assert update.body == "Here are the logs"
        assert [a.name for a in update.attachments.all()] == ["calls.log"]


def test_an_empty_update_is_explained_next_to_the_field(client, org_a, dc_a):
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    response = client.post(action(case, "update"), {"update-body": "   "})

    assert response.status_code == 200
    assert "Write a message." in field_block(page_of(response), "update-body")
    with scopes_disabled():
        assert not CaseUpdate.objects.filter(case=case).exists()


def test_a_bad_file_on_an_update_is_refused_and_nothing_is_posted(client, org_a, dc_a):
    # DOMAIN C-10
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    response = client.post(
        action(case, "update"),
        {
            "update-body": "See the screenshot",
            "update-attachments": [SimpleUploadedFile("shot.png", b"<html>no</html>")],
        },
    )

    block = field_block(page_of(response), "update-attachments")
    assert "does not contain what its name says" in block
    assert "See the screenshot" in field_block(page_of(response), "update-body")  # kept
    with scopes_disabled():
        assert not CaseUpdate.objects.filter(case=case).exists()


def test_a_low_case_offers_a_request_for_medium(client, org_a, dc_a):
    # DOMAIN C-6
    case = open_case(dc_a, org_a, priority="low")
    client.force_login(dc_a)

    form = page_of(client.get(detail(case)))
    response = client.post(
        action(case, "update"),
        {"update-body": "More agents are affected now", "update-requested_priority": "medium"},
        follow=True,
    )

    assert "Ask for Medium" in field_block(form, "update-requested_priority")
    assert "priority request" in page_of(response)
    assert reload(case).priority == "low"  # care decides
    with scopes_disabled():
        assert CaseUpdate.objects.get(case=case).requested_priority == "medium"
        assert CaseEvent.objects.filter(case=case, kind="priority_request").exists()


def test_asking_for_high_by_update_is_refused_with_the_advice_to_call(client, org_a, dc_a):
    # DOMAIN C-6
    case = open_case(dc_a, org_a, priority="low")
    client.force_login(dc_a)

    response = client.post(
        action(case, "update"),
        {"update-body": "Everything is down", "update-requested_priority": "high"},
    )

    assert "call Customer Care" in field_block(page_of(response), "update-requested_priority")
    with scopes_disabled():
        assert not CaseUpdate.objects.filter(case=case).exists()


def test_a_medium_case_says_to_call_to_raise_it(client, org_a, dc_a):
    # DOMAIN C-6
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))

    assert "update-requested_priority" not in page
    assert "To raise the priority to High or Critical, call Customer Care" in page


def test_confirming_a_proposed_solution(client, org_a, dc_a):
    # DOMAIN C-8
    case = CaseFactory(organization=org_a, contact=dc_a, sub_status="solution_proposed")
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))
    response = client.post(action(case, "confirm"), {"confirm-body": "Works now"}, follow=True)

    assert 'id="confirm-form"' in page
    assert "the solution is confirmed" in page_of(response)
    assert reload(case).sub_status == "problem_resolved"


def test_an_action_the_state_does_not_allow_is_a_message_and_changes_nothing(client, org_a, dc_a):
    # DOMAIN C-8
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    assert 'id="confirm-form"' not in page_of(client.get(detail(case)))
    response = client.post(action(case, "confirm"), {}, follow=True)

    assert "cannot be confirmed" in page_of(response)
    assert reload(case).sub_status == "new"


def test_closing_a_case(client, org_a, dc_a):
    # DOMAIN C-11
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    response = client.post(action(case, "close"), {"close-body": "Fixed itself"}, follow=True)

    page = page_of(response)
    assert "The case is closed" in page
    assert 'data-testid="case-status">Closed' in page
    assert "Fixed itself" in page
    assert 'id="reopen-form"' in page


def test_reopen_within_30_days(client, org_a, dc_a):
    # DOMAIN C-12
    closed_at = timezone.now() - timedelta(days=29)
    case = CaseFactory(
        organization=org_a,
        contact=dc_a,
        sub_status="resolved",
        opened_at=closed_at - timedelta(days=2),
        closed_at=closed_at,
    )
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))
    response = client.post(
        action(case, "reopen"), {"reopen-reason": "It fails again since Monday"}, follow=True
    )

    assert 'id="reopen-form"' in page
    assert 'data-testid="reopen-expired"' not in page
    assert "The case is reopened" in page_of(response)
    assert "It fails again since Monday" in page_of(response)
    assert reload(case).sub_status == "customer_responded"


def test_reopen_after_30_days_is_refused_with_a_way_forward(client, org_a, dc_a):
    # DOMAIN C-12
    closed_at = timezone.now() - timedelta(days=31)
    case = CaseFactory(
        organization=org_a,
        contact=dc_a,
        sub_status="resolved",
        opened_at=closed_at - timedelta(days=2),
        closed_at=closed_at,
    )
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))
    response = client.post(action(case, "reopen"), {"reopen-reason": "Again"}, follow=True)

    assert 'id="reopen-form"' not in page
    expired = page.split('data-testid="reopen-expired"')[1].split("</section>")[0]
    assert "more than 30 days ago" in expired
    assert f'href="{reverse("cases:new")}"' in expired
    assert "open a new case" in page_of(response)
    assert reload(case).sub_status == "resolved"
    with scopes_disabled():
        assert not CaseUpdate.objects.filter(case=case).exists()


def test_reopen_needs_a_reason(client, org_a, dc_a):
    # DOMAIN C-12
    case = CaseFactory(organization=org_a, contact=dc_a, sub_status="cancelled")
    client.force_login(dc_a)

    response = client.post(action(case, "reopen"), {"reopen-reason": ""})

    assert response.status_code == 200
    assert "Write a reason for reopening." in field_block(page_of(response), "reopen-reason")
    assert reload(case).sub_status == "cancelled"


def test_actions_answer_post_only(client, org_a, dc_a):
    case = open_case(dc_a, org_a)
    client.force_login(dc_a)

    for name in ("update", "confirm", "close", "reopen"):
        assert client.get(action(case, name)).status_code == 405


# --- attachment downloads (C-10) ---------------------------------------------------------


def test_download_is_an_attachment_with_the_stored_type_and_nosniff(client, org_a, dc_a, ro_a):
    # DOMAIN C-10
    case = open_case(dc_a, org_a, uploads=[SimpleUploadedFile("../../etc/pass wd.png", tiny_png())])
    with scopes_disabled():
        attachment = Attachment.objects.get(case=case)
    client.force_login(ro_a)

    response = client.get(reverse("cases:attachment", args=[attachment.token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="pass wd.png"' in response["Content-Disposition"]
    assert "/" not in attachment.name
    assert streamed(response) == tiny_png()


def test_a_customer_cannot_download_a_file_of_an_internal_note(client, org_a, dc_a, analyst):
    # DOMAIN C-9, C-10
    case = open_case(dc_a, org_a)
    care_note(case, analyst, "see file", uploads=[SimpleUploadedFile("notes.txt", b"x\n")])
    with scopes_disabled():
        token = Attachment.objects.get(case=case).token
    url = reverse("cases:attachment", args=[token])

    client.force_login(dc_a)
    assert client.get(url).status_code == 404
    client.force_login(analyst)
    assert client.get(url).status_code == 200


def test_an_unknown_file_token_is_not_found(client, dc_a):
    client.force_login(dc_a)

    assert client.get(reverse("cases:attachment", args=["nope"])).status_code == 404
