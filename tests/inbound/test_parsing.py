"""Reading received emails (inbound.parsing), part one: the fixture corpus of real-looking
replies (the sender's words, charsets, attachments) and messages that must not crash it.
Part two (senders, automatic messages, bounces) is test_parsing_senders.py, part three (the
reply stripper and the HTML converter on text alone) test_parsing_text.py."""

from __future__ import annotations

import random
import time
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inbound.body_text import decode_bytes
from inbound.parsing import HEADER_MAX_CHARS, MAX_PARTS, POLICY, ParsedMessage, parse_message
from tests.inbound.messages import (
    CASE_MESSAGE_ID,
    CASE_THREAD_ID,
    TEN_MB,
    crlf,
    load,
    names,
    simple_email,
    ten_megabyte_message,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUBJECT = "[Case 00001234] VPN drops every hour [ref:abcdefghijklmnop]"


def parse(name: str, **values: str) -> ParsedMessage:
    return parse_message(load(name, **values))


# --- Replies from common clients: the sender's words only (N-3) -----------------------------


REPLIES = {
    "outlook_reply": (
        "Hi Dana,\n\n"
        "Thanks for the quick answer. The VPN still drops every hour, also after the client "
        "update to 5.2.1.\nThe log says:\n\n"
        "    12:00:01 tunnel down (peer timeout)\n"
        "    12:00:04 tunnel up\n\n"
        "Can you have a look?"
    ),
    "outlook_original_message": (
        "The export works again since this morning, you can close the case."
    ),
    "gmail_reply": (
        "Hello,\n\nI tried the new driver — same result. The printer queue stays paused.\n"
        "Screenshots follow in a second email.\n\nBob"
    ),
    "apple_mail_reply": "Yes, restarting the router fixed it. You can close the case 👍",
    "apple_mail_desktop_reply": (
        "The certificate is renewed now, the warning is gone on all three servers.\n\nCarol"
    ),
    "apple_mail_inline_attachment": (
        "Here is the screenshot of the sync error:\n\n"
        "It also happens on the second laptop.\n\nCarol"
    ),
    "plain_text_reply": "6.1.0-28-amd64 on all of them.\n\nYes, about ten minutes after boot.",
    "html_only": (
        "Hello team,\n\n"
        'the backup job fails with "disk full" & stops.\nWe checked these volumes:\n\n'
        "- /var <92%>\n- /srv\n\n"
        "Details: status page (https://status.customer.example/backup/42)\n\nFrank"
    ),
    "base64_body": (
        "Guten Tag,\n\n"
        "die Größe der Datei übersteigt das Limit von 2 GB. Können Sie das Limit erhöhen?"
    ),
    "quoted_printable": (
        "Bonjour,\n\nle problème est résolu depuis la mise à jour de ce matin ; merci pour "
        "votre aide, l'équipe est très contente du résultat."
    ),
}


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_reply_keeps_only_what_its_sender_wrote(name):
    # DOMAIN N-3: quoted reply and signature removed, whatever the client
    parsed = parse(name)

    assert parsed.reply_text == REPLIES[name]
    assert parsed.sender == "alice@customer.example" and parsed.sender_problem == ""
    assert parsed.automatic_reason == "" and parsed.bounce is None
    assert parsed.subject.endswith(SUBJECT) and "\n" not in parsed.subject
    assert parsed.message_id == f"<fixture.{name}@mail.customer.example>"
    assert parsed.in_reply_to == (CASE_MESSAGE_ID,)
    assert parsed.references == (CASE_THREAD_ID, CASE_MESSAGE_ID)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("outlook_reply", "Please update the VPN client to 5.2.1"),
        ("gmail_reply", "> Please install printer driver 3.4"),
        ("plain_text_reply", "> Which kernel version runs on the affected hosts?"),
        ("base64_body", "Mit freundlichen Grüßen\nJörg Müller"),
    ],
)
def test_the_whole_text_is_kept_for_the_record(name, quoted):
    # DOMAIN N-3: the stored message keeps everything
    parsed = parse(name)

    assert quoted in parsed.text and quoted not in parsed.reply_text
    assert parsed.reply_text.split("\n")[0] in parsed.text


