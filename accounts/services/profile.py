"""What a user changes about themselves (T-11)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.textclean import clean_line

# Fields that are one line of text wherever they are shown (emails included).
ONE_LINE = ("display_name", "phone")


@transaction.atomic
def user_update_profile(*, user: User, data: dict) -> User:
    """Saves the profile fields a user may change themselves (T-11).

    The email address is not among them: a change needs re-verification, which care does.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    fields = ["display_name", "phone", "time_zone"]
    if "email_all_cases" in data:
        fields.append("email_all_cases")
    for field in fields:
        value = data[field]
        setattr(user, field, clean_line(value) if field in ONE_LINE else value)
    if data.get("new_pin"):
        user.set_pin(data["new_pin"])
        fields.append("pin_hash")
    user.save(update_fields=fields)
    return user
