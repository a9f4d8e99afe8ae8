"""Attachment checks and storage (C-10): size limit, sanitised names, type by content."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import datetime

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from accounts.models import User
from cases.models import Attachment, Case, CaseUpdate
from core.errors import InvalidInput
from core.tenancy import scopes_disabled

MAX_FILES_PER_UPDATE = 10
HEAD_BYTES = 64 * 1024

# Extension → the content types its bytes must be recognised as (None: plain text).
BINARY_TYPES: dict[str, set[str]] = {
    "png": {"png"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "gif": {"gif"},
    "webp": {"webp"},
    "bmp": {"bmp"},
    "pdf": {"pdf"},
    "zip": {"zip"},
    "gz": {"gz"},
    "tgz": {"gz"},
    "7z": {"7z"},
    "docx": {"docx", "zip"},
    "xlsx": {"xlsx", "zip"},
    "pptx": {"pptx", "zip"},
    "wav": {"wav"},
    "mp3": {"mp3"},
    "pcap": {"pcap"},
}
TEXT_TYPES = {"txt", "log", "csv", "json", "xml", "har", "yaml", "yml", "cfg", "conf", "ini"}
MIME = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "7z": "application/x-7z-compressed",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "pcap": "application/vnd.tcpdump.pcap",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_UNSAFE = re.compile(r"[^\w.\- ()+]")


def sanitize_name(name: str) -> str:
    """A display name that cannot traverse paths or smuggle control characters."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"_+", "_", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:150].strip(" ._") or "attachment"
    return f"{stem}.{ext[:10]}" if ext else stem


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    return head


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Returns (safe name, content type) or raises InvalidInput explaining why not."""
    name = sanitize_name(upload.name)
    limit = settings.PORTAL["ATTACHMENT_MAX_BYTES"]
    if upload.size is None or upload.size > limit:
        raise InvalidInput(
            f"“{name}” is larger than the {human_size(limit)} limit.",
            {"attachments": [f"“{name}” is too large (limit {human_size(limit)})."]},
        )
    if upload.size == 0:
        raise InvalidInput(f"“{name}” is empty.", {"attachments": [f"“{name}” is empty."]})
    ext = extension(name)
    head = _head(upload)
    if ext in BINARY_TYPES:
        kind = filetype.guess(head)
        if kind is None or kind.extension not in BINARY_TYPES[ext]:
            message = f"“{name}” does not contain what its name says (.{ext})."
            raise InvalidInput(message, {"attachments": [message]})
        return name, MIME[ext]
    if ext in TEXT_TYPES:
        if b"\x00" in head:
            message = f"“{name}” is not a text file."
            raise InvalidInput(message, {"attachments": [message]})
        return name, "text/plain"
    allowed = ", ".join(sorted([*BINARY_TYPES, *TEXT_TYPES]))
    message = f"“{name}”: this type of file is not accepted. Accepted: {allowed}."
    raise InvalidInput(message, {"attachments": [message]})


def validate_uploads(uploads: Sequence[UploadedFile]) -> None:
    if len(uploads) > MAX_FILES_PER_UPDATE:
        message = f"At most {MAX_FILES_PER_UPDATE} files per update."
        raise InvalidInput(message, {"attachments": [message]})
    for upload in uploads:
        check_upload(upload)


def attachment_store(
    *, case: Case, update: CaseUpdate, upload: UploadedFile, actor: User | None, now: datetime
) -> Attachment:
    name, content_type = check_upload(upload)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        organization_id=case.organization_id,
        case=case,
        update=update,
        token=secrets.token_urlsafe(24),
        name=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        created_at=now,
    )
    attachment.file.save(attachment.token, upload, save=False)
    attachment.save(force_insert=True)
    return attachment


def stored_path_is_inside_media(path: str) -> bool:
    root = os.path.realpath(settings.MEDIA_ROOT)
    return os.path.realpath(path).startswith(root + os.sep)


def attachment_orphans(*, older_than: datetime) -> Iterator[str]:
    """Stored files that no attachment names, last written before ``older_than``.

    A file is stored before its row is inserted, so an upload whose transaction rolled back
    (a refused update, a lost race) leaves its file behind. The grace period keeps the file
    of an upload whose transaction is still under way. Walks the storage one case folder
    at a time (``attachments/<organization>/<case>/``), one query per folder."""
    storage = Attachment._meta.get_field("file").storage
    root = "attachments"
    if not storage.exists(root):
        return
    organizations, _ = storage.listdir(root)
    for organization in sorted(organizations):
        cases, _ = storage.listdir(f"{root}/{organization}")
        for case in sorted(cases):
            folder = f"{root}/{organization}/{case}"
            _, names = storage.listdir(folder)
            if not names:
                continue
            paths = [f"{folder}/{name}" for name in names]
            with scopes_disabled():
                known = set(
                    Attachment.unscoped.filter(file__in=paths).values_list("file", flat=True)
                )
            for path in sorted(set(paths) - known):
                if storage.get_modified_time(path) < older_than:
                    yield path
