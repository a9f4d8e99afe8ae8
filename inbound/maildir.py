"""The drop-folder transport: a Maildir swept by beat (N-3).

``INBOUND_MAILDIR`` is a Maildir (``new/``, ``cur/``, ``tmp/``, created if missing; the local
settings use ``var/mail/inbox``). Each file in ``new/`` is handed as it is, bytes and all, to
``inbound_receive``; once that returned (the row is committed) the file moves to ``cur/``
with the Maildir "seen" flag (``<name>:2,S``), as a mail client files a message it has read.
A file that could not be stored stays in ``new/`` for the next sweep; a crash between
storing and moving leaves it there too, and the store's Message-ID dedup posts nothing twice.

A mail server delivering into the Maildir writes into ``tmp/`` and renames into ``new/``; a
person may save a file straight into ``new/``, so a file changed in the last couple of
seconds is left for the next sweep rather than read half written.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG

from inbound.services import inbound_receive

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 200  # files one sweep takes at most; the rest wait for the next one
SWEEP_SECONDS = 25.0  # no new file is started after this; beat sweeps every 30 s
SETTLE_SECONDS = 2.0  # a file younger than this may still be being written
SEEN_INFO = ":2,S"  # Maildir info of a message that has been read

Receive = Callable[..., object]


@dataclass
class SweepResult:
    seen: int = 0  # files read
    stored: int = 0  # handed to inbound_receive without an error
    moved: int = 0  # moved to cur/
    failed: int = 0  # left in new/ for the next sweep
    error: str = ""  # why the sweep did nothing, if it did nothing


def ensure_maildir(path: str | os.PathLike[str]) -> Path:
    """The Maildir at ``path``, with ``new/``, ``cur/`` and ``tmp/`` created if missing."""
    root = Path(path)
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def maildir_sweep(
    *,
    path: str | os.PathLike[str],
    now: datetime | None = None,
    receive: Receive = inbound_receive,
    limit: int = SWEEP_LIMIT,
    max_seconds: float = SWEEP_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
) -> SweepResult:
    """Store up to ``limit`` files of ``path``/new/ and move each to cur/ once stored.
    Never raises for a folder problem: it logs an error and the next sweep tries again.
    ``receive`` is the store; tests may hand in another one."""
    result = SweepResult()
    try:
        root = ensure_maildir(path)
        names = sorted(n for n in os.listdir(root / "new") if not n.startswith("."))
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        logger.error("inbound maildir: cannot read %s: %s", path, exc)
        return result
    started = time.monotonic()
    for name in names[:limit]:
        if time.monotonic() - started > max_seconds:
            logger.info("inbound maildir: time is up; the rest waits for the next sweep")
            break
        source = root / "new" / name
        try:
            stat = source.stat()
            if not S_ISREG(stat.st_mode):
                continue  # not a message file
            if time.time() - stat.st_mtime < settle_seconds:
                continue  # maybe still being written: the next sweep takes it
            raw = source.read_bytes()
        except FileNotFoundError:
            continue  # taken by another sweep since the listing
        except OSError as exc:
            result.failed += 1
            logger.error("inbound maildir: cannot read %s: %s; it stays in new/", source, exc)
            continue
        result.seen += 1
        try:
            stored = receive(raw, transport="maildir", now=now)
        except Exception:
            result.failed += 1
            logger.exception(
                "inbound maildir: %s could not be stored; it stays in new/ for the next sweep",
                name,
            )
            continue
        result.stored += 1
        try:
            move_to_cur(root, name)
        except FileNotFoundError:
            continue  # another sweep moved it first: the dedup stored it once
        except OSError as exc:
            result.failed += 1
            logger.error(
                "inbound maildir: %s was stored but not moved (%s); the next sweep reads it again",
                name,
                exc,
            )
            continue
        result.moved += 1
        logger.info(
            "inbound maildir: %s stored as inbound message %s",
            name,
            getattr(stored, "pk", "?"),
        )
    return result


def move_to_cur(root: Path, name: str) -> Path:
    """Move ``new/<name>`` to ``cur/`` flagged seen, as the Maildir convention has it (a
    rename within one folder tree: atomic)."""
    target = root / "cur" / (name.split(":", 1)[0] + SEEN_INFO)
    os.rename(root / "new" / name, target)
    return target
