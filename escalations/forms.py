"""Forms of the customer portal's escalation pages (E-4 … E-9).

They parse what the browser sends and carry errors back to the fields; the rules (which
reasons apply, E-1 … E-6) are ``escalations.rules``' and the service's, whose
``InvalidInput`` errors are put next to the fields here. Forms never save anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from cases.web.forms import ServiceErrorsMixin
from escalations.models import Reason
from escalations.rules import Refusal
from escalations.services import DETAILS_MAX, MESSAGE_MAX


@dataclass(frozen=True)
class ReasonOption:
    """One choice of the reason picklist, with why it does not apply to this case now."""

    value: str
    label: str
    refusal: Refusal | None
    checked: bool
    id: str

    @property
    def disabled(self) -> bool:
        return self.refusal is not None


class EscalationRequestForm(ServiceErrorsMixin, forms.Form):
    """Ask for an escalation (E-7): a reason from the picklist and details."""

    reason = forms.CharField(
        label="Reason",
        required=False,
        error_messages={"required": "Choose a reason."},
    )
    details = forms.CharField(
        label="Details",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": DETAILS_MAX}),
        help_text="What went wrong in the handling of the case, what you expect, and by when.",
    )

    def __init__(self, *args, refusals: dict[str, Refusal | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refusals = refusals or {}

    def clean(self) -> dict:
        # Say everything that is missing at once; the service checks the same again.
        data = super().clean()
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Choose a reason.")
        if not (data.get("details") or "").strip():
            self.add_error("details", "Write the details.")
        return data

    @property
    def reason_options(self) -> list[ReasonOption]:
        chosen = str(self["reason"].value() or "")
        return [
            ReasonOption(
                value=reason.value,
                label=reason.label,
                refusal=self.refusals.get(reason.value),
                checked=chosen == reason.value and self.refusals.get(reason.value) is None,
                id=f"{self['reason'].auto_id}_{reason.value}",
            )
            for reason in Reason
        ]


class EscalationMessageForm(ServiceErrorsMixin, forms.Form):
    """A message in the escalation feed (E-9)."""

    body = forms.CharField(
        label="Your message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX}),
        help_text="Seen by the escalation owner, not added to the case's updates.",
    )
