"""What API clients send about cases: the shapes of a new case, an update and the input of
each case action.

Serializers check the shape of the input; the rules of the domain (C-2 … C-6, C-8) are the
services' to check, so the portal and the API refuse the same things with the same words.
Values on the wire are the model enums' values; an organization is named by its slug, a
deployment by its id, a service by its slug.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization, User
from cases import policy
from cases.actions import FIELDS, MESSAGE, NOTE, OWNER, PRIORITY, REASON, RESTORE, UPDATE, Input
from cases.models import CaseType, Priority, Stage, SubType


class CaseCreateSerializer(serializers.Serializer):
    """Opening a case (C-2 … C-5). JSON, or multipart with ``attachments`` files."""

    organization = serializers.SlugField(
        required=False,
        help_text="The organization's slug; may be left out by someone who can open cases "
        "in one organization only.",
    )
    deployment = serializers.IntegerField(help_text="The deployment's id (T-2).")
    service = serializers.SlugField(
        required=False, allow_null=True, allow_blank=True, help_text="Not for Admin cases."
    )
    type = serializers.ChoiceField(choices=CaseType.choices)
    sub_type = serializers.ChoiceField(
        choices=SubType.choices, required=False, allow_null=True, allow_blank=True
    )
    implementation_stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Support cases only.",
    )
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(trim_whitespace=False)
    priority = serializers.ChoiceField(
        choices=Priority.choices, help_text="high, medium or low; only care sets critical (C-5)."
    )
    business_impact = serializers.CharField()
    affected_count = serializers.IntegerField(
        required=False, allow_null=True, help_text="Problem cases only."
    )
    external_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Multipart only."
    )

    def validate_organization(self, slug: str) -> Organization:
        organization = self.context["organizations"].get(slug)
        if organization is None:
            raise serializers.ValidationError("Choose one of your organizations.")
        return organization

    def validate(self, attrs: dict) -> dict:
        if "organization" not in attrs:
            candidates = self.context["case_organizations"]
            if len(candidates) != 1:
                raise serializers.ValidationError(
                    {"organization": ["Say which organization the case is for (its slug)."]}
                )
            attrs["organization"] = candidates[0]
        return attrs


class UpdateCreateSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)
    internal = serializers.BooleanField(
        default=False, help_text="An internal note (Customer Care only; never shown to customers)."
    )
    requested_priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        allow_blank=True,
        help_text="Ask for a priority change (customers; C-6).",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Multipart only."
    )


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Posted as the public update that goes with the change.",
    )


class RequiredBodySerializer(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=False, help_text="Posted as the public update that goes with the change."
    )


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        trim_whitespace=False,
        help_text="Why the case is reopened; posted as a public update (C-12).",
    )


class RestoreServiceSerializer(BodySerializer):
    pending = serializers.ChoiceField(
        choices=[("permanent_solution", "Permanent solution"), ("rca", "RCA")],
        default="permanent_solution",
        help_text="What is still to come once service is restored (C-8).",
    )


class SetPrioritySerializer(BodySerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "email"}],
        "nullable": True,
        "description": "A care analyst's or manager's user id or email; null unassigns.",
    }
)
class OwnerField(serializers.Field):
    """A staff user by id or email; null unassigns."""

    default_error_messages = {
        "invalid": "Give the owner's user id or email address, or null.",
        "unknown": "No care analyst or manager has this id or email address.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        if text.isdigit():
            owner = User.objects.filter(pk=int(text), is_staff=True, is_active=True).first()
        elif "@" in text and len(text) <= 254:
            owner = User.objects.filter(email__iexact=text, is_staff=True, is_active=True).first()
        else:
            self.fail("invalid")
        if owner is None or not policy.is_care(owner):
            self.fail("unknown")
        return owner

    def to_representation(self, value):
        return value.pk if value else None


class ChangeFieldsSerializer(serializers.Serializer):
    deployment = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**53,
        help_text="A deployment id of the case's organization.",
    )
    service = serializers.SlugField(
        required=False, allow_blank=True, max_length=64, help_text="A cloud service slug."
    )

    def validate(self, attrs: dict) -> dict:
        if "deployment" not in attrs and "service" not in attrs:
            raise serializers.ValidationError("Give a deployment, a service, or both.")
        return attrs


class AssignSerializer(serializers.Serializer):
    owner = OwnerField(allow_null=True)


# The serializer of each input the case actions take (cases.actions); posting an update
# (UPDATE) is the feed's POST.
ACTION_INPUTS: dict[Input, type[serializers.Serializer]] = {
    NOTE: BodySerializer,
    MESSAGE: RequiredBodySerializer,
    RESTORE: RestoreServiceSerializer,
    PRIORITY: SetPrioritySerializer,
    OWNER: AssignSerializer,
    FIELDS: ChangeFieldsSerializer,
    REASON: ReopenSerializer,
    UPDATE: UpdateCreateSerializer,
}
