"""Forms of the customer portal's case pages.

They parse what the browser sends and carry the errors back to the fields; the rules
themselves (C-2 … C-6, C-10, C-12) live in ``cases.services``, whose ``InvalidInput`` errors
are put next to the fields here, so the portal and the API explain a refusal the same way.
Forms never save anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django import forms

from accounts.models import Deployment, Organization
from cases.models import (
    CUSTOMER_PRIORITIES,
    CUSTOMER_TYPES,
    Case,
    CaseType,
    CloudService,
    Priority,
    Stage,
    SubType,
)
from cases.services import CaseInput

ONE_LINE_MAX = 200


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name. Checks (size, type by content, names) are the
    service's (C-10), so nothing is refused here that the API would accept."""

    widget = MultipleFileInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None) -> list:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


class ServiceErrorsMixin:
    """Puts a service's ``InvalidInput.errors`` next to the form's fields."""

    # Service error keys that a form shows under another field's name.
    error_aliases: Mapping[str, str] = {}

    def add_service_errors(self, errors: Mapping[str, Iterable[str]], *, skip_known=False):
        for key, messages in errors.items():
            name = self.error_aliases.get(key, key)
            field = name if name in self.fields else None
            if skip_known and field and field in self.errors:
                continue  # the form's own message for this field is already shown
            for message in messages:
                self.add_error(field, message)


def _choices(pairs: Iterable[tuple[str, str]], empty: str | None) -> list[tuple[str, str]]:
    out = [("", empty)] if empty is not None else []
    out.extend(pairs)
    return out


def _text_input(maxlength: int, **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"maxlength": maxlength, **attrs})


