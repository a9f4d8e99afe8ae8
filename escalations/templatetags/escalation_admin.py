"""The care workspace's front page: how many escalations wait for a care manager (E-8)."""

from django import template

from core.tenancy import scopes_disabled
from escalations.models import Escalation, State

register = template.Library()


@register.simple_tag
def escalations_to_review() -> int:
    """Requested escalations not yet decided: one count on the escalation_queue index."""
    with scopes_disabled():
        return Escalation.objects.filter(state=State.REQUESTED).count()
