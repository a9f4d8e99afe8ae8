"""API representations of cases: list rows, the detail, the feed, the history, files and
the catalogue.

Values on the wire are the model enums' values; an organization is named by its slug, a
deployment by its id, a service by its slug and a case by its 8-digit number.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.actions import available_actions
from cases.links import case_url
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseType,
    CaseUpdate,
    Channel,
    ClosureReason,
    CloudService,
    Priority,
    Stage,
    Status,
    SubStatus,
    SubType,
)
from cases.sla import sla_summary


def _or_none(value: str) -> str | None:
    return value or None


# One unbound field formats every date-time the way the declared fields do (ISO 8601 in the
# current time zone, "Z" for UTC).
_DATETIME = serializers.DateTimeField()


def _when(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()


class CaseListSerializer(serializers.ModelSerializer):
    """A case as a list row shows it."""

    number = serializers.CharField(
        source="display_number", help_text="The case number, 8 digits (C-1)."
    )
    url = serializers.SerializerMethodField(help_text="This case in the API.")
    web_url = serializers.SerializerMethodField(help_text="This case in the portal.")
    status = serializers.ChoiceField(choices=Status.choices)
    sub_status = serializers.ChoiceField(choices=SubStatus.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    type = serializers.ChoiceField(choices=CaseType.choices)
    sub_type = serializers.SerializerMethodField()
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    deployment = serializers.PrimaryKeyRelatedField(read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    contact = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField(help_text="The care owner's name.")

    class Meta:
        model = Case
        fields = (
            "number",
            "url",
            "web_url",
            "subject",
            "status",
            "sub_status",
            "priority",
            "type",
            "sub_type",
            "organization",
            "deployment",
            "service",
            "contact",
            "owner",
            "opened_at",
            "modified_at",
            "closed_at",
            "escalated_at",
        )
        read_only_fields = fields

    def get_url(self, case: Case) -> str:
        path = reverse("api:case-detail", kwargs={"number": case.display_number})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_web_url(self, case: Case) -> str:
        return case_url(case.number)

    @extend_schema_field(
        serializers.ChoiceField(choices=SubType.choices, allow_null=True),
    )
    def get_sub_type(self, case: Case) -> str | None:
        return _or_none(case.sub_type)

    @extend_schema_field(PersonSerializer)
    def get_contact(self, case: Case) -> dict[str, str]:
        return {"name": case.contact.get_full_name(), "email": case.contact.email}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, case: Case) -> str | None:
        return case.owner.get_full_name() if case.owner_id else None

    def to_representation(self, case: Case) -> dict:
        """What the declared fields give (they still describe the schema), written out: DRF
        builds and copies some twenty field objects per serializer, which cost more than the
        rest of a create request's answer. tests/cases/test_api_representation.py checks that
        both agree."""
        return {
            "number": case.display_number,
            "url": self.get_url(case),
            "web_url": case_url(case.number),
            "subject": case.subject,
            "status": case.status,
            "sub_status": case.sub_status,
            "priority": case.priority,
            "type": case.type,
            "sub_type": case.sub_type or None,
            "organization": case.organization.slug,
            "deployment": case.deployment_id,
            "service": case.service.slug if case.service_id else None,
            "contact": {"name": case.contact.get_full_name(), "email": case.contact.email},
            "owner": case.owner.get_full_name() if case.owner_id else None,
            "opened_at": _when(case.opened_at),
            "modified_at": _when(case.modified_at),
            "closed_at": _when(case.closed_at),
            "escalated_at": _when(case.escalated_at),
        }

    def declared_representation(self, case: Case) -> dict:
        """The representation DRF builds from the declared fields (for the tests)."""
        return super().to_representation(case)


class SlaSerializer(serializers.Serializer):
    """The case's service-level targets as stored (S-1 … S-8); null where a target does not
    apply (no targets for Admin, Data Privacy and Feature Requests; no response target for
    organizations at the CARE support level)."""

    response_due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the first response is due (S-2; S-7 acknowledgement)."
    )
    response_met = serializers.BooleanField(
        allow_null=True, help_text="Whether the first response came in time; null until known."
    )
    resolution_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the resolution is due (S-3; S-7 acceptance or rejection); null while "
        "the clock is paused or stopped.",
    )
    resolution_met = serializers.BooleanField(
        allow_null=True,
        help_text="Whether a solution was proposed or the case closed in time; null until known.",
    )
    paused = serializers.BooleanField(
        help_text="The resolution clock is paused (Awaiting Info or Solution Proposed)."
    )
    paused_since = serializers.DateTimeField(allow_null=True)


class CaseDetailSerializer(CaseListSerializer):
    """A case with every field of C-4 and the actions the caller may take now."""

    implementation_stage = serializers.SerializerMethodField()
    closure_reason = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text="Wire names of the actions the caller may take right now; "
        "post-update is POST …/updates/, the others are POST …/{action}/."
    )
    sla = serializers.SerializerMethodField(help_text="Service-level targets (S-1 … S-8).")

    class Meta(CaseListSerializer.Meta):
        fields = (
            *CaseListSerializer.Meta.fields,
            "implementation_stage",
            "description",
            "business_impact",
            "affected_count",
            "external_reference",
            "closure_reason",
            "actions",
            "sla",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Stage.choices, allow_null=True))
    def get_implementation_stage(self, case: Case) -> str | None:
        return _or_none(case.implementation_stage)

    @extend_schema_field(serializers.ChoiceField(choices=ClosureReason.choices, allow_null=True))
    def get_closure_reason(self, case: Case) -> str | None:
        return _or_none(case.closure_reason)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, case: Case) -> list[str]:
        return available_actions(self.context["request"].user, case, self.context["now"])

    @extend_schema_field(SlaSerializer)
    def get_sla(self, case: Case) -> dict:
        sla = sla_summary(case)
        return {
            "response_due_at": _when(sla["response_due_at"]),
            "response_met": sla["response_met"],
            "resolution_due_at": _when(sla["resolution_due_at"]),
            "resolution_met": sla["resolution_met"],
            "paused": sla["paused"],
            "paused_since": _when(sla["paused_since"]),
        }

    def to_representation(self, case: Case) -> dict:
        return {
            **super().to_representation(case),
            "implementation_stage": case.implementation_stage or None,
            "description": case.description,
            "business_impact": case.business_impact,
            "affected_count": case.affected_count,
            "external_reference": case.external_reference,
            "closure_reason": case.closure_reason or None,
            "actions": self.get_actions(case),
            "sla": self.get_sla(case),
        }

    def declared_representation(self, case: Case) -> dict:
        data = serializers.ModelSerializer.to_representation(self, case)
        data["sla"] = SlaSerializer(sla_summary(case)).data
        return data


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Download address (access-checked).")

    class Meta:
        model = Attachment
        fields = ("name", "size", "content_type", "url")
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        path = reverse("api:attachment-download", kwargs={"token": attachment.token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class CaseUpdateSerializer(serializers.ModelSerializer):
    """An entry of the feed. Customers are never given internal notes (C-9)."""

    internal = serializers.BooleanField(source="is_internal")
    author = serializers.SerializerMethodField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    requested_priority = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = CaseUpdate
        fields = (
            "id",
            "body",
            "internal",
            "by_care",
            "author",
            "channel",
            "requested_priority",
            "created_at",
            "attachments",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, update: CaseUpdate) -> str | None:
        return update.author.get_full_name() if update.author_id else None

    @extend_schema_field(serializers.ChoiceField(choices=Priority.choices, allow_null=True))
    def get_requested_priority(self, update: CaseUpdate) -> str | None:
        return _or_none(update.requested_priority)


class CaseEventSerializer(serializers.ModelSerializer):
    """An entry of the case history (C-16): who, when, from which channel, before/after."""

    kind = serializers.ChoiceField(choices=CaseEvent.Kind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    actor = serializers.SerializerMethodField(help_text="Who made the change; null: the system.")
    before = serializers.DictField()
    after = serializers.DictField()

    class Meta:
        model = CaseEvent
        fields = ("id", "kind", "channel", "actor", "before", "after", "created_at")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: CaseEvent) -> str | None:
        return event.actor.get_full_name() if event.actor_id else None


class CloudServiceSerializer(serializers.ModelSerializer):
    product_group = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CloudService
        fields = ("slug", "name", "product_group", "checklist")
        read_only_fields = fields
