"""What the portal's lists, feed and history show, as plain values for their templates:
times in the display zone, labels of stored values, names of people. The markup is in
templates/cases/_case_rows.jinja, _feed.jinja and _history.jinja."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from accounts.models import User
from cases.links import case_path
from cases.models import CaseEvent, CaseType, CaseUpdate, Channel, Priority, Status, SubStatus

_STATUSES = dict(Status.choices)
_SUB_STATUSES = dict(SubStatus.choices)
_PRIORITIES = dict(Priority.choices)
_TYPES = dict(CaseType.choices)
_CHANNELS = dict(Channel.choices)
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def list_time(value: datetime, zone: zoneinfo.ZoneInfo) -> tuple[str, str]:
    """(ISO 8601, "j M Y H:i T") in the display zone: what the ``date`` filter gives, without
    its per-call cost on every cell of a list."""
    local = value.astimezone(zone)
    # Like Django's format: no zone name for a wall time that a clock change makes ambiguous.
    ambiguous = zone.utcoffset(local.replace(fold=not local.fold)) != zone.utcoffset(local)
    name = "" if ambiguous else local.tzname()
    clock = f"{local.hour:02d}:{local.minute:02d}"  # strftime costs a third of the call
    text = f"{local.day} {_MONTHS[local.month]} {local.year} {clock} {name}"
    return local.isoformat(), text


def _label(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


def person(user: User | None) -> str:
    """Who did something, as the portal names them: display name, else email; "System"."""
    if user is None:
        return "System"
    return user.display_name or user.email


# --- list rows (All Cases, My Cases) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case of a list: number (link to the case), subject, status, sub-status, priority,
    type, Account/Depl ("code / name", as a deployment is shown everywhere), cloud service
    ("—" without one), contact (name, else email), opened and last updated."""

    number: str
    href: str
    subject: str
    status: str
    status_label: str
    sub_status_label: str
    priority: str
    priority_label: str
    type_label: str
    deployment: str
    service: str
    contact: str
    opened_iso: str
    opened_text: str
    modified_iso: str
    modified_text: str
    autofocus: bool = False


def case_rows(
    rows: list[dict], zone: zoneinfo.ZoneInfo, *, appended: bool = False
) -> list[CaseRow]:
    """The list's rows (dicts of ``lists.ROW_FIELDS``) as the row template shows them; the
    first row's link takes the focus when rows are appended ("Show more")."""
    shown = []
    for index, row in enumerate(rows):
        opened_iso, opened_text = list_time(row["opened_at"], zone)
        modified_iso, modified_text = list_time(row["modified_at"], zone)
        shown.append(
            CaseRow(
                number=f"{row['number']:08d}",
                href=case_path(row["number"]),
                subject=row["subject"],
                status=row["status"],
                status_label=_label(_STATUSES, row["status"]),
                sub_status_label=_label(_SUB_STATUSES, row["sub_status"]),
                priority=row["priority"],
                priority_label=_label(_PRIORITIES, row["priority"]),
                type_label=_label(_TYPES, row["type"]),
                deployment=f"{row['deployment__code']} / {row['deployment__name']}",
                service=row["service__name"] or "—",
                contact=row["contact__display_name"] or row["contact__email"],
                opened_iso=opened_iso,
                opened_text=opened_text,
                modified_iso=modified_iso,
                modified_text=modified_text,
                autofocus=appended and index == 0,
            )
        )
    return shown


# --- the case feed and history (C-9, C-16) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class FileLink:
    href: str
    name: str
    size: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An update of the case feed; ``body`` is the text as written (the template keeps its
    paragraphs and line breaks)."""

    author: str
    by_care: bool
    internal: bool
    iso: str
    when: str
    channel: str
    priority_request: str
    body: str
    files: list[FileLink]


def feed_entries(feed: list[CaseUpdate], zone: zoneinfo.ZoneInfo) -> list[FeedEntry]:
    entries = []
    for update in feed:
        iso, when = list_time(update.created_at, zone)
        requested = update.requested_priority
        entries.append(
            FeedEntry(
                author=person(update.author),
                by_care=update.by_care,
                internal=update.is_internal,
                iso=iso,
                when=when,
                channel=_label(_CHANNELS, update.channel),
                priority_request=_label(_PRIORITIES, requested) if requested else "",
                body=update.body,
                files=[
                    FileLink(
                        href=reverse("cases:attachment", args=[a.token]),
                        name=a.name,
                        size=filesizeformat(a.size),
                    )
                    for a in update.attachments.all()
                ],
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class HistoryLine:
    iso: str
    when: str
    text: str
    actor: str
    channel: str


def history_lines(
    history: list[tuple[CaseEvent, str]], zone: zoneinfo.ZoneInfo
) -> list[HistoryLine]:
    """Each event of the history (C-16) with its words, in the display zone."""
    lines = []
    for event, text in history:
        iso, when = list_time(event.created_at, zone)
        lines.append(
            HistoryLine(
                iso=iso,
                when=when,
                text=text,
                actor=person(event.actor),
                channel=_label(_CHANNELS, event.channel),
            )
        )
    return lines
