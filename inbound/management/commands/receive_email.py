"""``manage.py receive_email``: one RFC 5322 message on standard input, as an MTA's pipe
transport or a ``.forward`` file delivers it (N-3, N-4).

Exit status 0 when the message is stored, whatever its outcome (a refusal or an ignored
auto-reply included: the portal answers the sender itself). Exit status 75 (EX_TEMPFAIL)
only when it could not be stored, so the MTA keeps the message and delivers it again; a
delivery of a message already stored is a no-op. An empty input is refused with 65
(EX_DATAERR): there is nothing to keep.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from inbound.models import InboundMessage
from inbound.services import inbound_receive

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Receive one email message from standard input (an MTA pipe transport)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--transport",
            default=InboundMessage.Transport.PIPE,
            choices=InboundMessage.Transport.values,
            help="How the message arrived (default: pipe).",
        )

    def handle(self, *args, transport: str, **options) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message on standard input.", returncode=EX_DATAERR)
        try:
            message = inbound_receive(raw, transport=transport)
        except Exception as exc:  # not stored: the MTA must keep the message and retry
            cause = " ".join(str(exc).split())[:200]
            raise CommandError(
                f"The message could not be stored ({type(exc).__name__}: {cause}); "
                "deliver it again later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        if options["verbosity"] > 1:
            self.stdout.write(f"Stored as inbound message {message.pk}: {message.outcome}.")
