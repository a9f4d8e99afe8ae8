"""What the case page shows of a case's escalations (E-1 … E-7).

The case page belongs to ``cases``, which sits below this app: its template asks this tag for
the escalation panel's data instead of its view importing escalations."""

from __future__ import annotations

from django import template
from django.utils import timezone

from cases import policy
from cases.models import Case
from escalations import rules
from escalations.selectors import case_escalations

register = template.Library()


@register.simple_tag(takes_context=True)
def escalation_panel(context: template.Context, case: Case) -> dict:
    """The case's escalations for everyone who sees the case, and for a designated contact
    whether the case can be escalated now (only they get the button, disabled with the
    reason when the rules refuse)."""
    user = context["request"].user
    escalations = list(case_escalations(user=user, case=case))
    is_dc = not policy.is_care(user) and policy.is_designated_contact(user, case)
    check = (
        rules.eligibility(user, case, timezone.now(), escalations=escalations, with_reasons=False)
        if is_dc
        else None
    )
    return {"escalations": escalations, "check": check}
