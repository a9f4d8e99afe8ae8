"""Where an escalation lives on the web: the customer sees it on the case page; care work it
in the care workspace."""

from django.conf import settings

from cases.links import case_path
from escalations.models import Escalation


def escalation_path(escalation: Escalation) -> str:
    return f"{case_path(escalation.case.number)}escalations/{escalation.pk}/"


def escalation_admin_url(escalation: Escalation) -> str:
    return f"{settings.SITE_URL}/admin/escalations/escalation/{escalation.pk}/change/"
