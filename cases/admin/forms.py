"""The forms of the case page's actions and of the bulk actions in the care workspace.

They check the shape of what an analyst sends; the services check the rules (C-5, C-8,
C-10, C-16) and say what is wrong in the same words as in the portal and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from accounts.models import Deployment
from cases import services
from cases.admin.queues import care_staff
from cases.models import Case, Channel, CloudService, Priority

CHANNEL = Channel.ADMIN


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


class OptionalMessageForm(forms.Form):
    body = _body(False, "Public message to the customer (optional)")


class RequiredMessageForm(forms.Form):
    body = _body(True, "Public message to the customer")
    attachments = MultipleFileField(label="Attachments")


class RestoreForm(forms.Form):
    pending = forms.ChoiceField(
        label="What is still pending",
        choices=[("permanent_solution", "A permanent solution"), ("rca", "A root cause analysis")],
        widget=forms.RadioSelect,
        initial="permanent_solution",
    )
    body = _body(False, "Public message to the customer (optional)")


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    body = _body(False, "Public message to the customer (optional)")


def _owner_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="Owner",
        queryset=care_staff(),
        required=False,
        empty_label="Nobody (unassigned)",
        error_messages={"invalid_choice": "Choose a care analyst or manager."},
    )


class AssignForm(forms.Form):
    owner = _owner_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = care_staff()


class FieldsForm(forms.Form):
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


class ComposerForm(forms.Form):
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


@dataclass(frozen=True)
class CaseAction:
    """One thing care does to a case from its page: a form and the service it calls."""

    name: str  # the wire name of cases.policy.available_actions
    label: str
    button: str
    form: type[forms.Form]
    run: Callable[..., Any]
    done: str
    group: str = "status"  # status | fields | compose


def _files(data: dict) -> list:
    return list(data.get("attachments") or [])


CASE_ACTIONS: dict[str, CaseAction] = {
    a.name: a
    for a in [
        CaseAction(
            "change-fields",
            "Correct deployment or service",
            "Save deployment and service",
            FieldsForm,
            lambda case, user, data, now: services.case_change_fields(
                case=case,
                actor=user,
                deployment_id=data["deployment"],
                service_slug=data["service"],
                channel=CHANNEL,
                now=now,
            ),
            "Deployment and service saved.",
            group="fields",
        ),
        CaseAction(
            "take",
            "Take the case",
            "Take",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_take(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "You took the case: it is under investigation.",
        ),
        CaseAction(
            "request-info",
            "Request information",
            "Request info",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_request_info(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Information requested: the case awaits the customer.",
        ),
        CaseAction(
            "propose-solution",
            "Propose a solution",
            "Propose solution",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_propose_solution(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Solution proposed.",
        ),
        CaseAction(
            "restore-service",
            "Service restored",
            "Mark service restored",
            RestoreForm,
            lambda case, user, data, now: services.case_restore_service(
                case=case,
                actor=user,
                pending=data["pending"],
                body=data["body"],
                channel=CHANNEL,
                now=now,
            ),
            "Service marked as restored.",
        ),
        CaseAction(
            "deliver-rca",
            "Deliver the RCA",
            "Deliver RCA",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_deliver_rca(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "RCA delivered: the solution is proposed.",
        ),
        CaseAction(
            "resolve",
            "Resolve",
            "Resolve",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_resolve(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case resolved.",
        ),
        CaseAction(
            "cancel",
            "Cancel",
            "Cancel the case",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_cancel(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case cancelled.",
        ),
        CaseAction(
            "redirect",
            "Redirect",
            "Redirect",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_redirect(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case redirected.",
        ),
        CaseAction(
            "set-priority",
            "Change priority",
            "Change priority",
            PriorityForm,
            lambda case, user, data, now: services.case_change_priority(
                case=case,
                actor=user,
                priority=data["priority"],
                body=data["body"],
                channel=CHANNEL,
                now=now,
            ),
            "Priority changed.",
            group="fields",
        ),
        CaseAction(
            "assign",
            "Change owner",
            "Assign",
            AssignForm,
            lambda case, user, data, now: services.case_assign(
                case=case, actor=user, owner=data["owner"], channel=CHANNEL, now=now
            ),
            "Owner changed.",
            group="fields",
        ),
        CaseAction(
            "convert-to-incident",
            "Convert to Incident",
            "Convert to Incident",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_convert_to_incident(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "The case is now an Incident.",
            group="fields",
        ),
        CaseAction(
            "post-update",
            "Post an update or an internal note",
            "Post",
            ComposerForm,
            lambda case, user, data, now: services.case_post_update(
                case=case,
                actor=user,
                body=data["body"],
                internal=data["visibility"] == "internal",
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Posted.",
            group="compose",
        ),
    ]
}


def initial(action: CaseAction, case: Case) -> dict:
    if action.name == "assign":
        return {"owner": case.owner_id}
    if action.name == "set-priority":
        return {"priority": case.priority}
    if action.name == "change-fields":
        return {
            "organization_id": case.organization_id,
            "deployment": case.deployment_id,
            "service": case.service.slug if case.service_id else "",
        }
    return {}


def auto_id(action: str) -> str:
    # Several action forms share the page: their fields' ids must not clash.
    return "id_" + action.replace("-", "_") + "_%s"


def form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
