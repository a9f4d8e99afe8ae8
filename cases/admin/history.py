"""The case history on the case page of the care workspace (C-16): each event's changes as
"field: before → after", in words rather than the stored values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.models import User
from cases.models import Case, CaseEvent, Priority

ValueWords = Mapping[str, Callable[[Any], str]]

# How a stored value reads, by the key the event stores it under. Apps above cases add
# their own keys (the escalations app: an escalation's state and reason).
VALUE_WORDS: ValueWords = {
    "sub_status": lambda v: Case(sub_status=v).get_sub_status_display(),
    "priority": lambda v: Priority(v).label if v in Priority.values else v,
    "type": lambda v: Case(type=v).get_type_display(),
    "sub_type": lambda v: Case(sub_type=v).get_sub_type_display(),
    "escalation": lambda v: f"#{v}",
}


def _people(events: list[CaseEvent]) -> dict[int, str]:
    """Names of the owners that owner-change events mention (one query)."""
    ids = set()
    for event in events:
        if event.kind in (CaseEvent.Kind.OWNER, CaseEvent.Kind.ESCALATION):
            ids |= {v for v in (event.before.get("owner"), event.after.get("owner")) if v}
    if not ids:
        return {}
    return {u.pk: u.get_full_name() for u in User.objects.filter(pk__in=ids)}


def _describe(event: CaseEvent, shown: ValueWords) -> dict:
    changes = []
    for key in sorted((set(event.before) | set(event.after)) - {"status", "update"}):
        show = shown.get(key, str)

        def word(values: dict, key: str = key, show: Callable = show) -> str | None:
            if key not in values:
                return None
            value = values[key]
            return "—" if value in (None, "") else show(value)

        changes.append(
            {
                "field": key.replace("_", " "),
                "before": word(event.before),
                "after": word(event.after),
            }
        )
    return {"event": event, "changes": changes}


def describe_events(events: list[CaseEvent], *, words: ValueWords = VALUE_WORDS) -> list[dict]:
    """Each event with its changes: ``{"event", "changes": [{"field", "before", "after"}]}``."""
    people = _people(events)
    shown = {**words, "owner": lambda v: people.get(v, f"user #{v}")}
    return [_describe(event, shown) for event in events]
