"""N-1: the case contact and, by preference, the organization's other designated contacts
receive the customer's case email."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core import mail
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import AccessLevel, Membership, Organization, ResellerLink, User
from accounts.notifications import Audience, case_email_recipients, entitled_recipients
from accounts.selectors import access_level_for
from cases import services as case_services
from cases.models import Case, Channel
from core.errors import NotFound
from core.outbox.models import OutboxEmail
from core.outbox.services import outbox_send
from core.tenancy import scopes_disabled
from escalations import services as escalation_services
from escalations.models import Escalation
from followups.sweep import followup_sweep
from tests.cases import NOW, acting_as, make_case
from tests.factories import member_of, open_case
from tests.followups.helpers import CLOSE, R1, R2, ask

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request reads them (no cached access levels)."""
    return User.objects.get(pk=user.pk)


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
    other = _opt_in(member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example"))
    case = open_case(dc_a, org_a)
    with scopes_disabled():
        case_services.case_post_update(
            case=case, actor=analyst, body="We are on it.", channel="admin", now=timezone.now()
        )
        email = OutboxEmail.objects.filter(case_id=case.pk).latest("id")
    assert email.to == sorted([dc_a.email, other.email])


# --- N-1: who may still receive a case email (decided, and checked again when sent) -------


@pytest.fixture
def check(settings):
    """The project's own checker, which the settings name (N-1)."""
    assert import_string(settings.OUTBOX_RECIPIENT_CHECK) is entitled_recipients


def _entitled(org, addresses, audience=Audience.CASE_READERS):
    return entitled_recipients(
        organization_id=org.pk, case_id=None, audience=audience, addresses=addresses
    )


def test_the_send_time_check_agrees_with_what_each_person_may_see(
    org_a, org_b, dc_a, ro_a, basic_a, dc_b, reseller, end_user_org, reseller_dc, analyst
):
    # DOMAIN N-1, T-4, T-6, T-8: the email check and the pages decide alike
    reseller_ro = member_of(reseller, AccessLevel.READ_ONLY, "ro@partner.example")
    end_user_dc = member_of(end_user_org, AccessLevel.DESIGNATED_CONTACT, "dc@end-user.example")
    gone = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "gone@org-a.example")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    people = [dc_a, ro_a, basic_a, dc_b, reseller_dc, reseller_ro, end_user_dc, gone, analyst]
    addresses = [p.email for p in people] + ["nobody@org-a.example"]

    for org in (org_a, org_b, end_user_org, reseller):
        for audience, levels in (
            (Audience.CASE_READERS, {"READ_ONLY", "DESIGNATED_CONTACT"}),
            (Audience.CASE_DESIGNATED_CONTACTS, {"DESIGNATED_CONTACT"}),
        ):
            expected = [p.email for p in people if access_level_for(fresh(p), org) in levels]
            assert _entitled(org, addresses, audience) == expected, (org, audience)
    # The reseller's people reach the end user's cases; nobody else's (T-8, T-6).
    assert _entitled(end_user_org, addresses) == [
        reseller_dc.email,
        reseller_ro.email,
        end_user_dc.email,
    ]


def test_the_check_matches_addresses_whatever_their_case(org_a, dc_a):
    assert _entitled(org_a, ["DC@Org-A.example"]) == ["dc@org-a.example"]


def test_a_deactivated_reseller_reaches_no_end_user_case(end_user_org, reseller, reseller_dc):
    # DOMAIN T-8, N-1
    assert _entitled(end_user_org, [reseller_dc.email]) == [reseller_dc.email]
    Organization.objects.filter(pk=reseller.pk).update(is_active=False)
    assert _entitled(end_user_org, [reseller_dc.email]) == []


def test_a_deactivated_organization_emails_nobody(org_a, dc_a):
    # DOMAIN N-1: the opted-in designated contacts included
    _opt_in(member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example"))
    Organization.objects.filter(pk=org_a.pk).update(is_active=False)
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a]) == []
    assert _entitled(org_a, [dc_a.email]) == []


def test_an_action_email_is_decided_for_designated_contacts_only(org_a, dc_a, ro_a):
    # DOMAIN N-1, T-4: a read-only member is informed, never asked to act
    action = Audience.CASE_DESIGNATED_CONTACTS
    assert case_email_recipients(organization_id=org_a.pk, people=[ro_a]) == [ro_a.email]
    assert case_email_recipients(organization_id=org_a.pk, people=[ro_a], audience=action) == []
    assert case_email_recipients(organization_id=org_a.pk, people=[dc_a], audience=action) == [
        dc_a.email
    ]


def test_a_staff_member_is_no_case_reader_by_email(org_a, analyst):
    # DOMAIN T-5: care's own emails are addressed to care, never checked as a customer's
    assert case_email_recipients(organization_id=org_a.pk, people=[analyst]) == []
    assert _entitled(org_a, [analyst.email]) == []


