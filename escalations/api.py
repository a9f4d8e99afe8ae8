"""REST API v1 for escalations (E-1 … E-9): a thin edge over the selectors and services.

A designated contact asks for an escalation of a case and writes in its feed; a Customer
Care manager accepts, rejects or resolves it. Every write is one call of an
``escalations.services`` function with the API channel; domain errors become 400 (with the
rule that refused, e.g. ``"rule": "E-3"``), 403, 404 and 409 in
``core.api.exception_handler``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cases import selectors as case_selectors
from cases.api.openapi import CASE_NUMBER, error_responses
from cases.models import Case, Channel
from core.api import ApiGenericView, ApiView
from core.audit.services import audit_staff_access
from core.errors import NotAllowed
from escalations import selectors, services
from escalations.models import Escalation
from escalations.serializers import (
    AcceptSerializer,
    EscalationDetailSerializer,
    EscalationListSerializer,
    EscalationMessageSerializer,
    EscalationRequestSerializer,
    MessageCreateSerializer,
    RejectSerializer,
    ResolveSerializer,
)

ESCALATION_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The escalation's id."
)
TAGS = ["escalations"]


class RefusalSerializer(serializers.Serializer):
    """The body of a 400 when a rule refuses the request."""

    detail = serializers.CharField(help_text="What the rule says, and what to do instead.")
    rule = serializers.CharField(help_text="The rule that refused: E-1, E-3, E-4, E-5, E-6, E-7.")


def _errors(
    *codes: int, of: str = "escalation", texts: dict[int, str] | None = None
) -> dict[int, OpenApiResponse]:
    return error_responses(
        *codes,
        texts={
            404: f"No such {of}, or not visible to you.",
            409: "Not possible from the escalation's current state, or changed concurrently.",
            **(texts or {}),
        },
    )


def _detail(
    request: Request, escalation: Escalation, *, code: int = status.HTTP_200_OK
) -> Response:
    # Read it again through the selector: the caller sees it as stored, with the case, the
    # requester and the owner joined in.
    escalation = selectors.escalation_get_for_user(user=request.user, escalation_id=escalation.pk)
    data = EscalationDetailSerializer(escalation, context={"request": request}).data
    return Response(data, status=code)


class _Paginated(ApiGenericView):
    def paginated(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class CaseEscalationsView(_Paginated):
    serializer_class = EscalationListSerializer
    queryset = Case.unscoped.none()  # a hint for the schema generator only

    def get_case(self) -> Case:
        return case_selectors.case_get_for_user(
            user=self.request.user, number=self.kwargs["number"]
        )

    @extend_schema(
        operation_id="cases_escalations_list",
        summary="The escalations of a case",
        description="Every escalation of the case, newest first; at most one is active "
        "(requested or accepted) at a time (E-2).",
        parameters=[CASE_NUMBER],
        responses={200: EscalationListSerializer(many=True), **_errors(401, 404, of="case")},
        tags=TAGS,
    )
    def get(self, request: Request, number: str) -> Response:
        case = self.get_case()
        audit_staff_access(request, case)
        escalations = selectors.case_escalations(user=request.user, case=case)
        return self.paginated(escalations.select_related("case"))

    @extend_schema(
        operation_id="cases_escalations_create",
        summary="Escalate a case",
        description="A designated contact asks Customer Care management to look at the case "
        "(E-1 … E-7). A rule that refuses answers 400 with the rule's name in `rule` and its "
        "words in `detail` (E-1 closed case, E-3 LOW priority, E-4 a change of urgency or "
        "impact, E-5 RCA not yet overdue, E-6 a recent care update, E-7 not a reason of the "
        "list); an escalation already in progress answers 409 (E-2).",
        parameters=[CASE_NUMBER],
        request=EscalationRequestSerializer,
        responses={
            201: EscalationDetailSerializer,
            400: OpenApiResponse(
                response=RefusalSerializer,
                description='Invalid input ({"field": ["message"]}), or refused by a rule '
                "(then also `rule` and `detail`).",
            ),
            **_errors(
                401,
                403,
                404,
                409,
                of="case",
                texts={
                    403: "Not a designated contact of the organization (read-only access, "
                    "or Customer Care).",
                    409: "The case already has an escalation in progress (E-2).",
                },
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, number: str) -> Response:
        case = self.get_case()
        serializer = EscalationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation = services.escalation_request(
            case=case,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            details=serializer.validated_data["details"],
            channel=Channel.API,
            now=timezone.now(),
        )
        response = _detail(request, escalation, code=status.HTTP_201_CREATED)
        response["Location"] = response.data["url"]
        return response


class _EscalationView:
    def get_escalation(self, request: Request, id: int) -> Escalation:
        return selectors.escalation_get_for_user(user=request.user, escalation_id=id)


class EscalationDetailView(_EscalationView, ApiView):
    @extend_schema(
        operation_id="escalations_retrieve",
        summary="An escalation",
        description="Its state, the customer's reason and details, the decision (owner, "
        "importance, urgency, explanation or summary) and the actions you may take now.",
        parameters=[ESCALATION_ID],
        responses={200: EscalationDetailSerializer, **_errors(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, id: int) -> Response:
        escalation = self.get_escalation(request, id)
        audit_staff_access(request, escalation)
        context = {"request": request}
        return Response(EscalationDetailSerializer(escalation, context=context).data)


class EscalationMessagesView(_EscalationView, _Paginated):
    serializer_class = EscalationMessageSerializer
    queryset = Escalation.unscoped.none()  # a hint for the schema generator only

    @extend_schema(
        operation_id="escalations_messages_list",
        summary="The escalation feed",
        description="Messages between the customer and the escalation owner, oldest first "
        "(E-9); separate from the case feed.",
        parameters=[ESCALATION_ID],
        responses={200: EscalationMessageSerializer(many=True), **_errors(401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, id: int) -> Response:
        escalation = self.get_escalation(request, id)
        audit_staff_access(request, escalation)
        return self.paginated(selectors.escalation_feed(escalation=escalation))

    @extend_schema(
        operation_id="escalations_messages_create",
        summary="Write in the escalation feed",
        description="Designated contacts of the organization and Customer Care managers, "
        "while the escalation is requested or accepted (E-9); afterwards 409.",
        parameters=[ESCALATION_ID],
        request=MessageCreateSerializer,
        responses={201: EscalationMessageSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request: Request, id: int) -> Response:
        escalation = self.get_escalation(request, id)
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.escalation_post_message(
            escalation=escalation,
            actor=request.user,
            body=serializer.validated_data["body"],
            channel=Channel.API,
            now=timezone.now(),
        )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


# --- a care manager's decisions -----------------------------------------------------------


class EscalationDecisionView(_EscalationView, ApiView):
    """``POST /api/v1/escalations/{id}/{decision}/``: Customer Care managers only (E-8).

    As with the care-only case actions, someone who can see the escalation but may not
    decide gets 403; someone who cannot see it gets 404."""

    serializer_class: type[serializers.Serializer]
    decide: Callable[..., Escalation]

    def post(self, request: Request, id: int) -> Response:
        escalation = self.get_escalation(request, id)
        if not services.is_escalation_owner(request.user):
            raise NotAllowed("Only a Customer Care manager can decide on escalations.")
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation = self.decide(
            escalation=escalation,
            actor=request.user,
            channel=Channel.API,
            now=timezone.now(),
            **serializer.validated_data,
        )
        return _detail(request, escalation)


def _decision_view(
    name: str,
    serializer: type[serializers.Serializer],
    decide: Callable[..., Escalation],
    summary: str,
) -> type[EscalationDecisionView]:
    def post(self, request: Request, id: int) -> Response:
        return EscalationDecisionView.post(self, request, id)

    post = extend_schema(
        operation_id=f"escalations_{name}",
        summary=summary,
        description=f"{summary} Customer Care managers only. Answers with the escalation.",
        parameters=[ESCALATION_ID],
        request=serializer,
        responses={200: EscalationDetailSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=TAGS,
    )(post)
    attrs: dict[str, Any] = {
        "serializer_class": serializer,
        "decide": staticmethod(decide),
        "post": post,
    }
    return type(f"Escalation{name.title()}View", (EscalationDecisionView,), attrs)


EscalationAcceptView = _decision_view(
    "accept",
    AcceptSerializer,
    services.escalation_accept,
    "Accept the escalation and prioritise it by importance and urgency (E-8); the owner is "
    "you unless another care manager is named.",
)
EscalationRejectView = _decision_view(
    "reject",
    RejectSerializer,
    services.escalation_reject,
    "Reject the escalation with an explanation the customer sees (E-8).",
)
EscalationResolveView = _decision_view(
    "resolve",
    ResolveSerializer,
    services.escalation_resolve,
    "Resolve an accepted escalation with a summary the customer sees (E-8).",
)
