"""Who receives a customer's case email (N-1): the case contact, and the designated
contacts of the case's organization who asked for every case's email in their profile;
each only while they may still see the case.

An email is decided for an audience (``OutboxEmail.Audience``): the case's readers
(READ_ONLY and DESIGNATED_CONTACT members, directly or through a linked reseller partner,
T-4, T-8) for an email that only informs, or its designated contacts for one that asks the
customer to act. The recipients are checked when the email is decided
(``case_email_recipients``) and again when the outbox sends it (``entitled_recipients``,
named by the ``OUTBOX_RECIPIENT_CHECK`` setting), so someone who lost access in between
gets nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.functions import Lower

from accounts.models import AccessLevel, Membership, User
from accounts.selectors import access_levels_in, access_levels_of
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled

Audience = OutboxEmail.Audience

# The access levels that may receive an email of each audience.
LEVELS = {
    Audience.CASE_READERS: frozenset({AccessLevel.READ_ONLY, AccessLevel.DESIGNATED_CONTACT}),
    Audience.CASE_DESIGNATED_CONTACTS: frozenset({AccessLevel.DESIGNATED_CONTACT}),
}


def _levels_for(audience: str) -> frozenset[str]:
    try:
        return LEVELS[audience]
    except KeyError:
        raise ValueError(f"A case email's audience, not {audience!r}.") from None


def case_email_recipients(
    *,
    organization_id: int,
    people: Iterable[User | None],
    audience: str = Audience.CASE_READERS,
) -> list[str]:
    """The addresses of ``people`` (the contact, and whoever else the email is about) who
    may still receive an email of ``audience`` about the organization's case, then every
    active designated contact of the organization who opted in, each once, in that order."""
    levels = _levels_for(audience)
    people = [p for p in people if p is not None and p.is_active and not p.is_staff]
    entitled = access_levels_of(organization_id, people)
    addresses = [p.email for p in people if entitled.get(p.pk) in levels]
    with scopes_disabled():
        opted_in = Membership.objects.filter(
            organization_id=organization_id,
            organization__is_active=True,
            access_level=AccessLevel.DESIGNATED_CONTACT,
            user__is_active=True,
            user__is_staff=False,
            user__email_all_cases=True,
        )
        # No ordering: the model's default (by organization and name) would join and sort.
        opted_in = opted_in.order_by("user_id").values_list("user__email", flat=True)
        addresses.extend(opted_in)
    return list(dict.fromkeys(addresses))


def entitled_recipients(
    *, organization_id: int, case_id: int | None, audience: str, addresses: Iterable[str]
) -> list[str]:
    """The outbox's check at send time (the ``OUTBOX_RECIPIENT_CHECK`` setting): those of
    ``addresses`` whose account may still receive an email of ``audience`` about a case of
    the organization. An address with no account, an inactive or staff account, or one that
    lost its access (membership removed or lowered, organization deactivated, reseller link
    removed) is left out."""
    levels = _levels_for(audience)
    addresses = [a.strip().lower() for a in addresses]
    users = dict(
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=set(addresses), is_active=True, is_staff=False)
        .values_list("address", "pk")
    )
    entitled = access_levels_in(organization_id, users.values())
    return [a for a in addresses if a in users and entitled.get(users[a]) in levels]
