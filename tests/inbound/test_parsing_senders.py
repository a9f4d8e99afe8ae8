"""Reading received emails (inbound.parsing), part two: who sent it. The From header read
strictly (CVE-2023-27043), automatic messages (RFC 3834) and bounces (RFC 3464)."""

from __future__ import annotations

import pytest

from inbound.parsing import ParsedMessage, parse_message
from tests.inbound.messages import CASE_MESSAGE_ID, load, simple_email


def parse(name: str, **values: str) -> ParsedMessage:
    return parse_message(load(name, **values))


# --- The From header, read strictly (CVE-2023-27043) ----------------------------------------


@pytest.mark.parametrize(
    ("value", "sender"),
    [
        ("Alice Customer <Alice@Customer.Example>", "alice@customer.example"),
        ("alice@customer.example", "alice@customer.example"),
        ("<alice@customer.example>", "alice@customer.example"),
        ("alice@customer.example (Alice Customer)", "alice@customer.example"),
        ('"alice@example.org" <bob@customer.example>', "bob@customer.example"),
        ('"Doe, Alice" <alice@customer.example>', "alice@customer.example"),
        ("=?utf-8?q?M=C3=BCller=2C_J=C3=B6rg?= <joerg@customer.example>", "joerg@customer.example"),
        ("Dr. J. Doe <j.doe@customer.example>", "j.doe@customer.example"),
    ],
)
def test_a_from_header_beyond_doubt_gives_the_sender(value, sender):
    # DOMAIN N-3: one address, lower-cased; a quoted display name may look like an address
    parsed = parse("plain_text_reply", FROM=value)

    assert (parsed.sender, parsed.sender_problem) == (sender, "")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("alice@example.org, bob@evil.example", "more than one address"),
        ("alice@example.org <bob@evil.example>", "outside quotes"),
        ("alice@example.org)<bob@evil.example>", "outside quotes"),
        ("alice@example.org@evil.example", "exactly one plain email address"),
        ('"a@b.example"@evil.example', "quoted part in its address"),
        ("bob@evil.example (alice@example.org)", "hides an address in a comment"),
        ("Alice <alice@example.org>, <bob@evil.example>", "more than one address"),
        ("Alice <alice@example.org> <bob@evil.example>", "more than one address"),
        ("Alice <alice@example.org>>", "text after the address"),
        ("Alice alice@example.org", "exactly one plain email address"),
        ('"Alice <alice@example.org>', "unclosed quote"),
        ("undisclosed-recipients:;", "more than one address"),
        ("Alice <alice@@example.org>", "exactly one plain email address"),
        ("Alice <alice@exa mple.org>", "exactly one plain email address"),
        ("Alice <alice@-example-.org>", "not a valid email address"),
        ("", "The From header is empty."),
    ],
)
def test_a_doubtful_from_header_gives_no_sender_and_says_why(value, problem):
    # DOMAIN N-3 (CVE-2023-27043): several or malformed From addresses are refused
    parsed = parse("plain_text_reply", FROM=value)

    assert parsed.sender is None
    assert problem in parsed.sender_problem
    assert parsed.reply_text  # the rest of the message is still read


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("from_several", "The message has several From headers."),
        ("from_missing", "The message has no From header."),
    ],
)
def test_several_or_no_from_headers_give_no_sender(name, problem):
    # DOMAIN N-3
    parsed = parse(name)

    assert (parsed.sender, parsed.sender_problem) == (None, problem)


def test_a_from_header_longer_than_a_line_is_refused_unread():
    # DOMAIN N-3: the stdlib's parser takes quadratic time in a long header's encoded words
    name = "=?utf-8?q?caf=C3=A9?= " * 46  # 1,012 characters of name
    parsed = parse("plain_text_reply", FROM=f"{name}<alice@customer.example>")

    assert parsed.sender is None
    assert parsed.sender_problem == "The From header is too long (1036 characters)."
    assert parse("plain_text_reply", FROM=f"{name[:900]}<alice@customer.example>").sender


