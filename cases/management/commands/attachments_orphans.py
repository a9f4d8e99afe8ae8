"""List, or with --delete remove, stored attachment files that no attachment names.

    python manage.py attachments_orphans                  # list them
    python manage.py attachments_orphans --delete         # remove them
    python manage.py attachments_orphans --older-than-hours 48

Such files come from uploads whose change was rolled back (the file is stored before the
row is written, so a refused or failed update never loses a file it recorded). Files
younger than the grace period (24 hours by default) are left alone: their upload may
still be in progress.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.attachments import attachment_orphans
from cases.models import Attachment


class Command(BaseCommand):
    help = "List or remove stored attachment files that no attachment names."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true", help="remove them")
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=24.0,
            help="only files last written at least this long ago (default 24)",
        )

    def handle(self, *args, delete: bool, older_than_hours: float, **options) -> None:
        if older_than_hours < 1:
            raise CommandError(
                "--older-than-hours must be at least 1: a younger file may belong to an "
                "upload still in progress."
            )
        cutoff = timezone.now() - timedelta(hours=older_than_hours)
        storage = Attachment._meta.get_field("file").storage
        count = 0
        for path in attachment_orphans(older_than=cutoff):
            count += 1
            if delete:
                storage.delete(path)
            self.stdout.write(("removed " if delete else "") + path)
        verb = "removed" if delete else "found (use --delete to remove them)"
        self.stdout.write(f"{count} orphan file(s) {verb}.")