def test_an_unknown_audience_is_refused(org_a, dc_a):
    with pytest.raises(ValueError):
        case_email_recipients(organization_id=org_a.pk, people=[dc_a], audience="everyone")
    with pytest.raises(ValueError):
        _entitled(org_a, [dc_a.email], audience=Audience.NONE)


# --- N-1: every outgoing customer email kind after an access change ---------------------------
#
# The case contact ("the person") loses some access, either before the email is decided or
# between the decision and the sending. A designated contact of the case's organization who
# asked for every case's email ("the witness") keeps theirs. The person still receives an
# email that only informs when lowered to Read-only, and nothing else; the witness receives
# everything, except when the whole organization is deactivated.

EXPLANATION = "The fix is already scheduled for tonight's change window."


@dataclass(frozen=True)
class Kind:
    name: str
    action: bool  # asks the customer to act: designated contacts only
    setup: Callable[[Scene], None]
    emit: Callable[[Scene], None]


@dataclass
class Scene:
    case: Case
    person: User
    witness: User
    analyst: User
    manager: User
    escalation: Escalation | None = None


def _escalate(scene: Scene) -> None:
    with acting_as(scene.witness):
        scene.escalation = escalation_services.escalation_request(
            case=scene.case,
            actor=scene.witness,
            reason="slow_progress",
            details="The case is not moving.",
            channel=Channel.PORTAL,
            now=NOW,
        )


def _accept(scene: Scene) -> None:
    with scopes_disabled():
        escalation_services.escalation_accept(
            escalation=scene.escalation, actor=scene.manager, now=NOW
        )


def _escalate_and_accept(scene: Scene) -> None:
    _escalate(scene)
    _accept(scene)


def _care(service, **kwargs) -> Callable[[Scene], None]:
    def run(scene: Scene) -> None:
        with scopes_disabled():
            service(case=scene.case, actor=scene.analyst, channel=Channel.ADMIN, now=NOW, **kwargs)

    return run


def _ask(scene: Scene) -> None:
    ask(scene.case, scene.analyst, now=NOW)


def _sweep(*moments) -> Callable[[Scene], None]:
    def run(scene: Scene) -> None:
        for moment in moments:
            followup_sweep(now=moment)

    return run


def _ask_and_sweep(*moments) -> Callable[[Scene], None]:
    def run(scene: Scene) -> None:
        _ask(scene)
        _sweep(*moments)(scene)

    return run


def _nothing(scene: Scene) -> None:
    return None


def _priority(scene: Scene) -> None:
    with scopes_disabled():
        case_services.case_change_priority(
            case=scene.case, actor=scene.manager, priority="critical", channel="admin", now=NOW
        )


def _reject(scene: Scene) -> None:
    with scopes_disabled():
        escalation_services.escalation_reject(
            escalation=scene.escalation, actor=scene.manager, explanation=EXPLANATION, now=NOW
        )


def _resolve_escalation(scene: Scene) -> None:
    with scopes_disabled():
        escalation_services.escalation_resolve(
            escalation=scene.escalation, actor=scene.manager, summary="Fixed.", now=NOW
        )


def _owner_message(scene: Scene) -> None:
    with scopes_disabled():
        escalation_services.escalation_post_message(
            escalation=scene.escalation, actor=scene.manager, body="I will call you.", now=NOW
        )


KINDS = [
    Kind("public update", False, _nothing, _care(case_services.case_post_update, body="Hi.")),
    Kind("status change", False, _nothing, _care(case_services.case_resolve)),
    Kind("priority change", False, _nothing, _priority),
    Kind("info required", True, _nothing, _ask),
    Kind(
        "solution proposed",
        True,
        _nothing,
        _care(case_services.case_propose_solution, body="Upgrade the agent."),
    ),
    Kind("follow-up reminder 1", True, _ask, _sweep(R1)),
    Kind("follow-up reminder 2", True, _ask_and_sweep(R1), _sweep(R2)),
    Kind("follow-up final email", True, _ask_and_sweep(R1, R2), _sweep(CLOSE)),
    Kind("escalation requested", False, _nothing, _escalate),
    Kind("escalation accepted", False, _escalate, _accept),
    Kind("escalation rejected", False, _escalate, _reject),
    Kind("escalation resolved", False, _escalate_and_accept, _resolve_escalation),
    Kind("escalation owner message", False, _escalate_and_accept, _owner_message),
]


def _membership(scene: Scene) -> QuerySet:
    return Membership.unscoped.filter(user=scene.person)


CHANGES: dict[str, Callable[[Scene], None]] = {
    "membership removed": lambda s: _membership(s).delete(),
    "lowered to Basic": lambda s: _membership(s).update(access_level=AccessLevel.BASIC),
    "lowered to Read-only": lambda s: _membership(s).update(access_level=AccessLevel.READ_ONLY),
    "account deactivated": lambda s: User.objects.filter(pk=s.person.pk).update(is_active=False),
    "organization deactivated": lambda s: Organization.objects.filter(
        pk=s.case.organization_id
    ).update(is_active=False),
    "reseller link removed": lambda s: ResellerLink.objects.filter(
        end_user_id=s.case.organization_id
    ).delete(),
}


