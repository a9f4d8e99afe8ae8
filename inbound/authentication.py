"""Was the sender's address vouched for by our own mail server? (N-3)

A From address is easy to forge. A mail server that checks SPF, DKIM and DMARC writes its
verdicts into an ``Authentication-Results`` header (RFC 8601) that starts with its own name,
the authserv-id. When ``INBOUND_AUTHSERV_ID`` names that server, a message counts as the
sender's only when one of that server's verdicts passes for the From address's domain:
DMARC for that domain, DKIM signed by that domain (or a parent of it), or SPF for an
envelope sender of that domain. Verdicts written by anyone else (a sender can add such a header
itself) are ignored. A message that fails is refused and never answered, so a forged sender
can neither post to a case nor make the portal write to a stranger (backscatter).

Without the setting, no check is made: the case reference (a keyed token, N-2) and the
sender's membership are then the only checks, which is what a mail server that does not
authenticate allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# "method=result" followed by "ptype.property=value" pairs, up to the next ";".
_METHOD = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(
    r"\b(header\.d|header\.from|header\.i|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)", re.I
)
_COMMENT = re.compile(r"\([^()]*\)")
MAX_HEADER = 4000  # characters read of each header; real ones are a few hundred


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip(".").lower()


def _aligned(domain: str, sender_domain: str) -> bool:
    """The same domain, or the sender's domain under it (relaxed alignment)."""
    return bool(domain) and (sender_domain == domain or sender_domain.endswith("." + domain))


def verdicts(headers: Iterable[str], authserv_id: str) -> list[tuple[str, str, dict[str, str]]]:
    """(method, result, properties) of every verdict written by ``authserv_id``."""
    found = []
    for header in headers:
        header = _COMMENT.sub(" ", header[:MAX_HEADER])
        server, _, rest = header.partition(";")
        if server.split() and server.split()[0].lower() == authserv_id.lower():
            for part in rest.split(";"):
                match = _METHOD.match(part)
                if match:
                    properties = {k.lower(): v for k, v in _PROPERTY.findall(match[3])}
                    found.append((match[1].lower(), match[2].lower(), properties))
    return found


def _vouched_domain(method: str, properties: dict[str, str]) -> str:
    """The domain a passing verdict of ``method`` vouches for ("" for other methods)."""
    if method == "dmarc":
        return _domain(properties.get("header.from", ""))
    if method == "dkim":
        return (properties.get("header.d") or _domain(properties.get("header.i", ""))).lower()
    if method == "spf":
        return _domain(properties.get("smtp.mailfrom", ""))
    return ""


def sender_authenticated(headers: Iterable[str], *, sender: str, authserv_id: str) -> bool:
    """Whether our mail server vouched for ``sender``'s domain (see the module's docstring)."""
    sender_domain = _domain(sender)
    return any(
        result == "pass" and _aligned(_vouched_domain(method, properties), sender_domain)
        for method, result, properties in verdicts(headers, authserv_id)
    )