def test_outlook_html_and_text_parts_give_the_text_part_and_the_logo_as_attachment():
    # DOMAIN N-3: text/plain preferred; an inline image with a filename is an attachment
    parsed = parse("outlook_reply")

    assert "<p" not in parsed.text and "MsoNormal" not in parsed.text
    [logo] = parsed.attachments
    assert (logo.name, logo.content_type) == ("image001.png", "image/png")
    assert logo.data.startswith(PNG_MAGIC)


def test_html_only_mail_becomes_text_without_markup_or_scripts():
    # DOMAIN N-3
    parsed = parse("html_only")

    for markup in ("<p", "<b>", "<li", "<a ", "&nbsp;", "&amp;", "alert(", "font-family"):
        assert markup not in parsed.text
    assert "> Which volume is full?" in parsed.text  # the quoted block, marked as quoted


def test_a_forwarded_message_keeps_what_was_forwarded():
    # DOMAIN N-3: the sender forwards to show the forwarded content
    parsed = parse("forwarded")

    assert parsed.reply_text.startswith("Here is the error our accountant got, see below.\n\n")
    assert "---------- Forwarded message ---------" in parsed.reply_text
    assert "From: Grace Accountant <grace@customer.example>" in parsed.reply_text
    assert 'stops with "Error 0x80070005: access denied".' in parsed.reply_text
    assert parsed.reply_text.endswith("> Did it work last month?\nYes, it did.\n\nGrace")


def test_an_outlook_forward_is_recognised_by_its_subject():
    # DOMAIN N-3: Outlook writes no forward marker, only "FW:" and a header block
    body = (
        "See the customer's message below.\n\n"
        "________________________________\n"
        "From: Bob <bob@customer.example>\n"
        "Sent: Monday, December 7, 2026 9:00 AM\n"
        "To: Alice <alice@customer.example>\n"
        "Subject: Login fails\n\n"
        "I cannot log in since the update.\n"
    )
    forwarded = parse_message(simple_email(body, Subject="FW: Login fails"))
    replied = parse_message(simple_email(body, Subject="RE: Login fails"))

    assert "I cannot log in since the update." in forwarded.reply_text
    assert forwarded.reply_text.startswith("See the customer's message below.")
    assert replied.reply_text == "See the customer's message below."


def test_crlf_line_ends_read_the_same():
    # DOMAIN N-3: SMTP and IMAP deliver CRLF
    for name in ("outlook_reply", "gmail_reply", "plain_text_reply", "attachments"):
        lf, crlf_parsed = parse(name), parse_message(crlf(load(name)))
        assert crlf_parsed.reply_text == lf.reply_text
        assert crlf_parsed.attachments == lf.attachments


# --- Charsets and transfer encodings --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "charset_iso_8859_1",
            "Bonjour, le café du 3ème étage a un problème réseau. Ça dure depuis lundi.\n\nRené",
        ),
        (
            "charset_windows_1252",
            "The “backup” job – the one at 2 a.m. – costs €40 a month… still failing.\n\nTom",
        ),
        ("charset_shift_jis", "お世話になっております。\nプリンターが動きません。\n\n山田"),
        ("charset_koi8_r", "Здравствуйте!\nСервер не отвечает с утра.\n\nИван"),
        ("charset_unknown_label", "Café menu: crème brûlée is broken."),
    ],
)
def test_non_utf8_charsets_decode(name, text):
    # DOMAIN N-3
    parsed = parse(name)

    assert parsed.text == text and parsed.reply_text == text


def test_a_wrong_charset_label_decodes_with_replacement_characters():
    # DOMAIN N-3: labelled UTF-8, written in Latin-1: readable, never a crash
    parsed = parse("charset_wrong_label")

    assert (
        parsed.reply_text
        == "The invoice for M\ufffdller GmbH shows 100 \ufffd instead of 100 \ufffd."
    )