def _scene(change: str, org_a, dc_a, reseller_dc, end_user_org, analyst, manager) -> Scene:
    """The person is the case's contact: org A's designated contact, or for the reseller
    link, the partner's designated contact on the end user's case (T-8)."""
    org, person = (
        (end_user_org, reseller_dc) if change == "reseller link removed" else (org_a, dc_a)
    )
    witness = _opt_in(member_of(org, AccessLevel.DESIGNATED_CONTACT, f"witness@{org.slug}.example"))
    case = make_case(org, person, "investigation", priority="high")
    return Scene(case=case, person=person, witness=witness, analyst=analyst, manager=manager)


def _new_rows(before: set[int]) -> list[OutboxEmail]:
    with scopes_disabled():
        return [
            row
            for row in OutboxEmail.unscoped.exclude(pk__in=before).order_by("id")
            if row.audience != Audience.NONE  # care's own emails: not the customer's
        ]


def _all_rows() -> set[int]:
    with scopes_disabled():
        return set(OutboxEmail.unscoped.values_list("pk", flat=True))


def _still_reaches(kind: Kind, change: str) -> tuple[bool, bool]:
    """(the person, the witness) still receive the email."""
    return (change == "lowered to Read-only" and not kind.action), (
        change != "organization deactivated"
    )


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_access_lost_before_the_decision(
    kind, change, check, org_a, dc_a, reseller_dc, end_user_org, analyst, manager
):
    # DOMAIN N-1, T-4, T-8: decided for those who may see the case (act on it, for an action)
    scene = _scene(change, org_a, dc_a, reseller_dc, end_user_org, analyst, manager)
    kind.setup(scene)
    before = _all_rows()
    CHANGES[change](scene)
    if kind.name == "escalation requested" and change == "organization deactivated":
        with pytest.raises(NotFound):  # nobody of an inactive organization escalates
            kind.emit(scene)
        assert _new_rows(before) == []
        return

    kind.emit(scene)

    person, witness = _still_reaches(kind, change)
    decided = [address for row in _new_rows(before) for address in row.to]
    assert (scene.person.email in decided) is person
    assert (scene.witness.email in decided) is witness
    assert len(decided) == len(set(decided))  # each address in one row only


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_access_lost_between_the_decision_and_the_sending(
    kind, change, check, org_a, dc_a, reseller_dc, end_user_org, analyst, manager
):
    # DOMAIN N-1, N-5: checked again when the outbox sends
    scene = _scene(change, org_a, dc_a, reseller_dc, end_user_org, analyst, manager)
    kind.setup(scene)
    before = _all_rows()
    kind.emit(scene)
    rows = _new_rows(before)
    decided = {address for row in rows for address in row.to}
    assert {scene.person.email, scene.witness.email} <= decided  # both were to receive it
    mail.outbox = []

    CHANGES[change](scene)
    for row in rows:
        outbox_send(email_id=row.pk, now=NOW)

    person, witness = _still_reaches(kind, change)
    received = {address for message in mail.outbox for address in message.to}
    assert (scene.person.email in received) is person
    assert (scene.witness.email in received) is witness
    with scopes_disabled():
        rows = [OutboxEmail.unscoped.get(pk=row.pk) for row in rows]
    dropped = {address for row in rows for address in row.dropped}
    assert (scene.person.email in dropped) is not person
    for row in rows:
        if set(row.dropped) == set(row.to):
            assert row.state == OutboxEmail.State.WITHHELD
            assert row.reason == "Nobody it was addressed to may see the case any more."
        else:
            assert row.state == OutboxEmail.State.SENT


@pytest.mark.parametrize("change", list(CHANGES))
def test_case_opened_access_lost_between_the_decision_and_the_sending(
    change, check, org_a, dc_a, reseller_dc, end_user_org, analyst, manager
):
    # DOMAIN N-1, N-5: the acknowledgement of a new case. Its opener is its contact, who had
    # to be a designated contact to open it, so only the sending can find them without access.
    scene = _scene(change, org_a, dc_a, reseller_dc, end_user_org, analyst, manager)
    org = scene.case.organization
    before = _all_rows()
    case = open_case(scene.person, org, now=NOW)
    rows = _new_rows(before)
    assert sorted(a for row in rows for a in row.to) == sorted(
        [scene.person.email, scene.witness.email]
    )
    mail.outbox = []

    scene.case = case
    CHANGES[change](scene)
    for row in rows:
        outbox_send(email_id=row.pk, now=NOW)

    person, witness = _still_reaches(KINDS[0], change)  # it only informs
    received = {address for message in mail.outbox for address in message.to}
    assert (scene.person.email in received) is person
    assert (scene.witness.email in received) is witness
    with scopes_disabled():
        states = {tuple(row.to): row.state for row in OutboxEmail.unscoped.filter(case_id=case.pk)}
    withheld = OutboxEmail.State.WITHHELD
    assert (states[(scene.person.email,)] == withheld) is not person
    assert (states[(scene.witness.email,)] == withheld) is not witness
