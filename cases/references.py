"""The reference token that ties an email to its case (N-2), and finding the case again from
a reply (N-3, N-4).

Every outgoing case email carries ``[ref:<token>]`` in its subject and the case number and
token in its Message-ID, In-Reply-To and References (``<case-00001234.<token>…@domain>``).
The token is a keyed hash of the case number, so a reply can only name a case whose email
its sender (or someone they forwarded it to) received: guessing a number is not enough.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from django.conf import settings

from cases.models import Case
from core.outbox.services import mail_domain

TOKEN_LENGTH = 16  # base32 characters of the 10-byte keyed hash
_SUBJECT_TOKEN = re.compile(r"\[ref:([a-z2-7]{16})\]", re.IGNORECASE)
_SUBJECT_NUMBER = re.compile(r"\[Case (\d{1,12})\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<?case-(\d{1,12})\.([a-z2-7]{16})(?:\.[0-9a-f]+)?@([^>\s]+)>?", re.I)


def token_for_number(number: int) -> str:
    """The token of case ``number``: 16 base32 characters, without the ``ref:`` prefix."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"case:{number}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:10]).decode().lower()


def reference_token(case: Case) -> str:
    """``ref:<token>``, as it stands in the subject of every case email."""
    return "ref:" + token_for_number(case.number)


def message_id_hint(case: Case) -> str:
    """The front part of every case email's Message-ID: a reply that keeps only
    In-Reply-To still names its case."""
    return f"case-{case.number:08d}.{token_for_number(case.number)}"


def thread_id(case: Case) -> str:
    """The case's thread: every case email's In-Reply-To and References."""
    return f"<{message_id_hint(case)}@{mail_domain()}>"


def thread_headers(case: Case) -> dict[str, str]:
    """The headers that put a case email in the case's thread (N-2)."""
    return {
        "References": thread_id(case),
        "In-Reply-To": thread_id(case),
        "X-Case-Number": case.display_number,
    }


def _valid(number: int, token: str) -> bool:
    return hmac.compare_digest(token.lower(), token_for_number(number))


def case_number_from_reply(*, subject: str, message_ids: Iterable[str]) -> int | None:
    """The number of the case a reply answers, or None when it carries no valid reference.

    The Message-IDs we generated (In-Reply-To, References) are tried first: mail clients keep
    them even when the subject is rewritten. Then the subject's ``[ref:…]`` token, which
    must be the token of the ``[Case …]`` number beside it. A case number alone, or a token
    that does not match its number, is no reference (N-4)."""
    domain = mail_domain().lower()
    for message_id in message_ids:
        for match in _MESSAGE_ID.finditer(message_id or ""):
            number, token, host = int(match[1]), match[2], match[3].lower()
            if host == domain and _valid(number, token):
                return number
    token = _SUBJECT_TOKEN.search(subject or "")
    numbers = _SUBJECT_NUMBER.findall(subject or "")
    if token:
        for number in numbers:
            if _valid(int(number), token[1]):
                return int(number)
    return None
