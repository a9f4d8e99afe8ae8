"""A forged From is refused when our mail server authenticates senders (N-3, T-6)."""

from __future__ import annotations

import pytest

from inbound.authentication import sender_authenticated
from inbound.models import InboundMessage
from tests.cases import make_case, reload
from tests.inbound.test_services import answers, email_reply, media, receive, updates

__all__ = ["media"]  # the module's attachments go to the test's own folder

Outcome = InboundMessage.Outcome
OURS = "mx.support-portal.example"
SENDER = "dc@org-a.example"


@pytest.mark.parametrize(
    ("header", "vouched"),
    [
        (f"{OURS}; dmarc=pass (p=reject) header.from=org-a.example", True),
        (f"{OURS}; dkim=pass header.d=org-a.example header.s=s1; spf=fail", True),
        (f"{OURS}; dkim=pass header.i=@mail.org-a.example", False),  # a subdomain signs
        (f"{OURS}; dkim=pass header.d=example", True),  # a parent domain signs
        (f"{OURS}; spf=pass smtp.mailfrom=bounces@org-a.example", True),
        (f"{OURS}; spf=pass smtp.mailfrom=someone@elsewhere.example", False),
        (f"{OURS}; dkim=pass header.d=evil.example; dmarc=fail header.from=org-a.example", False),
        (f"{OURS}; dmarc=none header.from=org-a.example; spf=softfail", False),
        ("MX.Support-Portal.Example; dmarc=pass header.from=ORG-A.example", True),
        # The sender wrote this header itself: another server's name counts for nothing.
        ("mx.evil.example; dmarc=pass header.from=org-a.example", False),
        (f"{OURS}.evil.example; dmarc=pass header.from=org-a.example", False),
        (f"{OURS}; none", False),
        ("", False),
        (f"{OURS}; dmarc=pass header.from=org-a.example" + " x" * 5000, True),
    ],
)
def test_only_our_servers_passing_verdict_for_the_senders_domain_counts(header, vouched):
    # DOMAIN N-3
    assert sender_authenticated([header], sender=SENDER, authserv_id=OURS) is vouched


def test_one_passing_verdict_among_several_headers_counts():
    headers = [
        "mx.evil.example; dmarc=fail",
        f"{OURS}; spf=pass smtp.mailfrom=dc@org-a.example",
    ]
    assert sender_authenticated(headers, sender=SENDER, authserv_id=OURS)


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


def test_an_authenticated_reply_is_posted(case, settings):
    # DOMAIN N-3
    settings.INBOUND_AUTHSERV_ID = OURS
    header = f"{OURS}; dkim=pass header.d=org-a.example; dmarc=pass header.from=org-a.example"

    message = receive(email_reply(case, headers={"Authentication-Results": header}))

    assert message.outcome == Outcome.POSTED
    assert len(updates(case)) == 1


@pytest.mark.parametrize(
    "header",
    [
        None,
        f"{OURS}; dmarc=fail header.from=org-a.example",
        "mx.evil.example; dmarc=pass header.from=org-a.example",
    ],
)
def test_a_forged_sender_posts_nothing_and_is_never_answered(case, settings, header):
    # DOMAIN N-3, T-6: no post as the contact, and no answer to whoever was forged
    settings.INBOUND_AUTHSERV_ID = OURS
    headers = {"Authentication-Results": header} if header else {}
    before = reload(case).sub_status

    message = receive(email_reply(case, headers=headers))

    assert message.outcome == Outcome.REFUSED
    assert "did not authenticate" in message.reason
    assert updates(case) == [] and reload(case).sub_status == before
    assert answers() == []


def test_a_forged_stranger_without_a_reference_gets_no_answer(db, settings):
    # DOMAIN N-4: no backscatter to an address a spammer forged
    settings.INBOUND_AUTHSERV_ID = OURS

    message = receive(email_reply(None, sender="victim@elsewhere.example"))

    assert message.outcome == Outcome.REFUSED and answers() == []


def test_without_the_setting_no_check_is_made(case, settings):
    # DOMAIN N-3: a mail server that does not authenticate: the token and membership decide
    settings.INBOUND_AUTHSERV_ID = ""

    message = receive(email_reply(case))

    assert message.outcome == Outcome.POSTED
