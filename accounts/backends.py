"""Signing in with the email address, and reading the signed-in user of a request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.http import HttpRequest

from accounts.models import Membership, User


class EmailBackend(ModelBackend):
    """Signs in with the email address, case-insensitively; inactive users are refused."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        return super().authenticate(
            request, username=username or email, password=password, **kwargs
        )

    def get_user(self, user_id: int) -> User | None:
        """The signed-in user of a request, with their organizations read in the same query.

        Every page reads the user and then the organizations of their memberships (the
        tenant scope, the layout, the lists): one statement instead of two. The rows are
        the user's memberships of active organizations, by organization name, each joined to
        the user and the organization; they become the organizations' cache that
        ``accounts.selectors`` would otherwise fill with its own query (the same rows, the
        same order, the same annotations). A user without such memberships (care staff,
        or a customer whose organizations are all inactive) is read on their own."""
        memberships = list(
            Membership.unscoped.filter(user_id=user_id, organization__is_active=True)
            .select_related("user", "organization")
            .annotate(calendar_time_zone=F("organization__businesscalendar__time_zone"))
            .order_by("organization__name")
        )
        if not memberships:
            user = super().get_user(user_id)
            if user is not None:
                user._member_organizations_cache = []
            return user
        user = memberships[0].user
        organizations = []
        for membership in memberships:
            organization = membership.organization
            organization.membership_level = membership.access_level
            organization.calendar_time_zone = membership.calendar_time_zone
            organizations.append(organization)
        user._member_organizations_cache = organizations
        return user if self.user_can_authenticate(user) else None