@pytest.mark.parametrize(
    ("label", "data", "text"),
    [
        ("us-ascii", "Größe: 2 GB".encode(), "Größe: 2 GB"),  # 8-bit UTF-8 labelled ASCII
        ("iso-8859-1", "Größe".encode(), "Größe"),  # UTF-8 labelled Latin-1
        ("iso-8859-1", "“Größe”".encode("cp1252"), "“Größe”"),
        ("utf-8", b"caf\xe9", "caf\ufffd"),
        ("x-unknown", "Größe".encode("cp1252"), "Größe"),
        (None, "Größe".encode(), "Größe"),
    ],
)
def test_mislabelled_text_reads_as_what_clients_really_send(label, data, text):
    assert decode_bytes(data, label) == text


def test_a_non_ascii_subject_is_decoded_on_one_line():
    # DOMAIN N-3
    parsed = parse("gmail_reply", SUBJECT="[Case 00000042] Größe — 容量 [ref:abcdefghijklmnop]")

    assert parsed.subject == "Re: [Case 00000042] Größe — 容量 [ref:abcdefghijklmnop]"
    folded = parse_message(b"From: a@b.example\nSubject: Re: a very\n long\n\tsubject\n\nx\n")
    assert folded.subject == "Re: a very long subject"


def test_eight_bit_headers_are_read_as_utf8_or_windows_1252():
    # DOMAIN N-3: RFC 6532 allows UTF-8 in headers; old clients send Latin-1
    utf8 = parse_message("From: Jörg Müller <j@customer.example>\nSubject: Größe €\n\nx\n".encode())
    latin = parse_message(
        "From: Jörg <j@customer.example>\nSubject: Größe\n\nx\n".encode("latin-1")
    )

    assert (utf8.sender, utf8.subject) == ("j@customer.example", "Größe €")
    assert (latin.sender, latin.subject) == ("j@customer.example", "Größe")


def test_message_ids_are_normalised_to_angle_brackets():
    parsed = parse_message(
        b"From: a@b.example\nMessage-ID:  bare-id@client.example \n"
        b"In-Reply-To: <a@x.example> (comment) <b@x.example>\n"
        b"References: <a@x.example>\n <c@x.example> <a@x.example>\n\nx\n"
    )

    assert parsed.message_id == "<bare-id@client.example>"
    assert parsed.in_reply_to == ("<a@x.example>", "<b@x.example>")
    assert parsed.references == ("<a@x.example>", "<c@x.example>")
    assert parse_message(simple_email()).message_id == ""


# --- Attachments ---------------------------------------------------------------------------


def test_attachments_come_with_their_names_types_and_bytes():
    # DOMAIN N-3: a PDF, a PNG with an RFC 2231 name, an attached email as .eml
    parsed = parse("attachments")

    assert [(a.name, a.content_type) for a in parsed.attachments] == [
        ("vpn-log.pdf", "application/pdf"),
        ("Fehlermeldung über VPN.png", "image/png"),
        ("Original alert.eml", "message/rfc822"),
    ]
    pdf, png, attached = parsed.attachments
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.rstrip().endswith(b"%%EOF")
    assert png.data.startswith(PNG_MAGIC) and png.data.endswith(b"IEND\xaeB`\x82")
    assert b"Subject: ALERT vpn-gw-01 down" in attached.data
    assert b"vpn-gw-01 is DOWN since 08:00." in attached.data
    assert parsed.reply_text == "Attached are the VPN log and a screenshot of the error.\n\nHenry"


