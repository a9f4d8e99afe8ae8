"""What the portal's lists, feed and history show of a row: times in the display zone,
labels of stored values, and the markup of rows, feed entries and history lines."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from html import escape

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from accounts.models import User
from cases.links import case_path
from cases.models import CaseEvent, CaseType, CaseUpdate, Channel, Priority, Status, SubStatus

_LABELS = {
    "status": dict(Status.choices),
    "sub_status": dict(SubStatus.choices),
    "priority": dict(Priority.choices),
    "type": dict(CaseType.choices),
}
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


def case_rows(rows: list[dict], zone: zoneinfo.ZoneInfo, *, appended: bool = False) -> str:
    """The ``<tr>`` of each case of a list (All Cases, My Cases), built here rather than in a
    template: 25 rows of 11 cells are some 400 variable lookups, filters and escapes, which
    cost the template engine more than the page's SQL. Every value from the database is
    escaped; the first row's link takes the focus when rows are appended ("Show more").

    The row: number (link to the case), subject, status, sub-status, priority, type,
    Account/Depl ("code / name", as a deployment is shown everywhere), cloud service ("—"
    without one), contact (name, else email), opened and last updated (in the display zone,
    with the ISO time in ``<time datetime>``)."""
    html = []
    for index, row in enumerate(rows):
        number = f"{row['number']:08d}"
        focus = " autofocus" if appended and index == 0 else ""
        deployment = f"{row['deployment__code']} / {row['deployment__name']}"
        contact = row["contact__display_name"] or row["contact__email"]
        opened_iso, opened_text = list_time(row["opened_at"], zone)
        modified_iso, modified_text = list_time(row["modified_at"], zone)
        label = {f: str(names.get(row[f], row[f])) for f, names in _LABELS.items()}
        html.append(
            f'<tr data-case="{number}">\n'
            f'  <td><a href="{escape(case_path(row["number"]))}"{focus}>{number}</a></td>\n'
            f"  <td>{escape(row['subject'])}</td>\n"
            f'  <td><span class="status status-{escape(row["status"])}">'
            f"{escape(label['status'])}</span></td>\n"
            f"  <td>{escape(label['sub_status'])}</td>\n"
            f'  <td><span class="priority priority-{escape(row["priority"])}">'
            f"{escape(label['priority'])}</span></td>\n"
            f"  <td>{escape(label['type'])}</td>\n"
            f"  <td>{escape(deployment)}</td>\n"
            f"  <td>{escape(row['service__name'] or '—')}</td>\n"
            f"  <td>{escape(contact)}</td>\n"
            f'  <td class="nowrap"><time datetime="{opened_iso}">{escape(opened_text)}</time>'
            "</td>\n"
            f'  <td class="nowrap"><time datetime="{modified_iso}">{escape(modified_text)}</time>'
            "</td>\n"
            "</tr>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


_CHANNELS = dict(Channel.choices)
_PRIORITIES = dict(Priority.choices)


def _person(user: User | None) -> str:
    if user is None:
        return "System"
    return user.display_name or user.email


def feed_items(feed: list[CaseUpdate], zone: zoneinfo.ZoneInfo) -> str:
    """The ``<li>`` of each entry of the case feed, built here for the same reason as the
    list rows: a long case has dozens of entries with a date, a channel and files each.
    Every value from the database is escaped; the body keeps its paragraphs and line breaks
    as the ``linebreaks`` filter gives them."""
    html = []
    for update in feed:
        classes = "feed-item" + (" by-care" if update.by_care else "")
        classes += " internal" if update.is_internal else ""
        iso, text = list_time(update.created_at, zone)
        pills = ' <span class="pill subtle">Customer Care</span>' if update.by_care else ""
        if update.is_internal:
            pills += ' <span class="pill internal">Internal note</span>'
        channel = escape(str(_CHANNELS.get(update.channel, update.channel)))
        request = ""
        if update.requested_priority:
            label = _PRIORITIES.get(update.requested_priority, update.requested_priority)
            request = (
                f'<p class="small"><strong>Priority request:</strong> {escape(str(label))}</p>'
            )
        files = "".join(
            f'<li><a href="{escape(reverse("cases:attachment", args=[a.token]))}" download>'
            f"{escape(a.name)}</a> "
            f'<span class="muted small">({escape(filesizeformat(a.size))})</span></li>'
            for a in update.attachments.all()
        )
        html.append(
            f'<li class="{classes}">\n'
            f'  <p class="feed-meta"><strong>{escape(_person(update.author))}</strong>{pills}'
            f' <time datetime="{iso}">{escape(text)}</time>'
            f' <span class="muted small">via {channel}</span></p>\n'
            f"  {request}"
            f'<div class="feed-body">{linebreaks(update.body, autoescape=True)}</div>\n'
            + (f'  <ul class="files">{files}</ul>\n' if files else "")
            + "</li>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


def history_items(history: list[tuple[CaseEvent, str]], zone: zoneinfo.ZoneInfo) -> str:
    """The ``<li>`` of each history event (C-16), escaped, in the display zone."""
    html = []
    for event, text in history:
        iso, when = list_time(event.created_at, zone)
        channel = escape(str(_CHANNELS.get(event.channel, event.channel)))
        html.append(
            f'<li><time datetime="{iso}">{escape(when)}</time> {escape(text)}'
            f'<span class="muted small"> · {escape(_person(event.actor))} via {channel}</span>'
            "</li>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)
