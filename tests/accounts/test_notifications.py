"""N-1: the case contact and, by preference, the organization's other designated contacts
receive the customer's case email."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AccessLevel
from accounts.notifications import case_email_recipients
from tests.factories import member_of

pytestmark = pytest.mark.django_db


def _opt_in(user):
    user.email_all_cases = True
    user.save(update_fields=["email_all_cases"])
    return user


def test_contact_only_by_default(org_a, dc_a):
    # Given a second designated contact who did not opt in
    member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    # Then only the contact is emailed
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a]) == [dc_a.email]


def test_opted_in_designated_contacts_are_added_once(org_a, dc_a):
    # N-1: by preference, other designated contacts of the organization
    other = _opt_in(member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example"))
    _opt_in(dc_a)
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a, dc_a]) == [
        dc_a.email,
        other.email,
    ]


def test_read_only_other_tenant_and_inactive_users_are_not_added(org_a, org_b, dc_a, ro_a, dc_b):
    # Given opted-in users who must not receive org A's case email
    _opt_in(ro_a)  # read-only: not a designated contact
    _opt_in(dc_b)  # another tenant (T-6)
    gone = _opt_in(member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "gone@org-a.example"))
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    # Then only the contact is emailed
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a]) == [dc_a.email]


def test_inactive_contact_is_not_emailed(org_a, dc_a):
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a]) == []


def test_profile_saves_the_preference(client, dc_a):
    # Given a designated contact on My Profile
    client.force_login(dc_a)
    data = {"display_name": dc_a.display_name, "phone": "", "time_zone": ""}
    # When they tick "email me about all my organizations' cases"
    response = client.post(reverse("profile"), {**data, "email_all_cases": "on"})
    # Then it is saved, and unticking it clears it again
    assert response.status_code == 302
    dc_a.refresh_from_db()
    assert dc_a.email_all_cases is True
    client.post(reverse("profile"), data)
    dc_a.refresh_from_db()
    assert dc_a.email_all_cases is False


def test_care_update_is_emailed_to_opted_in_designated_contacts(org_a, dc_a, analyst):
    # N-1: a public update by care reaches the contact and the opted-in designated contacts
    from django.utils import timezone

    from cases.services import case_post_update
    from core.outbox.models import OutboxEmail
    from core.tenancy import scopes_disabled
    from tests.factories import open_case

    other = _opt_in(member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example"))
    case = open_case(dc_a, org_a)
    with scopes_disabled():
        case_post_update(
            case=case, actor=analyst, body="We are on it.", channel="admin", now=timezone.now()
        )
        email = OutboxEmail.objects.filter(case_id=case.pk).latest("id")
    assert email.to == sorted([dc_a.email, other.email])