def test_inline_files_and_unnamed_attachments():
    # DOMAIN N-3: Apple Mail sends files inline with a name; an unnamed attachment gets one;
    # an inline image without a name (a logo referenced from HTML) is not an attachment
    message = EmailMessage()
    message["From"] = "alice@customer.example"
    message["Subject"] = "Re: " + SUBJECT
    message.set_content("See the file.\n")
    message.add_attachment(b"%PDF-1.7 x", maintype="application", subtype="pdf",
                           filename="report.pdf", disposition="inline")  # fmt: skip
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", disposition="attachment")
    message.add_attachment(PNG_MAGIC + b"logo", maintype="image", subtype="png",
                           disposition="inline", cid="<logo@x>")  # fmt: skip

    parsed = parse_message(message.as_bytes())

    assert [(a.name, a.content_type, a.data) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf", b"%PDF-1.7 x"),
        ("attachment-3.csv", "text/csv", b"a,b\n1,2\n"),
    ]
    assert parsed.reply_text == "See the file."


def test_apple_mail_text_around_an_inline_file_is_one_body_and_the_file_an_attachment():
    # DOMAIN N-3: Apple Mail writes text, the file, then the rest of the text
    parsed = parse("apple_mail_inline_attachment")

    [screenshot] = parsed.attachments
    assert screenshot.name == "Screenshot 2026-12-07 at 11.02.33.png"
    assert screenshot.data.startswith(PNG_MAGIC)
    assert "> Could you send a screenshot?" in parsed.text


def test_a_signed_message_has_its_text_and_no_signature_file():
    # DOMAIN N-3: an S/MIME signature is not a file the sender attached
    signed = EmailMessage()
    signed.set_content("Signed reply.\n")
    signed.add_attachment(b"0\x82\x05", maintype="application", subtype="pkcs7-signature",
                          filename="smime.p7s")  # fmt: skip
    signed.replace_header("Content-Type", signed["Content-Type"].replace("mixed", "signed"))
    signed["From"] = "alice@customer.example"

    parsed = parse_message(signed.as_bytes())

    assert (parsed.reply_text, parsed.attachments) == ("Signed reply.", ())


def test_a_ten_megabyte_attachment_parses_quickly():
    # DOMAIN N-3, C-10: a 10 MB file is an ordinary attachment
    raw = ten_megabyte_message()

    started = time.perf_counter()
    parsed = parse_message(raw)
    elapsed = time.perf_counter() - started

    [attachment] = parsed.attachments
    assert (attachment.name, len(attachment.data)) == ("capture-10mb.pdf", TEN_MB)
    assert attachment.data.startswith(b"%PDF-1.4")
    assert parsed.reply_text == "The packet capture is attached.\n\nIvan"
    assert elapsed < 5, f"parsing a 10 MB message took {elapsed:.1f}s"  # about 0.4s


# --- Never raises --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage without headers",
        b"From: alice@customer.example\nContent-Type: multipart/mixed\n\nno boundary at all\n",
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: te",
        b"From: a@b.example\nContent-Transfer-Encoding: base64\n\n!!!not*base64===\n",
        b"From: a@b.example\nContent-Transfer-Encoding: x-uuencode-ish\n\nbody\n",
        b"From: a@b.example\nSubject: =?x-unknown?q?abc?= =?utf-8?b?####?=\n\nbody\n",
        b"From: a@b.example\nMessage-ID: <<<>>>\nIn-Reply-To: <\nReferences: >\n\nbody\x00\n",
        b"From: =?utf-8?q?=00?= <a@b.example>\nContent-Type: text/html\n\n<p><b><i>unclosed",
        b"From: a@b.example\nContent-Type: message/rfc822\n\nnot a message",
        b"From: \xe4\xf6\xfc <a@b.example>\nSubject: \xe4\n\n\xe4\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: message/delivery-status\n\nAction: failed\n--b--\n",
    ],
)
def test_broken_messages_are_read_as_far_as_possible_without_raising(raw):
    # DOMAIN N-3: nothing received is lost; the caller stores and refuses it
    parsed = parse_message(raw)

    assert isinstance(parsed, ParsedMessage)
    assert "\x00" not in parsed.text + parsed.reply_text + parsed.subject


