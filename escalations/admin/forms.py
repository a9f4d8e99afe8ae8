"""The forms of the escalation review page (E-8, E-9): what a care manager sends to accept,
reject, resolve or reassign an escalation, or to write to the customer."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from escalations.admin.queues import escalation_owners
from escalations.models import Level


def _text(label: str, required_message: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=help_text,
        error_messages={"required": required_message},
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


def _owner_field(label: str) -> OwnerChoiceField:
    return OwnerChoiceField(
        label=label,
        queryset=escalation_owners(),
        empty_label=None,
        error_messages={
            "required": "Choose the escalation owner.",
            "invalid_choice": "The escalation owner must be a Customer Care manager.",
        },
    )


class AcceptForm(forms.Form):
    importance = forms.ChoiceField(label="Importance", choices=Level.choices)
    urgency = forms.ChoiceField(label="Urgency", choices=Level.choices)
    owner = _owner_field("Escalation owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = escalation_owners()


class RejectForm(forms.Form):
    explanation = _text(
        "Explanation",
        "Write the explanation: the customer is told why.",
        "Shown to the customer (E-8).",
    )


class ResolveForm(forms.Form):
    summary = _text(
        "Summary", "Write a summary of how it was resolved.", "Shown to the customer (E-8)."
    )


class ReassignForm(forms.Form):
    owner = _owner_field("New escalation owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = escalation_owners()


class MessageForm(forms.Form):
    body = _text(
        "Message",
        "Write a message.",
        "The customer sees it in the escalation feed and is emailed (E-9).",
    )
