"""Received email in the care workspace (N-3, N-4, T-5): care reads what came in and what
became of it; managers download the raw message; nobody changes anything; every look is
audited; a message's HTML is never rendered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from core.audit.models import AuditLogEntry
from inbound.models import InboundMessage
from tests.cases import NOW, make_case
from tests.inbound.test_services import email_reply, media, receive

__all__ = ["media"]  # the module's attachments go to the test's own folder

LIST_URL = "/admin/inbound/inboundmessage/"


def change_url(message: InboundMessage) -> str:
    return reverse("admin:inbound_inboundmessage_change", args=[message.pk])


def raw_url(message: InboundMessage) -> str:
    return reverse("admin:inbound_inboundmessage_raw", args=[message.pk])


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


@pytest.fixture
def posted(case) -> InboundMessage:
    return receive(email_reply(case, body="Logs <script>alert('x')</script> attached."))


@pytest.fixture
def stranger(case) -> InboundMessage:
    return receive(
        email_reply(case, sender="eve@elsewhere.example", subject="Who am I"),
        now=NOW + timedelta(minutes=1),
    )


def test_the_roles_have_their_permissions(db):
    # DOMAIN T-5: analysts read; managers also download the raw message
    perms = {
        role: set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        for role in roles.ALL_ROLES
    }
    assert "view_inboundmessage" in perms[roles.CARE_ANALYST]
    assert "download_raw_inboundmessage" not in perms[roles.CARE_ANALYST]
    assert {"view_inboundmessage", "download_raw_inboundmessage"} <= perms[roles.CARE_MANAGER]
    assert not {p for p in perms[roles.PRODUCT_MANAGER] if p.endswith("inboundmessage")}
    every = set().union(*perms.values())
    assert not {
        p
        for p in every
        if p.endswith("_inboundmessage") and p.split("_")[0] in ("add", "change", "delete")
    }


def test_care_lists_received_email_with_outcome_reason_and_case(client, analyst, posted, stranger):
    # DOMAIN N-3, T-5
    client.force_login(analyst)

    response = client.get(LIST_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "dc@org-a.example" in page and "eve@elsewhere.example" in page
    assert "Posted to the case" in page and "Refused" in page
    assert "The sender has no portal account." in page
    assert reverse("admin:cases_case_change", args=[posted.case_id]) in page
    assert AuditLogEntry.objects.filter(
        actor=analyst, action="list", model="inbound.inboundmessage"
    ).exists()


@pytest.mark.parametrize("rows", [5, 50])
def test_the_list_runs_a_constant_number_of_queries(
    client, analyst, org_a, dc_a, rows, django_assert_max_num_queries
):
    # Lists assert a constant query count (docs/architecture.md)
    for n in range(rows):
        case = make_case(org_a, dc_a, "investigation")
        receive(email_reply(case, message_id=f"<m{n}@client.example>"))
    client.force_login(analyst)

    with django_assert_max_num_queries(12):
        assert client.get(LIST_URL).status_code == 200


def test_the_list_filters_by_case_and_finds_a_case_number_or_a_sender(
    client, analyst, org_a, dc_a, posted, stranger
):
    # DOMAIN N-3
    other = receive(email_reply(make_case(org_a, dc_a, "investigation")))
    client.force_login(analyst)

    by_case = client.get(LIST_URL, {"case": posted.case_id})
    by_number = client.get(LIST_URL, {"q": f"{posted.case.number:08d}"})
    by_sender = client.get(LIST_URL, {"q": "eve@elsewhere"})

    assert {m.pk for m in by_case.context["cl"].result_list} == {posted.pk, stranger.pk}
    assert f"Case {posted.case.number:08d}" in by_case.content.decode()
    assert {m.pk for m in by_number.context["cl"].result_list} == {posted.pk, stranger.pk}
    assert [m.pk for m in by_sender.context["cl"].result_list] == [stranger.pk]
    assert other.pk not in {m.pk for m in by_case.context["cl"].result_list}


def test_the_message_page_shows_the_text_escaped_and_no_raw_html(client, analyst, case):
    # The message's own HTML is never rendered in the care workspace
    raw = email_reply(case, body="Logs <script>alert('x')</script> attached.")
    message = receive(raw)
    client.force_login(analyst)

    response = client.get(change_url(message))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in page
    assert "Logs &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; attached." in page
    assert "Please send the call logs." in page  # the whole text, quote included
    assert 'data-testid="raw-download"' not in page  # analysts do not download raw
    assert AuditLogEntry.objects.filter(
        actor=analyst, action="view", object_id=str(message.pk)
    ).exists()


def test_an_html_only_message_is_shown_as_plain_text(client, analyst, case):
    # The message's own HTML is never rendered in the care workspace
    raw = email_reply(case, body="")
    raw = raw.replace(b"Content-Type: text/plain", b"Content-Type: text/html", 1).replace(
        b"On Mon, 2 Mar 2026",
        b'<img src="https://tracker.example/p.gif" onerror="alert(1)"><b>Bold</b> On Mon',
    )
    message = receive(raw)
    client.force_login(analyst)

    page = client.get(change_url(message)).content.decode()

    assert "tracker.example" not in page and "onerror" not in page
    assert "<b>Bold</b>" not in page


def test_a_manager_downloads_the_raw_message_and_the_download_is_audited(client, manager, posted):
    # DOMAIN T-5: the raw message, as a file, never rendered
    client.force_login(manager)
    page = client.get(change_url(posted)).content.decode()
    assert raw_url(posted) in page

    response = client.get(raw_url(posted))

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="inbound-{posted.pk}.eml"'
    assert response.content == bytes(InboundMessage.objects.get(pk=posted.pk).raw)
    entry = AuditLogEntry.objects.get(action="download")
    assert (entry.actor_id, entry.object_id, entry.organization_id) == (
        manager.pk,
        str(posted.pk),
        posted.organization_id,
    )


def test_an_analyst_cannot_download_the_raw_message(client, analyst, posted):
    # DOMAIN T-5: managers only
    client.force_login(analyst)

    assert client.get(raw_url(posted)).status_code == 403
    assert not AuditLogEntry.objects.filter(action="download").exists()


@pytest.mark.parametrize("who", ["product_manager", "dc_a"])
def test_people_outside_care_see_no_received_email(request, client, posted, who):
    # DOMAIN T-5, T-6
    client.force_login(request.getfixturevalue(who))

    for url in (LIST_URL, change_url(posted), raw_url(posted)):
        assert client.get(url).status_code in (302, 403), url


def test_nobody_adds_changes_or_deletes_a_received_message(client, manager, posted):
    # Received email is a record: read-only for everyone
    client.force_login(manager)
    delete_url = reverse("admin:inbound_inboundmessage_delete", args=[posted.pk])

    assert client.get(reverse("admin:inbound_inboundmessage_add")).status_code == 403
    assert client.post(change_url(posted), {"reason": "edited"}).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    posted.refresh_from_db()
    assert posted.reason == "" and InboundMessage.objects.filter(pk=posted.pk).exists()


def test_the_case_page_links_to_the_emails_received_for_the_case(client, analyst, posted):
    # DOMAIN N-3: care sees, from the case, what came in by email
    client.force_login(analyst)

    page = client.get(reverse("admin:cases_case_change", args=[posted.case_id])).content.decode()

    assert f'href="{LIST_URL}?case={posted.case_id}"' in page
    assert "Emails received for this case" in page