def nested(depth: int) -> bytes:
    raw = b"From: alice@customer.example\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for level in range(depth):
        raw += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (level, level + 1)
    raw += b"--b%d\nContent-Type: text/plain\n\ndeep text\n" % depth
    return raw + b"".join(b"--b%d--\n" % level for level in range(depth, -1, -1))


def test_deeply_nested_parts_are_read_down_to_a_depth_and_never_exhaust_the_stack():
    # Real mail nests a few levels; a hostile message is still stored and judged
    assert parse_message(nested(10)).reply_text == "deep text"
    hostile = parse_message(nested(600))
    assert (hostile.sender, hostile.text) == ("alice@customer.example", "")
    too_deep = parse_message(nested(3000))  # deeper than the stdlib parser itself can go
    assert (too_deep.sender, too_deep.sender_problem) == (None, "The message could not be read.")


def test_header_values_are_parsed_from_their_first_characters_only():
    # The stdlib's header parser takes quadratic time in a value's encoded words: a hostile
    # Subject or file name of half a megabyte took minutes; real headers are far shorter
    words = "=?utf-8?q?caf=C3=A9?= " * 2000
    raw = (
        f"From: alice@customer.example\nSubject: {words}\nMIME-Version: 1.0\n"
        f'Content-Type: text/plain; name="{words}"\n\nThe logs.\n'
    ).encode()

    parsed = parse_message(raw)

    assert parsed.subject.startswith("cafécafé") and len(parsed.subject) < HEADER_MAX_CHARS
    [attachment] = parsed.attachments  # named by its type's "name"
    assert attachment.name.startswith("cafécafé") and len(attachment.name) < HEADER_MAX_CHARS
    assert (parsed.sender, attachment.data) == ("alice@customer.example", b"The logs.\n")


def many_parts(count: int) -> bytes:
    head = b"From: alice@customer.example\nMessage-ID: <many@customer.example>\n"
    head += b"Content-Type: multipart/mixed; boundary=b\n\n"
    return head + b"--b\n\nx\n" * count + b"--b--\n"


def test_a_message_of_thousands_of_parts_is_not_read_but_keeps_its_message_id():
    # Each part costs time and memory (quadratically, for body parts): a hostile message of
    # millions of tiny parts fits within INBOUND_MAX_BYTES. It is stored and refused unread.
    assert MAX_PARTS >= 500
    assert parse_message(many_parts(MAX_PARTS - 1)).sender == "alice@customer.example"
    hostile = parse_message(many_parts(MAX_PARTS * 5))

    assert (hostile.sender, hostile.sender_problem) == (None, "The message could not be read.")
    assert (hostile.message_id, hostile.text, hostile.attachments) == (
        "<many@customer.example>",
        "",
        (),
    )


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(names()), seed=st.integers(0, 2**32), flips=st.integers(1, 40))
def test_damaged_fixtures_never_raise(name, seed, flips):
    # DOMAIN N-3: random damage to real messages is survived
    raw = bytearray(load(name))
    rng = random.Random(seed)
    for _ in range(flips):
        raw[rng.randrange(len(raw))] = rng.randrange(256)

    assert isinstance(parse_message(bytes(raw)), ParsedMessage)


@hypothesis_settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw):
    assert isinstance(parse_message(b"From: a@b.example\n" + raw), ParsedMessage)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", 'multipart/mixed; boundary="b1"'),
        ("From", '"Doe, Alice" <alice@customer.example>'),
        ("Subject", "=?utf-8?q?Gr=C3=B6=C3=9Fe?= [Case 00001234]"),
    ],
)
def test_the_parsing_policy_reads_headers_as_policy_default_does(name, value):
    # The kept header objects are the ones policy.default builds, built once
    mine, theirs = (
        POLICY.header_fetch_parse(name, value),
        policy.default.header_fetch_parse(name, value),
    )

    assert (str(mine), type(mine).__name__, mine.defects) == (
        str(theirs),
        type(theirs).__name__,
        theirs.defects,
    )
    assert POLICY.header_fetch_parse(name, value) is mine
