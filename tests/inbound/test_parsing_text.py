"""Reading received emails (inbound.parsing), part three: the reply stripper's own steps
(inbound.reply_text) and the HTML converter (inbound.body_text), on text alone."""

from __future__ import annotations

import time

import pytest

from inbound.body_text import html_to_text
from inbound.reply_text import reply_text

# --- The reply stripper's own steps --------------------------------------------------------


def test_a_thanks_that_starts_a_sentence_is_not_a_signature():
    # DOMAIN N-3: the library would cut at "Thanks," and lose the question
    text = "Hi,\nThanks, that fixed the login.\nBut now the export fails:\n\n  Error 42\n\nBob"

    assert reply_text(text) == text


@pytest.mark.parametrize(
    "signature",
    [
        "Best regards,\nAlice Customer\nIT Manager",
        "Thanks,\nAlice",
        "Thanks, Alice",
        "-- \nAlice Customer\nCustomer Example Ltd\n+44 20 7946 0000",
        "Sent from my iPhone",
        "Get Outlook for Android",
        "Mit freundlichen Grüßen\nJörg Müller",
    ],
)
def test_signatures_are_removed(signature):
    # DOMAIN N-3
    assert reply_text("The fix works.\n\n" + signature + "\n") == "The fix works."


def test_lists_and_indentation_survive():
    text = "Steps:\n- open the app\n- click Export\n\n    stack trace line 1\n    line 2"

    assert reply_text(text) == text


def test_a_reply_below_the_quote_is_kept():
    text = (
        "On Mon, 7 Dec 2026 at 10:02, Customer Care <care@support-portal.example> wrote:\n"
        "> Does it work now?\n\nYes, it works now.\n"
    )

    assert reply_text(text) == "Yes, it works now."


def test_html_line_breaks_quotes_and_preformatted_text():
    html = (
        "<div>One<br>Two</div><p>Three &lt;x&gt;</p><pre>  a\n  b</pre>"
        "<blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote>"
        "<table><tr><td>A</td><td>B</td></tr></table><img src='cid:x' alt='chart'>"
    )

    assert html_to_text(html) == (
        "One\nTwo\n\nThree <x>\n\n  a\n  b\n\n> quoted\n>\n> > deeper\n>\n\nA B\n\n[chart]"
    )


def test_a_greater_than_sign_inside_an_attribute_stays_inside_it():
    html = '<p>See <a href="https://x.example/" title="Step 1 > Step 2">the guide</a>.</p>'

    assert html_to_text(html) == "See the guide (https://x.example/)."


@pytest.mark.parametrize(
    "html",
    ["<p" * 100_000, '<a b=">"' * 50_000, "<<" * 100_000, '<a x=a"b" y="c>' * 30_000],
)
def test_html_conversion_takes_bounded_time_on_hostile_markup(html):
    # The stdlib parser is quadratic on these (CVE-2025-6069); the taming passes keep it linear
    started = time.perf_counter()
    html_to_text(html)

    assert time.perf_counter() - started < 3


@pytest.mark.parametrize(
    "text",
    [
        ("On " + "a " * 3000 + "\n") * 300,
        "Thanks,\n" * 20000,
        ("From: " + "x " * 300 + "\nSent: " + "y " * 300 + "\n") * 300,
        "a" * 2_000_000,
    ],
)
def test_the_reply_stripper_takes_bounded_time_on_hostile_text(text):
    # The library's patterns are quadratic on such input; the window keeps them fast
    started = time.perf_counter()
    reply_text(text)

    assert time.perf_counter() - started < 3


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (
            "Danke, klappt jetzt.\n\nViele Grüße\nJörg\n\n"
            "Von: Customer Care <care@support-portal.example>\n"
            "Gesendet: Montag, 7. Dezember 2026 10:02\nAn: Jörg <j@x.example>\n"
            "Betreff: [Case 00001234] X\n\nText",
            "Danke, klappt jetzt.",
        ),
        (
            "C'est réglé.\n\nLe lun. 7 déc. 2026 à 10:02, Customer Care "
            "<care@support-portal.example> a écrit :\n\n> Texte\n",
            "C'est réglé.",
        ),
        (
            "Listo.\n\nEl lun, 7 dic 2026 a las 10:02, Customer Care "
            "(<care@support-portal.example>) escribió:\n> viejo\n",
            "Listo.",
        ),
        (
            "Opgelost.\n\nOp ma 7 dec. 2026 om 10:02 schreef Customer Care "
            "<care@support-portal.example>:\n> oud\n",
            "Opgelost.",
        ),
        (
            "Works now.\n\n\n    On Monday, December 7, 2026, 10:02:00 AM GMT, Customer Care "
            "<care@support-portal.example> wrote:\n\n\nDana Doe added an update\n",
            "Works now.",
        ),
        (
            "Ok\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\n"
            "From: Customer Care <care@support-portal.example>\n"
            "Sent: Monday, December 7, 2026 10:02:00 AM\nTo: a@b.example\nSubject: X\n\nold",
            "Ok",
        ),
        ("Fixed.\n\nOn 07/12/2026 10:02, Customer Care wrote:\n> old\n", "Fixed."),
    ],
    ids=["outlook-de", "gmail-fr", "gmail-es", "gmail-nl", "yahoo", "outlook-ios", "thunderbird"],
)
def test_reply_headers_of_more_clients_and_languages(text, reply):
    # DOMAIN N-3
    assert reply_text(text) == reply


def test_a_forward_marker_in_the_quoted_history_is_no_forward():
    # DOMAIN N-3: only a forward the sender made keeps its content
    text = (
        "Thanks, works.\n\n"
        "On Mon, 7 Dec 2026 at 10:02, Care <care@support-portal.example> wrote:\n"
        "> see below\n>\n> ---------- Forwarded message ---------\n> From: Bob\n"
    )
    outlook = (
        "Thanks, works.\n\n________________________________\n"
        "From: Care <care@support-portal.example>\nSent: Monday\nTo: a\nSubject: x\n\n"
        "see below\n\n---------- Forwarded message ---------\nFrom: Bob <b@x.example>\n\nold\n"
    )

    assert reply_text(text) == reply_text(outlook) == "Thanks, works."