# --- Automatic messages (RFC 3834) ---------------------------------------------------------


def test_an_out_of_office_reply_is_automatic():
    # DOMAIN N-3, N-4: never answered
    parsed = parse("out_of_office")

    assert parsed.is_automatic and "Auto-Submitted: auto-replied" in parsed.automatic_reason
    assert parsed.sender == "alice@customer.example"


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: [Case 00001234] Calls drop",
        "Out of Office: Calls drop",
        "AutoReply: Calls drop",
        "Abwesenheitsnotiz: Anrufe brechen ab",
        "Réponse automatique : Appels coupés",
    ],
)
def test_an_auto_reply_known_only_by_its_subject_is_automatic(subject):
    # DOMAIN N-3: some out-of-office tools set no header; their subject still tells
    parsed = parse_message(simple_email("I am away until Monday.\n", Subject=subject))

    assert "automatic reply" in parsed.automatic_reason


@pytest.mark.parametrize(
    "subject", ["Re: Automatic reply settings", "Re: out of office: when are you back?"]
)
def test_a_person_writing_about_auto_replies_is_no_auto_reply(subject):
    parsed = parse_message(simple_email("Thanks.\n", Subject=subject))

    assert not parsed.is_automatic


def test_a_mailing_list_message_is_automatic():
    parsed = parse("mailing_list")

    assert parsed.is_automatic and "list" in parsed.automatic_reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"Auto_Submitted": "auto-replied; owner-email=x@y.example"}, "auto-replied"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "List"}, "Precedence: list"),
        ({"X_Autoreply": "yes"}, "automatic reply"),
        ({"X_Autorespond": "Vacation"}, "automatic reply"),
        ({"List_Id": "<users.lists.example>"}, "mailing list"),
        ({"List_Unsubscribe": "<mailto:leave@lists.example>"}, "mailing list"),
        ({"Return_Path": "<>"}, "empty return path"),
        ({"From": "Mail Delivery System <MAILER-DAEMON@mx.example>"}, "mail system"),
        ({"From": "postmaster@customer.example"}, "mail system"),
        ({"From": "Shop <no-reply@shop.example>"}, "no-reply"),
        ({"From": "noreply@shop.example"}, "no-reply"),
        ({"From": "do-not-reply@shop.example"}, "no-reply"),
        ({"From": "noreply-alerts@shop.example"}, "no-reply"),
        ({"From": "listserv@lists.example"}, "mail system"),
        ({"From": "owner-users@lists.example"}, "mail system"),
        ({"From": "users-request@lists.example"}, "mail system"),
        ({"From": "Customer Care <CARE@support-portal.example>"}, "our own address"),
    ],
)
def test_automatic_messages_are_recognised(headers, reason):
    # DOMAIN N-4 (RFC 3834): never answer a machine, nor ourselves
    parsed = parse_message(simple_email(**headers))

    assert parsed.is_automatic and reason in parsed.automatic_reason


def test_our_inbound_address_is_our_own(settings):
    # DOMAIN N-4: a loop through the inbound address
    settings.INBOUND_ADDRESS = "replies@support-portal.example"

    assert (
        "our own"
        in parse_message(simple_email(From="replies@support-portal.example")).automatic_reason
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "no"},
        {"Precedence": "first-class"},
        {"From": "noreplyneeded.fan@customer.example"},
        {"From": "alice.postmaster@customer.example"},
        {"X_Auto_Response_Suppress": "All"},
    ],
)
def test_a_persons_message_is_not_automatic(headers):
    # DOMAIN N-3: these headers and addresses are a person's
    assert parse_message(simple_email(**headers)).automatic_reason == ""


# --- Bounces (RFC 3464) --------------------------------------------------------------------


