"""The forms of the case page's actions and of the bulk actions in the care workspace.

They check the shape of what an analyst sends; the services check the rules (C-5, C-8,
C-10, C-16) and say what is wrong in the same words as in the portal and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from accounts.models import Deployment
from cases.actions import FIELDS, MESSAGE, NOTE, OWNER, PRIORITY, RESTORE, UPDATE, CaseAction, Input
from cases.admin.queues import care_staff
from cases.models import Case, CloudService, Priority


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files; the services check each (C-10)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _body(required: bool, label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        error_messages={"required": "Write a message."},
    )


class ActionForm(forms.Form):
    """The input of an action on the case page."""

    @classmethod
    def initial_for(cls, case: Case) -> dict:
        """What the form shows before the analyst changes anything."""
        return {}


class OptionalMessageForm(ActionForm):
    body = _body(False, "Public message to the customer (optional)")


class RequiredMessageForm(ActionForm):
    body = _body(True, "Public message to the customer")
    attachments = MultipleFileField(label="Attachments")


class RestoreForm(ActionForm):
    pending = forms.ChoiceField(
        label="What is still pending",
        choices=[("permanent_solution", "A permanent solution"), ("rca", "A root cause analysis")],
        widget=forms.RadioSelect,
        initial="permanent_solution",
    )
    body = _body(False, "Public message to the customer (optional)")


class PriorityForm(ActionForm):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    body = _body(False, "Public message to the customer (optional)")

    @classmethod
    def initial_for(cls, case: Case) -> dict:
        return {"priority": case.priority}


def _owner_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="Owner",
        queryset=care_staff(),
        required=False,
        empty_label="Nobody (unassigned)",
        error_messages={"invalid_choice": "Choose a care analyst or manager."},
    )


class AssignForm(ActionForm):
    owner = _owner_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = care_staff()

    @classmethod
    def initial_for(cls, case: Case) -> dict:
        return {"owner": case.owner_id}


class FieldsForm(ActionForm):
    """Deployment and cloud service of the case; the service checks both belong."""

    deployment = forms.TypedChoiceField(label="Account/Depl", coerce=int, choices=())
    service = forms.ChoiceField(label="Cloud service", required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.get("initial") or {}
        data = args[0] if args else kwargs.get("data")
        organization_id = initial.get("organization_id") or (data or {}).get("organization_id")
        super().__init__(*args, **kwargs)
        deployments = Deployment.unscoped.filter(
            organization_id=organization_id or 0, is_active=True
        ).order_by("code")
        self.fields["deployment"].choices = [(d.pk, str(d)) for d in deployments] or [
            (initial.get("deployment") or 0, "—")
        ]
        self.fields["service"].choices = [("", "None (Admin cases)")] + [
            (svc.slug, svc.name) for svc in CloudService.objects.filter(is_active=True)
        ]
        self.fields["organization_id"] = forms.IntegerField(
            widget=forms.HiddenInput, initial=organization_id, required=False
        )

    @classmethod
    def initial_for(cls, case: Case) -> dict:
        return {
            "organization_id": case.organization_id,
            "deployment": case.deployment_id,
            "service": case.service.slug if case.service_id else "",
        }


class ComposerForm(ActionForm):
    visibility = forms.ChoiceField(
        label="Post as",
        choices=[
            ("public", "Public update (the customer sees it and is emailed)"),
            ("internal", "Internal note (care only, never shown to the customer)"),
        ],
        widget=forms.RadioSelect,
        initial="public",
    )
    body = _body(True, "Message")
    attachments = MultipleFileField(label="Attachments")

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["internal"] = cleaned.get("visibility") == "internal"
        return cleaned


class BulkAssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label="Assign to",
        queryset=care_staff(),
        error_messages={
            "required": "Choose an analyst.",
            "invalid_choice": "Choose a care analyst or manager.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = care_staff()


class BulkPriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    body = _body(False, "Public message to each customer (optional)")


class BulkRequestInfoForm(forms.Form):
    body = _body(True, "Message to each customer: what do you need from them?")


# --- the case page's actions -------------------------------------------------------------

# The form of each input the case page's actions take (cases.actions); the customer's
# reason to reopen has none here.
ACTION_FORMS: dict[Input, type[ActionForm]] = {
    NOTE: OptionalMessageForm,
    MESSAGE: RequiredMessageForm,
    RESTORE: RestoreForm,
    PRIORITY: PriorityForm,
    OWNER: AssignForm,
    FIELDS: FieldsForm,
    UPDATE: ComposerForm,
}


def action_form(action: CaseAction, case: Case) -> ActionForm:
    """The empty form of an action on the case page, filled in with the case's values."""
    form_class = ACTION_FORMS[action.takes]
    return form_class(initial=form_class.initial_for(case), auto_id=auto_id(action.name))


def bound_action_form(action: CaseAction, request: HttpRequest) -> ActionForm:
    """The form of an action as the analyst sent it."""
    return ACTION_FORMS[action.takes](request.POST, request.FILES, auto_id=auto_id(action.name))


def auto_id(action: str) -> str:
    # Several action forms share the page: their fields' ids must not clash.
    return "id_" + action.replace("-", "_") + "_%s"


def form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
