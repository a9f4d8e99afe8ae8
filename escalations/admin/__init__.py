"""The care workspace for escalations: the care managers' queues and review page, and the
case's escalations on the case page. Importing the package registers the model admins
(Django's autodiscovery imports ``escalations.admin``)."""

from escalations.admin import case, escalation
from escalations.admin.escalation import EscalationAdmin

__all__ = ["EscalationAdmin", "case", "escalation"]