class CaseOpenForm(ServiceErrorsMixin, forms.Form):
    """Open a case (C-4). The choices narrow to the organization and type chosen; the
    description starts as the chosen service's intake checklist (T-3)."""

    organization = forms.ChoiceField(
        label="Organization",
        error_messages={
            "required": "Choose the organization the case is for.",
            "invalid_choice": "Choose one of the organizations you are a designated contact of.",
        },
    )
    deployment = forms.CharField(label="Account / deployment", required=False)
    type = forms.CharField(label="Type", required=False)
    sub_type = forms.CharField(label="Sub-type", required=False)
    implementation_stage = forms.CharField(label="Stage", required=False)
    service = forms.CharField(label="Cloud service", required=False)
    subject = forms.CharField(
        label="Subject",
        required=False,
        widget=_text_input(ONE_LINE_MAX, autocomplete="off"),
        help_text="One issue per case: a short summary of it.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Answer the checklist for the service: it saves a round of questions.",
    )
    # Which service's checklist the description was filled with; while the text is still
    # exactly that checklist (or empty), choosing another service replaces it.
    checklist_of = forms.CharField(required=False, widget=forms.HiddenInput)
    priority = forms.CharField(
        label="Priority",
        required=False,
        widget=forms.RadioSelect(
            choices=[(p.value, p.label) for p in Priority if p in CUSTOMER_PRIORITIES]
        ),
    )
    business_impact = forms.CharField(
        label="Business impact",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who cannot work, which customers are affected, since when.",
    )
    affected_count = forms.IntegerField(
        label="Number of affected agents, ports or customers (optional)",
        required=False,
        min_value=0,
        max_value=10_000_000,
        error_messages={"invalid": "Enter a whole number, or leave it empty."},
        help_text="Problem cases only.",
    )
    external_reference = forms.CharField(
        label="Your reference (optional)",
        required=False,
        widget=_text_input(100),
        help_text="A ticket number in your own system, shown on the case and in exports.",
    )
    attachments = MultipleFileField(
        label="Attachments (optional)",
        help_text="Log files or screenshots, up to 10 files.",
    )

    def __init__(
        self,
        *args,
        organizations: list[Organization],
        deployments: list[Deployment],
        services: list[CloudService],
        refresh_url: str = "",
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {o.slug: o for o in organizations}
        fields = self.fields
        fields["organization"].choices = [(o.slug, o.name) for o in organizations]
        if len(organizations) == 1:
            fields["organization"].widget = forms.HiddenInput()
        else:
            fields[
                "organization"
            ].help_text = "Your own organization, or an end-user account you manage as a partner."
        fields["deployment"].widget = forms.Select(
            choices=_choices([(str(d.pk), str(d)) for d in deployments], "Choose…")
        )
        fields["type"].widget = forms.Select(
            choices=_choices([(t, CaseType(t).label) for t in CUSTOMER_TYPES], "Choose…")
        )
        case_type = self.value("type")
        sub_types = CUSTOMER_TYPES.get(case_type, tuple(SubType))
        fields["sub_type"].widget = forms.Select(
            choices=_choices(
                [(s, SubType(s).label) for s in sub_types],
                "Choose…" if sub_types else "None for this type",
            )
        )
        fields["sub_type"].help_text = (
            ""
            if case_type in CUSTOMER_TYPES
            else "Support: Problem or Question. Service Request: Add/Remove Access, Password "
            "Reset, Change Request or New Project Request. Admin: Question, Request or "
            "Problem. Data Privacy Request: none."
        )
        fields["implementation_stage"].widget = forms.Select(
            choices=_choices(Stage.choices, "Choose…")
        )
        fields["implementation_stage"].help_text = "Support cases only."
        fields["service"].widget = forms.Select(
            choices=_choices([(s.slug, s.name) for s in services], "Choose…")
        )
        fields["service"].help_text = "Not for Admin cases."
        if refresh_url:
            # With JavaScript, a changed choice re-renders the parts of the form it affects.
            refresh = {
                "hx-post": refresh_url,
                "hx-trigger": "change",
                "hx-vals": '{"action": "refresh"}',
                "hx-swap": "outerHTML",
                # A newer change wins: an older answer never overwrites newer choices.
                "hx-sync": "closest form:replace",
            }
            regions = {
                "organization": ("#org-fields", ""),
                "type": ("#type-fields", "#description-block"),
                "sub_type": ("#type-fields", ""),
                "service": ("#description-block", ""),
            }
            for name, (region, also) in regions.items():
                attrs = {**refresh, "hx-target": region, "hx-select": region}
                if also:
                    attrs["hx-select-oob"] = also
                fields[name].widget.attrs.update(attrs)

    def value(self, name: str) -> str:
        """The field's current value, as shown: submitted data, else the initial value."""
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name)) or "")
        value = self.initial.get(name, self.fields[name].initial)
        return "" if value is None else str(value)

    # What the page shows for the chosen type (the service checks the same rules).
    @property
    def shows_service(self) -> bool:
        return self.value("type") != CaseType.ADMIN

    @property
    def shows_stage(self) -> bool:
        return self.value("type") in ("", CaseType.SUPPORT)

    @property
    def shows_sub_type(self) -> bool:
        case_type = self.value("type")
        return case_type not in CUSTOMER_TYPES or bool(CUSTOMER_TYPES[case_type])

    @property
    def shows_affected_count(self) -> bool:
        case_type, sub_type = self.value("type"), self.value("sub_type")
        if case_type in CUSTOMER_TYPES and SubType.PROBLEM not in CUSTOMER_TYPES[case_type]:
            return False
        return sub_type in ("", SubType.PROBLEM)

    def selected_organization(self) -> Organization | None:
        return self.organizations.get(self.cleaned_data.get("organization") or "")

    def case_input(self) -> CaseInput | None:
        """The service's input from what parsed; None without a valid organization."""
        organization = self.selected_organization()
        if organization is None:
            return None
        data = self.cleaned_data
        return CaseInput(
            organization=organization,
            deployment_id=data.get("deployment") or None,
            service_slug=data.get("service") or None,
            type=data.get("type") or "",
            sub_type=data.get("sub_type") or "",
            implementation_stage=data.get("implementation_stage") or "",
            subject=data.get("subject") or "",
            description=data.get("description") or "",
            priority=data.get("priority") or "",
            business_impact=data.get("business_impact") or "",
            affected_count=data.get("affected_count"),
            external_reference=data.get("external_reference") or "",
        )


class CaseUpdateForm(ServiceErrorsMixin, forms.Form):
    """Post an update (C-8, C-9), with files (C-10) and an optional priority request (C-6)."""

    body = forms.CharField(
        label="Your update",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = MultipleFileField(
        label="Attachments (optional)",
        help_text="Log files or screenshots, up to 10 files.",
    )
    requested_priority = forms.CharField(
        label="Priority request (optional)",
        required=False,
        help_text="Customer Care decides. To raise a case to High, call Customer Care.",
    )

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # C-6: a customer asks LOW→MEDIUM by update; anything higher is a phone call.
        if case.priority == Priority.LOW:
            self.fields["requested_priority"].widget = forms.Select(
                choices=[("", "Keep Low"), (Priority.MEDIUM.value, "Ask for Medium")]
            )
        else:
            del self.fields["requested_priority"]


class CaseCommentForm(ServiceErrorsMixin, forms.Form):
    """Confirm or close, with an optional comment posted as a public update."""

    body = forms.CharField(
        label="Comment (optional)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseReopenForm(ServiceErrorsMixin, forms.Form):
    """Reopen (C-12): the reason is required and becomes a public update."""

    error_aliases = {"body": "reason"}

    reason = forms.CharField(
        label="Why reopen the case?",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What still does not work, with any new information.",
    )
