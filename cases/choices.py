"""The choices of cases (C-2 … C-9, S-6): types, priorities, statuses and the tables derived
from them. ``cases.models`` re-exports every name, so ``from cases.models import Priority``
keeps working; code that needs only the choices imports them from here."""

from __future__ import annotations

from django.db import models


class CaseType(models.TextChoices):
    SUPPORT = "support", "Support"
    SERVICE_REQUEST = "service_request", "Service Request"
    DATA_PRIVACY = "data_privacy", "Data Privacy Request"
    ADMIN = "admin", "Admin"
    INCIDENT = "incident", "Incident"
    FEATURE_REQUEST = "feature_request", "Feature Request"


class SubType(models.TextChoices):
    PROBLEM = "problem", "Problem"
    QUESTION = "question", "Question"
    ADD_REMOVE_ACCESS = "add_remove_access", "Add/Remove Access"
    PASSWORD_RESET = "password_reset", "Password Reset"
    CHANGE_REQUEST = "change_request", "Change Request"
    NEW_PROJECT_REQUEST = "new_project_request", "New Project Request"
    REQUEST = "request", "Request"


# C-2: the types a designated contact can open and their sub-types (empty: none).
CUSTOMER_TYPES: dict[str, tuple[str, ...]] = {
    CaseType.SUPPORT: (SubType.PROBLEM, SubType.QUESTION),
    CaseType.SERVICE_REQUEST: (
        SubType.ADD_REMOVE_ACCESS,
        SubType.PASSWORD_RESET,
        SubType.CHANGE_REQUEST,
        SubType.NEW_PROJECT_REQUEST,
    ),
    CaseType.DATA_PRIVACY: (),
    CaseType.ADMIN: (SubType.QUESTION, SubType.REQUEST, SubType.PROBLEM),
}
# Care converts a Support case to an Incident (C-2); an incident keeps its sub-type.
ALL_TYPES: dict[str, tuple[str, ...]] = {
    **CUSTOMER_TYPES,
    CaseType.INCIDENT: (SubType.PROBLEM, SubType.QUESTION),
    CaseType.FEATURE_REQUEST: (),
}


class Stage(models.TextChoices):
    PRODUCTION = "production", "Production"
    UAT = "uat", "UAT"


class Priority(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


CUSTOMER_PRIORITIES = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)  # C-5
PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}


class Status(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_INFO = "awaiting_info", "Awaiting Info"
    SERVICE_RESTORED = "service_restored", "Service Restored"
    SOLUTION_PROPOSED = "solution_proposed", "Solution Proposed"
    CLOSED = "closed", "Closed"


class SubStatus(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATION = "investigation", "Investigation"
    CUSTOMER_RESPONDED = "customer_responded", "Customer Responded"
    INFO_REQUIRED = "info_required", "Info Required from Customer"
    PENDING_PERMANENT_SOLUTION = "pending_permanent_solution", "Pending Permanent Solution"
    PENDING_RCA = "pending_rca", "Pending RCA"
    SOLUTION_PROPOSED = "solution_proposed", "Solution Proposed"
    PROBLEM_RESOLVED = "problem_resolved", "Problem Resolved"
    CANCELLED = "cancelled", "Cancelled"
    RESOLVED = "resolved", "Resolved"
    REDIRECTED = "redirected", "Redirected"


# C-7: status derived from sub-status.
STATUS_OF: dict[str, str] = {
    SubStatus.NEW: Status.OPEN,
    SubStatus.INVESTIGATION: Status.OPEN,
    SubStatus.CUSTOMER_RESPONDED: Status.OPEN,
    SubStatus.INFO_REQUIRED: Status.AWAITING_INFO,
    SubStatus.PENDING_PERMANENT_SOLUTION: Status.SERVICE_RESTORED,
    SubStatus.PENDING_RCA: Status.SERVICE_RESTORED,
    SubStatus.SOLUTION_PROPOSED: Status.SOLUTION_PROPOSED,
    SubStatus.PROBLEM_RESOLVED: Status.SOLUTION_PROPOSED,
    SubStatus.CANCELLED: Status.CLOSED,
    SubStatus.RESOLVED: Status.CLOSED,
    SubStatus.REDIRECTED: Status.CLOSED,
}
CLOSED_SUB_STATUSES = tuple(s for s, st in STATUS_OF.items() if st == Status.CLOSED)
OPEN_SUB_STATUSES = tuple(s for s in STATUS_OF if s not in CLOSED_SUB_STATUSES)
AWAITING_CUSTOMER = (SubStatus.INFO_REQUIRED, SubStatus.SOLUTION_PROPOSED)


class ClosureReason(models.TextChoices):
    CUSTOMER_CLOSED = "customer_closed", "Closed by the customer"
    SOLUTION_CONFIRMED = "solution_confirmed", "Solution confirmed"
    RESOLVED_BY_CARE = "resolved_by_care", "Resolved by care"
    NO_CUSTOMER_RESPONSE = "no_customer_response", "No customer response"
    CANCELLED = "cancelled", "Cancelled"
    REDIRECTED = "redirected", "Redirected"


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    EMAIL = "email", "Email"
    ADMIN = "admin", "Care workspace"
    SYSTEM = "system", "System"


class SlaState(models.TextChoices):
    OK = "ok", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
