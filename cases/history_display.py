"""How the case history reads (C-16), in one place for the portal and the care workspace.

A ``CaseEvent`` stores what changed as values (``before``/``after``). This presenter puts them
in words: ``event_summary`` is the one line a customer reads on the case page;
``describe_events`` lists each changed field as "field: before → after" for care.

Apps above cases name the values their own events store (the escalations app: an escalation's
state and reason) with ``add_value_words`` from their ``AppConfig.ready``, so this module never
imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.models import User
from cases.models import CaseEvent, CaseType, Priority, SubStatus, SubType

ValueWords = Mapping[str, Callable[[Any], str]]


def choice_words(choices: list[tuple[str, str]]) -> Callable[[Any], str]:
    """A stored value's label among these choices; an unknown value as it is."""
    labels = dict(choices)
    return lambda value: str(labels.get(value, value))


# How a stored value reads, by the key the event stores it under.
VALUE_WORDS: dict[str, Callable[[Any], str]] = {
    "sub_status": choice_words(SubStatus.choices),
    "priority": choice_words(Priority.choices),
    "type": choice_words(CaseType.choices),
    "sub_type": choice_words(SubType.choices),
    "escalation": lambda value: f"#{value}",
    # A bounced email's failed addresses (EMAIL_BOUNCED events).
    "recipients": lambda value: ", ".join(value) if isinstance(value, list) else str(value),
}


def add_value_words(words: ValueWords) -> None:
    """Name the values an app above cases stores in case events (called from its ``ready``)."""
    VALUE_WORDS.update(words)


def _word(key: str, value: Any, words: ValueWords = VALUE_WORDS) -> str:
    if value in (None, ""):
        return "—"
    return str(words.get(key, str)(value))


# --- one line in words (the portal's case page) ------------------------------------------

ESCALATION_STEPS = {
    "requested": "Escalation requested",
    "accepted": "Escalation accepted",
    "rejected": "Escalation not accepted",
    "resolved": "Escalation resolved",
}


def event_summary(event: CaseEvent) -> str:
    """One line of history in words (C-16)."""
    before, after = event.before or {}, event.after or {}
    kind = event.kind
    if kind == CaseEvent.Kind.OPENED:
        parts = [_word("type", after.get("type"))]
        if after.get("sub_type"):
            parts.append(_word("sub_type", after["sub_type"]))
        priority = _word("priority", after.get("priority"))
        return f"Opened as {' / '.join(parts)}, priority {priority}"
    if kind == CaseEvent.Kind.TRANSITION and "sub_status" in after:
        return (
            f"Status: {_word('sub_status', before.get('sub_status'))} → "
            f"{_word('sub_status', after['sub_status'])}"
        )
    if kind == CaseEvent.Kind.PRIORITY and "priority" in after:
        return (
            f"Priority: {_word('priority', before.get('priority'))} → "
            f"{_word('priority', after['priority'])}"
        )
    if kind == CaseEvent.Kind.PRIORITY_REQUEST and "requested_priority" in after:
        return f"Asked for priority {_word('priority', after['requested_priority'])}"
    if kind == CaseEvent.Kind.TYPE and "type" in after:
        return f"Type: {_word('type', before.get('type'))} → {_word('type', after['type'])}"
    if kind == CaseEvent.Kind.ESCALATION:
        return _escalation_step(after)
    if kind == CaseEvent.Kind.EMAIL_BOUNCED:
        return _bounce(after)
    return event.get_kind_display()


def _bounce(after: dict) -> str:
    """A case email returned as undeliverable (N-3); an internal event, for care only."""
    recipients = ", ".join(after.get("recipients") or ())
    status = after.get("delivery_status")
    line = f"Email not delivered to {recipients}" if recipients else "Email not delivered"
    return f"{line} ({status})" if status else line


def _escalation_step(after: dict) -> str:
    """A step of an escalation (E-7, E-8); what was said stays in the escalation itself."""
    state = after.get("state")
    if state == "requested" and after.get("reason"):
        return f"Escalation requested: {_word('reason', after['reason'])}"
    if state in ESCALATION_STEPS:
        return ESCALATION_STEPS[state]
    if "owner" in after:
        return "Escalation owner changed"
    return "Escalation"


# --- every change, field by field (the care workspace) -----------------------------------


def _people(events: list[CaseEvent]) -> dict[int, str]:
    """Names of the owners that owner-change events mention (one query)."""
    ids = set()
    for event in events:
        if event.kind in (CaseEvent.Kind.OWNER, CaseEvent.Kind.ESCALATION):
            ids |= {v for v in (event.before.get("owner"), event.after.get("owner")) if v}
    if not ids:
        return {}
    return {u.pk: u.get_full_name() for u in User.objects.filter(pk__in=ids)}


def _changes(event: CaseEvent, words: ValueWords) -> dict:
    changes = []
    for key in sorted((set(event.before) | set(event.after)) - {"status", "update"}):
        changes.append(
            {
                "field": key.replace("_", " "),
                "before": _word(key, event.before[key], words) if key in event.before else None,
                "after": _word(key, event.after[key], words) if key in event.after else None,
            }
        )
    return {"event": event, "changes": changes}


def describe_events(events: list[CaseEvent]) -> list[dict]:
    """Each event with its changes: ``{"event", "changes": [{"field", "before", "after"}]}``."""
    people = _people(events)
    words = {**VALUE_WORDS, "owner": lambda v: people.get(v, f"user #{v}")}
    return [_changes(event, words) for event in events]
