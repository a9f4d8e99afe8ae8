"""API representations of escalations and their feed, and the shapes of what clients send.

As for cases, serializers check the shape of the input only (present, and text where text is
expected); the rules (E-1 … E-9) are the services' to check, so the portal and the API refuse
the same things with the same words and the API names the rule that refused.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.inputs import OwnerField
from cases.api.serializers import PersonSerializer
from cases.models import Channel
from escalations import services
from escalations.links import escalation_path
from escalations.models import Escalation, EscalationMessage, Level, Reason, State


def _or_none(value: str) -> str | None:
    return value or None


def _name(user) -> str | None:
    return user.get_full_name() if user is not None else None


class TextField(serializers.CharField):
    """A CharField that takes text only: a number, a list or an object is a field error, not
    a string made of it."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- reads ---------------------------------------------------------------------------------


class EscalationListSerializer(serializers.ModelSerializer):
    """An escalation as a case's list of escalations shows it."""

    url = serializers.SerializerMethodField(help_text="This escalation in the API.")
    web_url = serializers.SerializerMethodField(help_text="This escalation in the portal.")
    case = serializers.CharField(
        source="case.display_number", help_text="The case's number, 8 digits."
    )
    state = serializers.ChoiceField(choices=State.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    reason_label = serializers.CharField(
        source="get_reason_display", help_text="The reason as the portal words it."
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    requester = serializers.SerializerMethodField(help_text="The designated contact who asked.")
    owner = serializers.SerializerMethodField(
        help_text="The escalation owner's name (a Customer Care manager); null until decided."
    )
    importance = serializers.SerializerMethodField()
    urgency = serializers.SerializerMethodField()

    class Meta:
        model = Escalation
        fields = (
            "id",
            "url",
            "web_url",
            "case",
            "state",
            "reason",
            "reason_label",
            "channel",
            "requester",
            "owner",
            "importance",
            "urgency",
            "requested_at",
            "decided_at",
            "resolved_at",
            "last_message_at",
        )
        read_only_fields = fields

    def get_url(self, escalation: Escalation) -> str:
        path = reverse("api:escalation-detail", kwargs={"id": escalation.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_web_url(self, escalation: Escalation) -> str:
        return f"{settings.SITE_URL}{escalation_path(escalation)}"

    @extend_schema_field(PersonSerializer)
    def get_requester(self, escalation: Escalation) -> dict[str, str]:
        return {"name": escalation.requester.get_full_name(), "email": escalation.requester.email}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, escalation: Escalation) -> str | None:
        return _name(escalation.owner) if escalation.owner_id else None

    @extend_schema_field(
        serializers.ChoiceField(
            choices=Level.choices,
            allow_null=True,
            help_text="Set by the care manager who accepts it (E-8); null until then.",
        )
    )
    def get_importance(self, escalation: Escalation) -> str | None:
        return _or_none(escalation.importance)

    @extend_schema_field(
        serializers.ChoiceField(
            choices=Level.choices,
            allow_null=True,
            help_text="Set by the care manager who accepts it (E-8); null until then.",
        )
    )
    def get_urgency(self, escalation: Escalation) -> str | None:
        return _or_none(escalation.urgency)


def escalation_actions(user, escalation: Escalation) -> list[str]:
    """Wire names of what this user may do with the escalation right now."""
    actions = []
    if services.is_escalation_owner(user):
        if escalation.state == State.REQUESTED:
            actions += ["accept", "reject"]
        elif escalation.state == State.ACCEPTED:
            actions.append("resolve")
    if services.can_write_message(user, escalation):
        actions.append("post-message")
    return actions


class EscalationDetailSerializer(EscalationListSerializer):
    """An escalation with what the customer wrote, the decision's words and the actions the
    caller may take now."""

    state_label = serializers.CharField(source="get_state_display")
    explanation = serializers.SerializerMethodField(
        help_text="Why it was rejected (shown to the customer); null unless rejected."
    )
    summary = serializers.SerializerMethodField(
        help_text="How it was resolved (shown to the customer); null until resolved."
    )
    actions = serializers.SerializerMethodField(
        help_text="Wire names of the actions the caller may take right now, of accept, "
        "reject, resolve and post-message; post-message is POST …/messages/, the others are "
        "POST …/{action}/."
    )

    class Meta(EscalationListSerializer.Meta):
        fields = (
            *EscalationListSerializer.Meta.fields[:5],
            "state_label",
            *EscalationListSerializer.Meta.fields[5:],
            "details",
            "explanation",
            "summary",
            "actions",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_explanation(self, escalation: Escalation) -> str | None:
        return _or_none(escalation.explanation)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_summary(self, escalation: Escalation) -> str | None:
        return _or_none(escalation.summary)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, escalation: Escalation) -> list[str]:
        return escalation_actions(self.context["request"].user, escalation)


class EscalationMessageSerializer(serializers.ModelSerializer):
    """An entry of the escalation feed (E-9)."""

    author = serializers.SerializerMethodField()
    channel = serializers.ChoiceField(choices=Channel.choices)

    class Meta:
        model = EscalationMessage
        fields = ("id", "body", "by_care", "author", "channel", "created_at")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, message: EscalationMessage) -> str | None:
        return _name(message.author) if message.author_id else None


# --- writes --------------------------------------------------------------------------------


class EscalationRequestSerializer(serializers.Serializer):
    """Asking for an escalation of a case (E-1 … E-7)."""

    reason = TextField(
        allow_blank=True,
        max_length=64,
        help_text="One of: "
        + ", ".join(f"`{r.value}` ({r.label})" for r in Reason)
        + ". A change of urgency or impact is not a reason (E-4): ask for a priority "
        "change with an update instead.",
    )
    details = TextField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="What is wrong and what you expect (required).",
    )


class MessageCreateSerializer(serializers.Serializer):
    body = TextField(allow_blank=True, trim_whitespace=False)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "email"}],
        "description": "A Customer Care manager's user id or email; you if left out.",
    }
)
class ManagerField(OwnerField):
    """The escalation owner by user id or email; the service checks that they are a care
    manager (E-8)."""

    default_error_messages = {
        "invalid": "Give the owner's user id or email address.",
        "unknown": "No Customer Care manager has this id or email address.",
    }


class AcceptSerializer(serializers.Serializer):
    importance = serializers.ChoiceField(
        choices=Level.choices, required=False, help_text="Medium if left out."
    )
    urgency = serializers.ChoiceField(
        choices=Level.choices, required=False, help_text="Medium if left out."
    )
    owner = ManagerField(required=False)


class RejectSerializer(serializers.Serializer):
    explanation = TextField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="Why it is not accepted; shown to the customer (required).",
    )


class ResolveSerializer(serializers.Serializer):
    summary = TextField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="How it was resolved; shown to the customer (required).",
    )
