"""The IMAP transport: a mailbox polled by beat, each message stored, then moved (N-3).

``INBOUND_IMAP_URL`` names the mailbox: ``imaps://user:password@host[:port]/INBOX`` (TLS,
port 993 by default) or ``imap://…`` (plain, port 143: local servers and tests). User name
and password are URL-encoded in the URL (``@`` is ``%40``).

For each message, oldest UID first: fetch its bytes with ``BODY.PEEK[]`` (nothing is marked
seen), hand them to ``inbound_receive``, and only once it returned (the row is committed)
move the message to ``INBOUND_IMAP_PROCESSED_FOLDER``. A message that could not be stored
stays in the inbox for the next poll. A crash between storing and moving leaves it there
too: the next poll reads it again and the store's Message-ID dedup posts nothing twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from inbound.services import inbound_receive

logger = logging.getLogger(__name__)

POLL_LIMIT = 200  # messages one poll takes at most; the rest wait for the next one
POLL_SECONDS = 50.0  # no new message is started after this; beat polls every 60 s
SOCKET_TIMEOUT = 30.0  # seconds any one network operation may take
# Consecutive messages that could not be stored before a poll gives up: the database is
# most likely away, and the next poll tries again.
MAX_STORE_FAILURES = 3

Receive = Callable[..., object]


class ImapConfigError(ValueError):
    """INBOUND_IMAP_URL is not a usable mailbox address. The message names no password."""


@dataclass(frozen=True)
class ImapMailbox:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str

    def __str__(self) -> str:  # for log lines: never the password
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass
class PollResult:
    seen: int = 0  # messages fetched
    stored: int = 0  # handed to inbound_receive without an error
    moved: int = 0  # moved to the processed folder
    failed: int = 0  # not stored, or stored but not moved: read again next time
    error: str = ""  # why the poll stopped early (connection, login, folder), if it did


def parse_imap_url(url: str) -> ImapMailbox:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ImapConfigError("INBOUND_IMAP_URL must start with imaps:// or imap://")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImapConfigError("INBOUND_IMAP_URL has an invalid port") from exc
    if not parts.hostname or not parts.username or parts.password is None:
        raise ImapConfigError("INBOUND_IMAP_URL needs a user, a password and a host")
    secure = parts.scheme == "imaps"
    return ImapMailbox(
        secure=secure,
        host=parts.hostname,
        port=port or (993 if secure else 143),
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _quoted(folder: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    if not folder.isascii() or any(c in folder for c in "\r\n"):
        raise ImapConfigError(f"IMAP folder names must be plain ASCII: {folder!r}")
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise imaplib.IMAP4.error(f"{what}: {typ} {detail}".strip())
    return data


def _connect(mailbox: ImapMailbox, timeout: float) -> imaplib.IMAP4:
    if mailbox.secure:
        context = ssl.create_default_context()
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    return imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    """The capabilities after login (servers announce MOVE and UIDPLUS only then)."""
    data = _check(*conn.capability(), "CAPABILITY")
    return {c.upper() for c in b" ".join(d for d in data if d).decode().split()}


def _ensure_folder(conn: imaplib.IMAP4, folder: str) -> None:
    typ, data = conn.list('""', _quoted(folder))
    if typ == "OK" and any(d for d in data if d):
        return
    _check(*conn.create(_quoted(folder)), f"CREATE {folder}")
    conn.subscribe(_quoted(folder))  # so mail clients show it; a refusal is harmless
    logger.info("inbound imap: created the folder %s", folder)


def _raw_bytes(data: list) -> bytes | None:
    """The message bytes in a UID FETCH answer, or None when the message is gone."""
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def move_message(conn: imaplib.IMAP4, uid: str, folder: str, capabilities: set[str]) -> None:
    """Move one message by UID: UID MOVE (RFC 6851) where the server has it, else copy,
    flag deleted and expunge (UID EXPUNGE with UIDPLUS, else a plain EXPUNGE, which also
    removes whatever else in the folder is flagged deleted)."""
    if "MOVE" in capabilities:
        _check(*conn.uid("MOVE", uid, _quoted(folder)), f"UID MOVE {uid}")
        return
    _check(*conn.uid("COPY", uid, _quoted(folder)), f"UID COPY {uid}")
    _check(*conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), f"UID STORE {uid}")
    if "UIDPLUS" in capabilities:
        _check(*conn.uid("EXPUNGE", uid), f"UID EXPUNGE {uid}")
    else:
        _check(*conn.expunge(), "EXPUNGE")


def imap_poll(
    *,
    url: str,
    processed_folder: str,
    now: datetime | None = None,
    receive: Receive = inbound_receive,
    limit: int = POLL_LIMIT,
    max_seconds: float = POLL_SECONDS,
    timeout: float = SOCKET_TIMEOUT,
) -> PollResult:
    """Store up to ``limit`` messages of the mailbox ``url`` names and move each to
    ``processed_folder`` once stored. Never raises for a mailbox problem (bad address,
    refused login, server away): it logs an error, returns, and the next poll tries again.
    ``receive`` is the store; tests may hand in another one."""
    result = PollResult()
    try:
        mailbox = parse_imap_url(url)
        _quoted(processed_folder)
        _quoted(mailbox.folder)
        same = processed_folder == mailbox.folder or (
            processed_folder.upper() == mailbox.folder.upper() == "INBOX"  # any case (RFC 3501)
        )
        if same or not processed_folder.strip():
            raise ImapConfigError(
                "INBOUND_IMAP_PROCESSED_FOLDER must name a folder other than the one polled"
            )
    except ImapConfigError as exc:
        logger.error("inbound imap: %s; nothing polled", exc)
        result.error = str(exc)
        return result
    started = time.monotonic()
    conn = None
    try:
        conn = _connect(mailbox, timeout)
        conn.login(mailbox.user, mailbox.password)
        capabilities = _capabilities(conn)
        _ensure_folder(conn, processed_folder)
        _check(*conn.select(_quoted(mailbox.folder)), f"SELECT {mailbox.folder}")
        uids = _check(*conn.uid("SEARCH", None, "UNDELETED"), "UID SEARCH")[0].split()
        uids = sorted(uids, key=int)[:limit]
        if uids:
            logger.info("inbound imap: %d message(s) waiting in %s", len(uids), mailbox)
        store_failures = 0
        for uid_bytes in uids:
            if time.monotonic() - started > max_seconds:
                logger.info("inbound imap: time is up; the rest waits for the next poll")
                break
            uid = uid_bytes.decode()
            raw = _raw_bytes(_check(*conn.uid("FETCH", uid, "(BODY.PEEK[])"), f"FETCH {uid}"))
            if raw is None:
                continue  # expunged by someone else since the search
            result.seen += 1
            try:
                stored = receive(raw, transport="imap", now=now)
            except Exception:
                result.failed += 1
                store_failures += 1
                logger.exception(
                    "inbound imap: UID %s could not be stored; it stays in %s for the next poll",
                    uid,
                    mailbox.folder,
                )
                if store_failures >= MAX_STORE_FAILURES:
                    result.error = "messages could not be stored"
                    logger.error(
                        "inbound imap: %d messages in a row could not be stored; "
                        "stopping until the next poll",
                        store_failures,
                    )
                    break
                continue
            store_failures = 0
            result.stored += 1
            try:
                move_message(conn, uid, processed_folder, capabilities)
            except imaplib.IMAP4.abort:
                raise  # the connection is gone: handled below
            except imaplib.IMAP4.error as exc:
                result.failed += 1
                logger.error(
                    "inbound imap: UID %s was stored (inbound message %s) but not "
                    "moved (%s); the next poll reads it again",
                    uid,
                    getattr(stored, "pk", "?"),
                    exc,
                )
                continue
            result.moved += 1
            logger.info(
                "inbound imap: UID %s stored as inbound message %s and moved to %s",
                uid,
                getattr(stored, "pk", "?"),
                processed_folder,
            )
    except UnicodeError:
        # imaplib sends user names and passwords as ASCII only; say so, never the value.
        result.error = "the user name or password is not plain ASCII"
        logger.error("inbound imap: polling %s failed: %s", mailbox, result.error)
    except (OSError, imaplib.IMAP4.error, ImapConfigError) as exc:
        # imaplib's messages quote the server, never the password we sent.
        detail = exc.args[0] if len(exc.args) == 1 else None
        if isinstance(detail, bytes):  # the server's words, as imaplib hands them on
            detail = detail.decode(errors="replace")
        result.error = f"{type(exc).__name__}: {detail or exc}"
        logger.error("inbound imap: polling %s failed: %s", mailbox, result.error)
    finally:
        if conn is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()
    return result
