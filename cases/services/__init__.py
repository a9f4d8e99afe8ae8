"""Every change to a case goes through one function of this package (C-1 … C-16).

Each service locks the case row, checks who may act (T-4, T-5), fires the state-machine
transition, saves with ``update_fields``, writes the history event in the same transaction
(``history.case_event_record``, the only writer of ``CaseEvent``) and records the emails to
send after commit (N-5).

- ``common``: the lock, permission checks, saving, text cleaning, updates.
- ``history``: the case history writer.
- ``lifecycle``: what follows every change (due times, follow-up timers), called explicitly.
- ``transitions``: a status change as care or the customer performs it.
- ``opening``: a new case (C-1 … C-5).
- ``feed``: public updates and internal notes (C-6, C-9).
- ``care``: care's status changes and the system's close for no response (F-4).
- ``customer``: the customer's status changes (C-11, C-12).
- ``fields``: priority, owner, type, deployment and service.
- ``escalation``: what an escalation changes on its case (E-7).
- ``organizations``: support-level and calendar changes, with the due times of open cases
  recomputed (S-5, S-8, B-1).

The public services are importable from ``cases.services`` itself. Modules of this package
import each other directly, never through this file.
"""

from cases.services.care import (
    case_auto_close,
    case_deliver_rca,
    case_propose_solution,
    case_redirect,
    case_request_info,
    case_resolve,
    case_restore_service,
    case_take,
)
from cases.services.common import BODY_MAX, SUBJECT_MAX
from cases.services.customer import case_cancel, case_close, case_confirm_solution, case_reopen
from cases.services.escalation import case_mark_escalated
from cases.services.feed import case_post_update
from cases.services.fields import (
    case_assign,
    case_change_fields,
    case_change_priority,
    case_convert_to_incident,
)
from cases.services.history import case_event_record, case_events_record_bulk
from cases.services.opening import CaseInput, case_open, validate_case_input
from cases.services.organizations import (
    calendar_create,
    calendar_delete,
    calendar_update,
    organization_change_support_level,
)

__all__ = [
    "BODY_MAX",
    "SUBJECT_MAX",
    "CaseInput",
    "calendar_create",
    "calendar_delete",
    "calendar_update",
    "case_assign",
    "case_auto_close",
    "case_cancel",
    "case_change_fields",
    "case_change_priority",
    "case_close",
    "case_confirm_solution",
    "case_convert_to_incident",
    "case_deliver_rca",
    "case_event_record",
    "case_events_record_bulk",
    "case_mark_escalated",
    "case_open",
    "case_post_update",
    "case_propose_solution",
    "case_redirect",
    "case_reopen",
    "case_request_info",
    "case_resolve",
    "case_restore_service",
    "case_take",
    "organization_change_support_level",
    "validate_case_input",
]
