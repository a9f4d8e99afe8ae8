"""The case actions in the API: ``POST /api/v1/cases/{number}/{action}/``, one view per
action of the registry (``cases.actions``), each with its own operation in the schema.
Posting an update is not among them: it is ``POST …/updates/``, the feed's own URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from cases import policy, selectors
from cases.actions import CASE_ACTIONS, POST_UPDATE, CaseAction
from cases.api.inputs import ACTION_INPUTS
from cases.api.openapi import CASE_NUMBER, error_responses
from cases.api.serializers import CaseDetailSerializer
from cases.api.views import detail_response
from cases.models import Channel
from core.api import ApiView
from core.errors import NotAllowed


class CaseActionView(ApiView):
    """``POST /api/v1/cases/{number}/{action}/``; one subclass per action (ACTION_VIEWS)."""

    case_action: CaseAction

    def post(self, request: Request, number: str) -> Response:
        action = self.case_action
        case = selectors.case_get_for_user(user=request.user, number=number)
        if action.care_only and not policy.is_care(request.user):
            raise NotAllowed("Only Customer Care can do this.")
        serializer = ACTION_INPUTS[action.takes](data=request.data)
        serializer.is_valid(raise_exception=True)
        case = action.run(
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


def _action_view(action: CaseAction) -> type[CaseActionView]:
    who = "Customer Care only." if action.care_only else "Designated contacts."
    post = extend_schema(
        operation_id=f"cases_{action.name.replace('-', '_')}",
        summary=action.summary,
        description=f"{action.summary} {who} Answers with the case.",
        parameters=[CASE_NUMBER],
        request=ACTION_INPUTS[action.takes],
        responses={200: CaseDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["case actions"],
    )(_fresh(CaseActionView.post))
    name = "Case" + "".join(part.title() for part in action.name.split("-")) + "View"
    return type(name, (CaseActionView,), {"case_action": action, "post": post})


ACTION_VIEWS: dict[str, type[CaseActionView]] = {
    action.name: _action_view(action)
    for action in CASE_ACTIONS.values()
    if action is not POST_UPDATE
}
