"""What a received message is, and what follows from it (N-3, N-4, C-12, T-6).

``handle`` runs inside the caller's transaction with the message row locked. It sets the
outcome, the reason in words (for care) and what the message was matched to, posts the
update when everything allows it, and decides at most one answer to the sender. The
checks run in this order, each ending the handling when it applies:

1. a delivery failure report: recorded on the message and, for a case email, in the case's
   history for care (never shown to the customer);
2. an automatic message (auto-reply, list, bulk) or one from mail software or our own
   address: ignored, never answered (RFC 3834);
3. a From address that cannot be trusted: refused; there is nobody to answer. With
   ``INBOUND_AUTHSERV_ID`` set, that includes a sender whose domain our mail server did not
   authenticate (``inbound.authentication``): refused, never answered;
4. too large: refused, with an answer that says the limit;
5. no valid case reference: no case is opened; the answer says cases are opened in the
   portal (N-4);
6. a sender who is not an active designated contact of the case's organization or of a
   reseller partner linked to it: refused with an answer that says why without telling a
   stranger anything about the case (T-6);
7. a closed case: nothing posted, nothing reopened; the answer says how to reopen (C-12);
8. otherwise the reply text is posted as the contact's public update through
   ``case_post_update`` (channel email): the same effects as a portal update (C-8, F-5).
   Files go through the portal's checks; refused files are named in an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AccessLevel, User
from accounts.selectors import access_level_for, visible_organization_ids
from cases import policy
from cases.attachments import MAX_FILES_PER_UPDATE, check_upload, human_size, sanitize_name
from cases.links import case_url
from cases.models import Case, CaseEvent, Channel
from cases.references import case_number_from_reply
from cases.services import case_post_update
from cases.services.history import case_event_record
from core.errors import DomainError, InvalidInput
from core.outbox.models import OutboxEmail
from core.tenancy import tenant_scope
from inbound.answers import Kind, answer_sender, not_a_person
from inbound.authentication import sender_authenticated
from inbound.models import InboundMessage
from inbound.parsing import BounceReport, ParsedMessage

Outcome = InboundMessage.Outcome

# The update's text when the sender wrote nothing but attached files.
FILES_ONLY_BODY = "(Attachments sent by email)"
DIAGNOSTIC_MAX = 500


@dataclass(frozen=True)
class RefusedFile:
    name: str
    why: str


def handle(message: InboundMessage, parsed: ParsedMessage, *, now: datetime) -> None:
    """Decide what ``message`` is and act on it (see the module's docstring)."""
    if parsed.bounce is not None:
        _bounce(message, parsed.bounce, now=now)
        return
    if parsed.automatic_reason:
        _decide(message, Outcome.AUTOMATIC, parsed.automatic_reason)
        return
    if parsed.sender is None:
        problem = parsed.sender_problem or "no valid From address"
        _decide(
            message,
            Outcome.REFUSED,
            f"The sender cannot be trusted ({problem}); nothing is answered.",
        )
        return
    if why := not_a_person(parsed.sender):
        _decide(message, Outcome.AUTOMATIC, why)
        return
    authserv_id = settings.INBOUND_AUTHSERV_ID
    if authserv_id and not sender_authenticated(
        parsed.authentication_results, sender=parsed.sender, authserv_id=authserv_id
    ):
        _decide(
            message,
            Outcome.REFUSED,
            f"The mail server ({authserv_id}) did not authenticate the sender's domain (no "
            "passing DMARC, DKIM or SPF result); nothing is posted or answered.",
        )
        return
    limit = settings.INBOUND_MAX_BYTES
    if message.size > limit:
        _decide(
            message,
            Outcome.REFUSED,
            f"Larger ({human_size(message.size)}) than the {human_size(limit)} limit.",
        )
        context = {
            "size": human_size(message.size),
            "limit": human_size(limit),
            "file_limit": human_size(settings.PORTAL["ATTACHMENT_MAX_BYTES"]),
        }
        answer_sender(message=message, kind=Kind.TOO_LARGE, now=now, context=context)
        return
    case = _case_named(parsed)
    if case is None:
        _decide(message, Outcome.NO_REFERENCE, "No valid case reference; no case is opened.")
        answer_sender(message=message, kind=Kind.NO_REFERENCE, now=now)
        return
    message.case, message.organization_id = case, case.organization_id
    contact = _designated_contact(message, parsed.sender, case, now=now)
    if contact is None:
        return
    if case.is_closed:
        _closed(message, case, now=now)
        return
    _post(message, parsed, case, contact, now=now)


def _decide(message: InboundMessage, outcome: str, reason: str) -> None:
    message.outcome = outcome
    message.reason = reason


# --- 1. delivery failure reports --------------------------------------------------------


def _bounce(message: InboundMessage, report: BounceReport, *, now: datetime) -> None:
    """Record which of our emails bounced; a case email's bounce goes in the case's history
    as an internal event, so care knows the customer did not get it."""
    email = None
    if report.original_message_ids:
        email = (
            OutboxEmail.unscoped.filter(message_id__in=list(report.original_message_ids))
            .select_related("case")
            .first()
        )
    diagnostic = " ".join(report.diagnostic.split())[:DIAGNOSTIC_MAX]
    if email is None:
        _decide(
            message,
            Outcome.BOUNCE,
            "A delivery failure report about an email the portal has no record of"
            + (f": {report.status} {diagnostic}".rstrip() if report.status or diagnostic else "."),
        )
        return
    recipients = list(report.recipients) or list(email.to)
    message.bounced_email = email
    if report.action != "failed":
        # A delay warning (the email may still arrive) or a delivery report: nothing for
        # care to act on, so nothing in the case's history.
        what = "is delayed" if report.action == "delayed" else "was reported delivered"
        _decide(
            message,
            Outcome.BOUNCE,
            f"Our email “{email.subject}” to {', '.join(recipients)} {what}"
            + (f" ({report.status})." if report.status else "."),
        )
        return
    _decide(
        message,
        Outcome.BOUNCE,
        f"Our email “{email.subject}” to {', '.join(recipients)} was not delivered"
        + (f" ({report.status})" if report.status else "")
        + (f": {diagnostic}" if diagnostic else "."),
    )
    if email.case is not None:
        message.case, message.organization_id = email.case, email.case.organization_id
        case_event_record(
            case=email.case,
            actor=None,
            kind=CaseEvent.Kind.EMAIL_BOUNCED,
            channel=Channel.EMAIL,
            now=now,
            after={
                "email": email.subject,
                "recipients": recipients,
                "delivery_status": report.status,
                "diagnostic": diagnostic,
            },
            internal=True,
        )


# --- 5. the case reference --------------------------------------------------------------


def _case_named(parsed: ParsedMessage) -> Case | None:
    number = case_number_from_reply(
        subject=parsed.subject, message_ids=[*parsed.in_reply_to, *parsed.references]
    )
    if number is None:
        return None
    # Only what deciding and answering read: posting locks and reads the whole row again.
    return (
        Case.unscoped.filter(number=number)
        .only("organization_id", "number", "subject", "status", "sub_status", "closed_at")
        .first()
    )


# --- 6. who may post --------------------------------------------------------------------


def _designated_contact(
    message: InboundMessage, sender: str, case: Case, *, now: datetime
) -> User | None:
    """The sender's account when it is an active designated contact of the case's
    organization, directly or through a linked reseller partner (T-4, T-8); else the
    message is refused and the sender told why, in words that say nothing about the case
    to someone who may not see it (T-6)."""
    user = User.objects.filter(email=sender.lower()).first()
    level = None
    if user is None:
        why = "The sender has no portal account."
    elif not user.is_active:
        why = "The sender's portal account is deactivated."
    elif user.is_staff:
        why = "The sender is Customer Care staff: care posts in the care workspace."
    else:
        level = access_level_for(user, case.organization_id)
        if level == AccessLevel.DESIGNATED_CONTACT:
            return user
        why = (
            "The sender is not a member of the case's organization or of a reseller partner "
            "linked to it (or the organization is deactivated)."
            if level is None
            else f"The sender's access level is {AccessLevel(level).label}, not Designated contact."
        )
    _decide(message, Outcome.REFUSED, why)
    context = {
        "read_only": level == AccessLevel.READ_ONLY,
        "staff": bool(user and user.is_active and user.is_staff),
    }
    answer_sender(message=message, kind=Kind.NOT_ALLOWED, now=now, context=context)
    return None


# --- 7. closed cases --------------------------------------------------------------------


def _closed(message: InboundMessage, case: Case, *, now: datetime) -> None:
    deadline = policy.reopen_deadline(case)
    can_reopen = deadline is not None and now < deadline
    _decide(
        message,
        Outcome.REFUSED,
        f"The case is closed ({case.get_sub_status_display()}); nothing was posted or "
        + ("reopened." if can_reopen else "reopened, and it can no longer be reopened."),
    )
    context = {
        "case_url": case_url(case.number),
        "can_reopen": can_reopen,
        "deadline": deadline,
    }
    answer_sender(message=message, kind=Kind.CLOSED, now=now, case=case, context=context)


# --- 8. posting --------------------------------------------------------------------------


def _files(parsed: ParsedMessage) -> tuple[list[SimpleUploadedFile], list[RefusedFile]]:
    """The attachments as portal uploads, checked like them (C-10): those accepted, and
    those refused with the reason in the portal's words."""
    accepted: list[SimpleUploadedFile] = []
    refused: list[RefusedFile] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(
            attachment.name or "attachment", attachment.data, attachment.content_type
        )
        try:
            check_upload(upload)
        except InvalidInput as exc:
            refused.append(RefusedFile(sanitize_name(attachment.name), exc.message))
            continue
        if len(accepted) >= MAX_FILES_PER_UPDATE:
            why = f"At most {MAX_FILES_PER_UPDATE} files are accepted per update."
            refused.append(RefusedFile(sanitize_name(attachment.name), why))
            continue
        accepted.append(upload)
    return accepted, refused


def _post(
    message: InboundMessage, parsed: ParsedMessage, case: Case, contact: User, *, now: datetime
) -> None:
    accepted, refused = _files(parsed)
    body = parsed.reply_text.strip()
    context = {"case_url": case_url(case.number), "refused": refused}
    if not body and not accepted:
        _decide(
            message,
            Outcome.REFUSED,
            "Nothing to post: no text of the sender's own"
            + (f", and every file refused ({_names(refused)})." if refused else "."),
        )
        answer_sender(message=message, kind=Kind.EMPTY, now=now, case=case, context=context)
        return
    try:
        # The contact's own tenant scope, as their portal request would run.
        with tenant_scope(visible_organization_ids(contact)):
            message.update = case_post_update(
                case=case,
                actor=contact,
                body=body or FILES_ONLY_BODY,
                uploads=accepted,
                channel=Channel.EMAIL,
                now=now,
            )
    except DomainError as exc:
        _decide(message, Outcome.REFUSED, f"The case refused the update: {exc.message}")
        context["error"] = exc.message
        answer_sender(message=message, kind=Kind.REFUSED, now=now, case=case, context=context)
        return
    _decide(
        message,
        Outcome.POSTED,
        f"Posted; files refused: {_names(refused)}." if refused else "",
    )
    if refused:
        answer_sender(message=message, kind=Kind.ATTACHMENTS, now=now, case=case, context=context)


def _names(refused: list[RefusedFile]) -> str:
    return "; ".join(f"{f.name} ({f.why})" for f in refused)
