"""The "Service levels" panel of the case page (S-1 … S-8): what is stored, never computed."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import AccessLevel, SupportLevel
from accounts.selectors import access_level_for
from cases.models import Case
from cases.sla import sla_rows

register = template.Library()


@register.inclusion_tag("cases/_sla_panel.html", takes_context=True)
def sla_panel(context: template.Context, case: Case) -> dict[str, Any]:
    user = context["request"].user
    return {
        "case": case,
        "rows": sla_rows(case),
        "care_level": case.organization.support_level == SupportLevel.CARE,
        # Designated contacts also see their organization's report (S-6).
        "report": not user.is_staff
        and access_level_for(user, case.organization_id) == AccessLevel.DESIGNATED_CONTACT,
        "organization": case.organization,
    }
