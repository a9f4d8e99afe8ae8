"""Inbound email's Celery tasks: thin, the transports and the service do the work.

Beat rings ``poll_imap`` and ``sweep_maildir`` whether or not a mailbox is configured; each
does nothing when its setting is empty. None of them raises for a mailbox problem: the
transports log it and the next tick tries again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from inbound.imap import imap_poll
from inbound.maildir import maildir_sweep
from inbound.services import inbound_handle_waiting

logger = logging.getLogger(__name__)

# The lock is a key in Django's default cache, taken with cache.add (set only when absent,
# atomic in Redis and in the memory cache) and given a timeout, so a worker killed while
# holding it blocks its mailbox for LOCK_SECONDS at most. A run ends well within that (the
# transports stop starting new messages after 50 and 25 seconds). With Redis (compose,
# production) it holds across every worker; with the per-process memory cache (`make run`
# without Redis) only within one worker process. Two polls that do overlap are still
# safe, only wasteful: the store deduplicates by Message-ID, and a message another poll
# moved first is skipped.
LOCK_SECONDS = 300


@contextmanager
def mailbox_lock(name: str) -> Iterator[bool]:
    """Yields True when this run holds the lock of mailbox ``name``, False when another
    run does."""
    key = f"inbound:lock:{name}"
    token = uuid.uuid4().hex
    held = cache.add(key, token, timeout=LOCK_SECONDS)
    try:
        yield held
    finally:
        if held and cache.get(key) == token:
            cache.delete(key)


@shared_task(ignore_result=True)
def poll_imap() -> int:
    """Store the messages waiting in the IMAP mailbox INBOUND_IMAP_URL names (N-3)."""
    url = settings.INBOUND_IMAP_URL
    if not url:
        return 0
    with mailbox_lock("imap") as held:
        if not held:
            logger.info("inbound imap: another poll is still running; skipped")
            return 0
        result = imap_poll(
            url=url,
            processed_folder=settings.INBOUND_IMAP_PROCESSED_FOLDER,
            now=timezone.now(),
        )
    return result.stored


@shared_task(ignore_result=True)
def sweep_maildir() -> int:
    """Store the messages dropped into INBOUND_MAILDIR's new/ folder (N-3)."""
    path = settings.INBOUND_MAILDIR
    if not path:
        return 0
    with mailbox_lock(f"maildir:{path}") as held:
        if not held:
            logger.info("inbound maildir: another sweep is still running; skipped")
            return 0
        result = maildir_sweep(path=path, now=timezone.now())
    return result.stored


@shared_task(ignore_result=True)
def handle_waiting() -> int:
    """Handle again the stored messages whose handling failed (N-3)."""
    return inbound_handle_waiting(now=timezone.now())
