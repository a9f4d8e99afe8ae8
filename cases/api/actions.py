"""The case actions in the API: ``POST /api/v1/cases/{number}/{action}/``, one view per
action of the registry (``cases.actions``), each with its own operation in the schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cases import policy, selectors, services
from cases.api.inputs import (
    AssignSerializer,
    BodySerializer,
    ChangeFieldsSerializer,
    ReopenSerializer,
    RequiredBodySerializer,
    RestoreServiceSerializer,
    SetPrioritySerializer,
)
from cases.api.openapi import CASE_NUMBER, error_responses
from cases.api.serializers import CaseDetailSerializer
from cases.api.views import detail_response
from cases.models import Channel
from core.api import ApiView
from core.errors import NotAllowed


@dataclass(frozen=True)
class Action:
    name: str
    serializer: type[serializers.Serializer]
    care_only: bool
    summary: str
    run: Callable[..., Any]


def _with_body(service: Callable[..., Any]) -> Callable[..., Any]:
    def run(*, data: dict, **kwargs: Any) -> Any:
        return service(body=data.get("body") or None, **kwargs)

    return run


ACTIONS: tuple[Action, ...] = (
    Action(
        "close",
        BodySerializer,
        False,
        "Close the case (C-11): Resolved after a proposed solution, else Cancelled.",
        _with_body(services.case_close),
    ),
    Action(
        "confirm",
        BodySerializer,
        False,
        "Confirm the proposed solution (Solution Proposed → Problem Resolved).",
        _with_body(services.case_confirm_solution),
    ),
    Action(
        "reopen",
        ReopenSerializer,
        False,
        "Reopen a closed case within 30 days of closure, saying why (C-12).",
        lambda *, data, **kw: services.case_reopen(reason=data["reason"], **kw),
    ),
    Action(
        "take",
        BodySerializer,
        True,
        "Take the case (New → Investigation); unowned cases become yours.",
        _with_body(services.case_take),
    ),
    Action(
        "request-info",
        RequiredBodySerializer,
        True,
        "Ask the customer for information (→ Info Required).",
        _with_body(services.case_request_info),
    ),
    Action(
        "propose-solution",
        RequiredBodySerializer,
        True,
        "Propose a solution (→ Solution Proposed).",
        _with_body(services.case_propose_solution),
    ),
    Action(
        "restore-service",
        RestoreServiceSerializer,
        True,
        "Service restored (→ Pending Permanent Solution or Pending RCA).",
        lambda *, data, **kw: services.case_restore_service(
            pending=data["pending"], body=data.get("body") or None, **kw
        ),
    ),
    Action(
        "deliver-rca",
        RequiredBodySerializer,
        True,
        "Deliver the root cause analysis (Pending RCA → Solution Proposed).",
        _with_body(services.case_deliver_rca),
    ),
    Action(
        "resolve",
        BodySerializer,
        True,
        "Resolve and close the case.",
        _with_body(services.case_resolve),
    ),
    Action(
        "cancel",
        BodySerializer,
        True,
        "Cancel and close the case.",
        _with_body(services.case_cancel),
    ),
    Action(
        "redirect",
        BodySerializer,
        True,
        "Close the case as redirected to the right team.",
        _with_body(services.case_redirect),
    ),
    Action(
        "convert-to-incident",
        BodySerializer,
        True,
        "Convert a Support case to an Incident (C-2).",
        _with_body(services.case_convert_to_incident),
    ),
    Action(
        "set-priority",
        SetPrioritySerializer,
        True,
        "Change the priority, Critical included (C-5).",
        lambda *, data, **kw: services.case_change_priority(
            priority=data["priority"], body=data.get("body") or None, **kw
        ),
    ),
    Action(
        "assign",
        AssignSerializer,
        True,
        "Assign the case to a care analyst or manager, or unassign it (null).",
        lambda *, data, **kw: services.case_assign(owner=data["owner"], **kw),
    ),
    Action(
        "change-fields",
        ChangeFieldsSerializer,
        True,
        "Correct the deployment or the cloud service of an open case (C-16).",
        lambda *, data, **kw: services.case_change_fields(
            deployment_id=data.get("deployment"), service_slug=data.get("service"), **kw
        ),
    ),
)


class CaseActionView(ApiView):
    """``POST /api/v1/cases/{number}/{action}/``; one subclass per action (see ACTIONS)."""

    case_action: Action

    def post(self, request: Request, number: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, number=number)
        if self.case_action.care_only and not policy.is_care(request.user):
            raise NotAllowed("Only Customer Care can do this.")
        serializer = self.case_action.serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = self.case_action.run(
            case=case,
            actor=request.user,
            data=serializer.validated_data,
            channel=Channel.API,
            now=timezone.now(),
        )
        return detail_response(request, case)


def _fresh(method: Callable[..., Any]) -> Callable[..., Any]:
    # extend_schema annotates the function it decorates: each action needs its own.
    def post(self, request: Request, number: str) -> Response:
        return method(self, request, number)

    return post


def _action_view(action: Action) -> type[CaseActionView]:
    who = "Customer Care only." if action.care_only else "Designated contacts."
    post = extend_schema(
        operation_id=f"cases_{action.name.replace('-', '_')}",
        summary=action.summary,
        description=f"{action.summary} {who} Answers with the case.",
        parameters=[CASE_NUMBER],
        request=action.serializer,
        responses={200: CaseDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["case actions"],
    )(_fresh(CaseActionView.post))
    name = "Case" + "".join(part.title() for part in action.name.split("-")) + "View"
    return type(name, (CaseActionView,), {"case_action": action, "post": post})


ACTION_VIEWS: dict[str, type[CaseActionView]] = {a.name: _action_view(a) for a in ACTIONS}
