"""Mail from a hostile sender: an ambiguous or spoofed From must not pass for a sender the person
named in a rule (label, allowed domain). Driven through the real Gmail reader and the twin
against the local sandbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from skytwin_desktop.connectors.gmail import sender
from skytwin_desktop.domain import Connector
from skytwin_desktop.intents import Intents
from skytwin_desktop.store.models import Approval
from skytwin_desktop.store.policy import set_tier


@pytest.mark.parametrize(("header", "expected"), [
    ("news@partner.example", ("", "news@partner.example")),
    ("Partner News <News@Partner.example>", ("Partner News", "news@partner.example")),
    ('"Smith, Ann" <ann@partner.example>', ("Smith, Ann", "ann@partner.example")),
    ("news@partner.example, attacker@evil.example", ("news@partner.example, attacker@evil.example", "")),
    ("Partner <news@partner.example>, <attacker@evil.example>",
     ("Partner <news@partner.example>, <attacker@evil.example>", "")),
    ('"news@partner.example" <attacker@evil.example>', ("news@partner.example", "attacker@evil.example")),
    ("", ("", "")),
    ("undisclosed-recipients:;", ("", "")),
    ("<" * 3000 + "news@partner.example>, attacker@evil.example", ("<" * 200, "")),  # too tangled to parse
])
def test_a_from_header_naming_more_than_one_address_gives_no_sender(header, expected):
    assert sender(header) == expected


def _labelled(google, message_id: str) -> bool:
    return "Label_1" in google.message(message_id)["labelIds"]


@pytest.fixture
def labelling(google, app):
    """The person labels mail from partner.example, at a tier where that runs by itself."""
    with app.session() as session:
        set_tier(session, app.user_id, "low_autonomy", reason="test", by_person=True, now=app.clock())
    Intents(app).save_setting("sender_labels", ["partner.example = Receipts"])
    return app


def cycle(app) -> None:
    app.connectors.poll(Connector.GMAIL)
    app.twin.process_inbox()


def test_an_ambiguous_or_spoofed_sender_matches_no_label_rule(google, labelling):
    genuine = google.deliver({"from": "Partner <news@partner.example>", "subject": "Invoice", "body": "x"})
    two = google.deliver({"from": "news@partner.example, attacker@evil.example", "subject": "Invoice", "body": "x"})
    spoof = google.deliver({"from": '"news@partner.example" <attacker@evil.example>', "subject": "Invoice",
                            "body": "x"})
    doubled = google.deliver({"from": "news@partner.example", "subject": "Invoice", "body": "x",
                              "headers": [("From", "attacker@evil.example")]})
    cycle(labelling)
    assert _labelled(google, genuine), "the rule works for the sender it names"
    assert not _labelled(google, two) and not _labelled(google, spoof) and not _labelled(google, doubled)


def test_an_ambiguous_sender_is_shown_as_unclear(google, app):
    google.deliver({"from": "news@partner.example, attacker@evil.example", "subject": "Weekly", "body": "x",
                    "headers": {"List-Unsubscribe": "<mailto:leave@partner.example>"}})
    cycle(app)  # the default tier asks first: the archive waits in Approvals
    with app.session() as session:
        (approval,) = session.scalars(select(Approval)).all()
    assert approval.target == '"Weekly" from an unclear sender (news@partner.example, attacker@evil.example)'
