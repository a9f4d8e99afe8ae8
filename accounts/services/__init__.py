"""Writes about people and tenants: one function per change.

- ``profile``: what a user changes about themselves (T-11).
- ``holidays``: the public holidays each calendar keeps a snapshot of (B-1).
- ``organizations``, ``calendars``, ``memberships``, ``setup`` (deployments, email domains,
  reseller partner links): care's changes to an organization's set-up. Each locks the row,
  checks the actor's role, saves the changed fields and writes an ``OrganizationChange``
  history row (``history``) in the same transaction.

Changes that move the due times of open cases (support level, calendar) are called through
``cases.services``, which recomputes them: this layer does not know cases.

The public services are importable from ``accounts.services`` itself.
"""

from accounts.services.calendars import calendar_create, calendar_delete, calendar_update
from accounts.services.holidays import (
    SNAPSHOT_YEARS_AHEAD,
    calendar_snapshot_holidays,
    calendars_extend_holiday_snapshots,
    snapshot_years,
)
from accounts.services.memberships import (
    membership_add,
    membership_change_level,
    membership_remove,
)
from accounts.services.organizations import (
    organization_change_support_level,
    organization_create,
    organization_update,
)
from accounts.services.profile import user_update_profile
from accounts.services.setup import (
    deployment_add,
    deployment_removal_refused,
    deployment_remove,
    deployment_update,
    email_domain_add,
    email_domain_remove,
    email_domain_update,
    reseller_link_add,
    reseller_link_remove,
)

__all__ = [
    "SNAPSHOT_YEARS_AHEAD",
    "calendar_create",
    "calendar_delete",
    "calendar_snapshot_holidays",
    "calendar_update",
    "calendars_extend_holiday_snapshots",
    "deployment_add",
    "deployment_removal_refused",
    "deployment_remove",
    "deployment_update",
    "email_domain_add",
    "email_domain_remove",
    "email_domain_update",
    "membership_add",
    "membership_change_level",
    "membership_remove",
    "organization_change_support_level",
    "organization_create",
    "organization_update",
    "reseller_link_add",
    "reseller_link_remove",
    "snapshot_years",
    "user_update_profile",
]
