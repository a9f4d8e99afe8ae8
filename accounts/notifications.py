"""Who receives a customer's case email (N-1): the case contact, and the designated
contacts of the case's organization who asked for every case's email in their profile."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import AccessLevel, Membership, User
from core.tenancy import scopes_disabled


def case_email_recipients(*, organization_id: int, people: Iterable[User]) -> list[str]:
    """The addresses of ``people`` (the contact, and whoever else the email is about) who
    are active, then every active designated contact of the organization who opted in,
    each once, in that order."""
    addresses = [p.email for p in people if p is not None and p.is_active]
    with scopes_disabled():
        opted_in = Membership.objects.filter(
            organization_id=organization_id,
            access_level=AccessLevel.DESIGNATED_CONTACT,
            user__is_active=True,
            user__is_staff=False,
            user__email_all_cases=True,
        )
        # No ordering: the model's default (by organization and name) would join and sort.
        opted_in = opted_in.order_by("user_id").values_list("user__email", flat=True)
        addresses.extend(opted_in)
    return list(dict.fromkeys(addresses))
