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
