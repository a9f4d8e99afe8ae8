"""Files left by uploads whose change rolled back (C-10): found and removed by
``attachments_orphans``, never a file an attachment names, never a young one."""

from __future__ import annotations

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction

from cases import services
from cases.models import Attachment, Channel
from core.tenancy import scopes_disabled
from tests.cases import NOW, acting_as, make_case

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
DAY = 24 * 3600


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _post(case, actor, name):
    with acting_as(actor):
        return services.case_post_update(
            case=case,
            actor=actor,
            body="See attached.",
            uploads=[SimpleUploadedFile(name, PDF)],
            channel=Channel.PORTAL,
            now=NOW,
        )


def _files(settings) -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def _age(paths, seconds: float) -> None:
    for path in paths:
        then = time.time() - seconds
        os.utime(path, (then, then))


def _run(*args) -> str:
    out = StringIO()
    call_command("attachments_orphans", *args, stdout=out)
    return out.getvalue()


def test_a_rolled_back_upload_leaves_a_file_the_command_removes(org_a, dc_a, settings):
    # Given an update with a file that is kept, and one whose transaction rolls back
    case = make_case(org_a, dc_a)
    _post(case, dc_a, "kept.pdf")
    kept = _files(settings)
    with pytest.raises(RuntimeError), transaction.atomic():
        _post(case, dc_a, "lost.pdf")
        raise RuntimeError("the request failed after the upload")
    orphans = _files(settings) - kept
    assert len(orphans) == 1
    _age(_files(settings), 2 * DAY)

    # When the operator lists, then removes, the orphans
    listed = _run()
    removed = _run("--delete")

    # Then only the file no attachment names is listed and removed
    (orphan,) = orphans
    assert orphan.name in listed and "1 orphan file(s) found" in listed
    assert "1 orphan file(s) removed" in removed
    assert _files(settings) == kept
    with scopes_disabled():
        stored = Attachment.unscoped.get()
    assert Path(stored.file.path) in kept


def test_young_orphans_are_left_alone(org_a, dc_a, settings):
    # An upload whose transaction is still under way must keep its file.
    case = make_case(org_a, dc_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        _post(case, dc_a, "in-flight.pdf")
        raise RuntimeError("rolled back")
    assert "0 orphan file(s)" in _run("--delete")
    assert len(_files(settings)) == 1


def test_nothing_stored_yet_is_not_an_error():
    assert "0 orphan file(s)" in _run()


def test_a_grace_period_under_an_hour_is_refused(settings):
    with pytest.raises(CommandError, match="at least 1"):
        _run("--older-than-hours", "0")