def test_a_delivery_status_notification_names_the_bounced_email():
    # DOMAIN N-3: a bounce is recorded against the email we sent, never answered
    parsed = parse("bounce_dsn")

    assert parsed.bounce is not None
    assert parsed.bounce.original_message_ids == (CASE_MESSAGE_ID,)
    assert parsed.bounce.recipients == ("gone@customer.example",)
    assert (parsed.bounce.status, parsed.bounce.action) == ("5.1.1", "failed")
    assert parsed.bounce.diagnostic == (
        "550 5.1.1 <gone@customer.example>: Recipient address rejected: User unknown in "
        "virtual mailbox table"
    )
    assert parsed.is_automatic and "bounce" in parsed.automatic_reason
    assert parsed.sender == "mailer-daemon@mx.support-portal.example"


def test_a_bounce_with_only_the_returned_headers_and_an_envelope_id():
    # DOMAIN N-3: Exchange returns text/rfc822-headers and the envelope id
    parsed = parse(
        "bounce_headers_only",
        ORIGINAL_MESSAGE_ID="<case-00000007.abcdefghijklmnop.99@support-portal.example>",
        FAILED_RECIPIENT="Full@Customer.Example",
    )

    assert parsed.bounce is not None
    assert parsed.bounce.original_message_ids == (
        "<case-00000007.abcdefghijklmnop.99@support-portal.example>",
    )
    assert parsed.bounce.recipients == ("full@customer.example",)
    assert parsed.bounce.status == "5.2.2"
    assert parsed.bounce.diagnostic.startswith("554 5.2.2 mailbox full;")
    assert "\n" not in parsed.bounce.diagnostic


def test_an_envelope_id_and_x_original_message_id_are_original_ids():
    raw = (
        load("bounce_dsn")
        .replace(
            b"Reporting-MTA: dns; mx.support-portal.example\n",
            b"Reporting-MTA: dns; mx.support-portal.example\n"
            b"Original-Envelope-Id: +3Cenv@x.example+3E\n",
        )
        .replace(b"Auto-Submitted:", b"X-Original-Message-ID: <xo@x.example>\nAuto-Submitted:")
    )

    parsed = parse_message(raw)

    assert parsed.bounce is not None
    assert set(parsed.bounce.original_message_ids) == {
        "<xo@x.example>",
        "<env@x.example>",
        CASE_MESSAGE_ID,
    }


def test_a_global_delivery_status_notification_is_read_too():
    # RFC 6533: the report of a message with UTF-8 headers
    raw = (
        load("bounce_dsn")
        .replace(b"report-type=delivery-status", b"report-type=global-delivery-status")
        .replace(b"Type: message/delivery-status", b"Type: message/global-delivery-status")
        .replace(b"Content-Type: message/rfc822", b"Content-Type: message/global")
    )

    bounce = parse_message(raw).bounce

    assert bounce is not None
    assert (bounce.original_message_ids, bounce.recipients, bounce.status, bounce.action) == (
        (CASE_MESSAGE_ID,),
        ("gone@customer.example",),
        "5.1.1",
        "failed",
    )


@pytest.mark.parametrize(
    ("action", "status", "expected"),
    [
        (b"delayed", b"4.4.7", ("delayed", ("gone@customer.example",), "4.4.7")),
        (b"delivered", b"2.0.0", ("", (), "")),
        (b"relayed", b"2.0.0", ("", (), "")),
    ],
)
def test_a_report_of_delays_or_success_is_no_failure(action, status, expected):
    # DOMAIN N-3: only a failed delivery means the customer did not get the email
    raw = (
        load("bounce_dsn")
        .replace(b"Action: failed", b"Action: " + action)
        .replace(b"Status: 5.1.1", b"Status: " + status)
    )

    parsed = parse_message(raw)

    assert parsed.bounce is not None and parsed.is_automatic
    assert (parsed.bounce.action, parsed.bounce.recipients, parsed.bounce.status) == expected


def test_a_report_that_is_not_a_delivery_status_is_no_bounce():
    raw = load("bounce_dsn").replace(b"report-type=delivery-status", b"report-type=disposition")

    assert parse_message(raw).bounce is None
