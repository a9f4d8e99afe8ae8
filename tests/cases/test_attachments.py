"""Attachment checks (C-10): size limit, type by content, sanitised names, and a refused
upload that changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.attachments import (
    MAX_FILES_PER_UPDATE,
    check_upload,
    human_size,
    sanitize_name,
    stored_path_is_inside_media,
)
from cases.models import Attachment, Channel
from core.errors import InvalidInput
from core.tenancy import scopes_disabled
from tests.cases import NOW, acting_as, make_case, snapshot

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def post(case, actor, *files, body="See attached."):
    with acting_as(actor):
        return services.case_post_update(
            case=case, actor=actor, body=body, uploads=list(files), channel=Channel.PORTAL, now=NOW
        )


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/absolute/path/trace.log", "trace.log"),
        ("report\x00.pdf", "report.pdf"),
        ("bad\r\nname.txt", "badname.txt"),
        ("in\u202evoice.txt", "invoice.txt"),  # right-to-left override hides the real ending
        ("...", "attachment"),
        ("", "attachment"),
        ("<script>.txt", "script.txt"),
        ("screen shot (1).png", "screen shot (1).png"),
        ("Übersicht.pdf", "Übersicht.pdf"),
    ],
)
def test_names_are_sanitised(raw, clean):
    # DOMAIN C-10
    assert sanitize_name(raw) == clean


def test_sanitised_names_stay_short():
    # DOMAIN C-10
    name = sanitize_name("a" * 500 + ".txt")

    assert len(name) <= 200 and name.endswith(".txt")


def test_traversal_name_is_stored_under_an_opaque_path(org_a, dc_a, settings):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "investigation")

    update = post(case, dc_a, upload("../../etc/passwd.txt", b"root:x:0:0\n"))

    with scopes_disabled():
        (attachment,) = Attachment.unscoped.filter(update=update)
    assert attachment.name == "passwd.txt"
    assert "passwd" not in attachment.file.name and ".." not in attachment.file.name
    assert stored_path_is_inside_media(attachment.file.path)
    (stored,) = stored_files(settings)
    assert stored.read_bytes() == b"root:x:0:0\n"


# --- accepted files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("manual.pdf", PDF, "application/pdf"),
        ("screen.png", PNG, "image/png"),
        ("agent.log", b"2026-03-02 10:00 transfer failed\n", "text/plain"),
        ("notes.txt", "Grüße\n".encode(), "text/plain"),
    ],
)
def test_allowed_files_are_stored(org_a, dc_a, name, content, content_type):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "investigation")

    update = post(case, dc_a, upload(name, content))

    with scopes_disabled():
        (attachment,) = Attachment.unscoped.filter(update=update)
    assert (attachment.name, attachment.content_type, attachment.size) == (
        name,
        content_type,
        len(content),
    )
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert (attachment.case_id, attachment.organization_id) == (case.pk, org_a.pk)
    assert (attachment.uploaded_by, attachment.created_at) == (dc_a, NOW)
    assert attachment.file.read() == content


def test_several_files_on_one_update(org_a, dc_a):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "investigation")

    update = post(case, dc_a, upload("a.png", PNG), upload("b.pdf", PDF))

    with scopes_disabled():
        assert Attachment.unscoped.filter(update=update).count() == 2


def test_care_attaches_to_a_proposed_solution(org_a, dc_a, analyst):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_propose_solution(
            case=case,
            actor=analyst,
            body="Apply the attached patch notes.",
            uploads=[upload("patch.pdf", PDF)],
            channel=Channel.ADMIN,
            now=NOW,
        )
        assert Attachment.unscoped.get(case=case).uploaded_by == analyst


# --- refused files -----------------------------------------------------------------------


REFUSED = [
    pytest.param("shot.png", HTML, "does not contain", id="html-disguised-as-png"),
    pytest.param("doc.pdf", PNG, "does not contain", id="png-disguised-as-pdf"),
    pytest.param("page.html", HTML, "not accepted", id="html"),
    pytest.param("image.svg", b"<svg onload=alert(1)>", "not accepted", id="svg"),
    pytest.param("run.exe", b"MZ\x90\x00", "not accepted", id="executable"),
    pytest.param("noext", b"hello", "not accepted", id="no-extension"),
    pytest.param("dump.log", b"ab\x00cd", "not a text file", id="binary-as-text"),
    pytest.param("empty.txt", b"", "empty", id="empty"),
]


@pytest.mark.parametrize(("name", "content", "fragment"), REFUSED)
def test_refused_file_changes_nothing(org_a, dc_a, settings, name, content, fragment):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "info_required")
    state = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        post(case, dc_a, upload("fine.txt", b"ok"), upload(name, content))

    assert fragment in refused.value.errors["attachments"][0]
    assert snapshot(case) == state  # no update, no attachment, still awaiting the customer
    assert stored_files(settings) == []


def test_oversized_file_is_refused_with_the_limit(org_a, dc_a, settings):
    # DOMAIN C-10
    settings.PORTAL = {**settings.PORTAL, "ATTACHMENT_MAX_BYTES": 2048}
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        post(case, dc_a, upload("big.log", b"x" * 2049))

    assert refused.value.errors["attachments"] == ["“big.log” is too large (limit 2 KB)."]
    assert snapshot(case) == state
    assert stored_files(settings) == []


def test_file_at_the_limit_is_accepted(org_a, dc_a, settings):
    # DOMAIN C-10
    settings.PORTAL = {**settings.PORTAL, "ATTACHMENT_MAX_BYTES": 2048}
    case = make_case(org_a, dc_a, "investigation")

    post(case, dc_a, upload("big.log", b"x" * 2048))

    assert len(stored_files(settings)) == 1


def test_default_limit_is_25_megabytes(settings):
    # DOMAIN C-10
    from config.settings import base as project_settings

    assert project_settings.PORTAL["ATTACHMENT_MAX_BYTES"] == 25 * 1024 * 1024
    assert human_size(25 * 1024 * 1024) == "25 MB"


def test_too_many_files_are_refused(org_a, dc_a, settings):
    # DOMAIN C-10
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)
    files = [upload(f"f{i}.txt", b"x") for i in range(MAX_FILES_PER_UPDATE + 1)]

    with pytest.raises(InvalidInput, match=f"At most {MAX_FILES_PER_UPDATE} files"):
        post(case, dc_a, *files)

    assert snapshot(case) == state
    assert stored_files(settings) == []


def test_refused_attachment_on_a_care_transition_changes_nothing(org_a, dc_a, analyst, settings):
    # DOMAIN C-10, C-8
    case = make_case(org_a, dc_a, "investigation")
    state = snapshot(case)

    with scopes_disabled(), pytest.raises(InvalidInput):
        services.case_request_info(
            case=case,
            actor=analyst,
            body="Send this back filled in.",
            uploads=[upload("form.pdf", HTML)],
            channel=Channel.ADMIN,
            now=NOW,
        )

    assert snapshot(case) == state
    assert stored_files(settings) == []


def test_check_upload_reads_the_content_not_the_claimed_type():
    # DOMAIN C-10: the browser's content type is the sender's claim, not evidence
    disguised = SimpleUploadedFile("shot.png", HTML, content_type="image/png")

    with pytest.raises(InvalidInput):
        check_upload(disguised)
