"""The local stack's helpers for destinations: finding a verification link in the outbox, recognising a request
for a bounce or complaint, and the event SES would publish for one."""

from __future__ import annotations

import quopri
from pathlib import Path

import pytest

from local.feedback import FEEDBACK_DOMAIN, feedback_event, requested
from local.verify import newest_link, newest_secret


def mail(outbox: Path, name: str, link: str) -> None:
    outbox.mkdir(exist_ok=True)
    body = quopri.encodestring(f"Open this link to confirm it:\n\n{link}\n".encode())  # as the mail carries it
    (outbox / name).write_bytes(b"Subject: Confirm\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body)


def test_the_newest_link_mailed_to_an_address_is_found_whatever_its_case(tmp_path: Path) -> None:
    secret_old, secret_new = "a" * 43, "B-_" + "c" * 40
    mail(tmp_path, "20260101T000000.000000Z-1-Me@Real.example.eml", f"http://127.0.0.1:3000/verify#{secret_old}")
    mail(tmp_path, "20260102T000000.000000Z-2-Me@Real.example.eml", f"http://127.0.0.1:3000/verify#{secret_new}")
    mail(tmp_path, "20260103T000000.000000Z-3-other@real.example.eml", "http://127.0.0.1:3000/verify#" + "d" * 43)
    (tmp_path / "20260104T000000.000000Z-4-me@real.example.eml").write_bytes(b"Subject: a forwarded copy\r\n\r\nhi")

    assert newest_link(tmp_path, "me@real.example") == f"http://127.0.0.1:3000/verify#{secret_new}"
    assert newest_secret(tmp_path, "ME@real.example") == secret_new
    assert newest_secret(tmp_path, "nobody@real.example") is None
    assert newest_secret(tmp_path / "missing", "me@real.example") is None


@pytest.mark.parametrize(
    ("recipients", "kind"),
    [
        ([f"bounce@{FEEDBACK_DOMAIN}"], "bounce"),
        ([f"Complaint@{FEEDBACK_DOMAIN.upper()}"], "complaint"),
        ([f"other@{FEEDBACK_DOMAIN}"], None),
        (["bounce@alice.example"], None),
        ([f"bounce@{FEEDBACK_DOMAIN}", "shop@alice.example"], None),
    ],
)
def test_only_a_message_to_the_feedback_domain_alone_asks_for_feedback(recipients: list[str], kind: str | None) -> None:
    assert requested(recipients) == kind


def test_the_event_is_what_ses_publishes_to_eventbridge_for_a_configuration_set() -> None:
    event = feedback_event(
        "bounce",
        recipient="me@real.example",
        message_id="m-1",
        source="shop@alice.example",
        tags={"postmask-user": "u1", "postmask-mail": "forward"},
        configuration_set="postmask-local-mail",
        region="eu-west-1",
    )
    assert (event["source"], event["detail-type"]) == ("aws.ses", "Email Bounced")
    detail = event["detail"]
    assert detail["eventType"] == "Bounce"
    assert detail["bounce"]["bounceType"] == "Permanent"
    assert detail["bounce"]["bouncedRecipients"][0]["emailAddress"] == "me@real.example"
    assert detail["mail"]["tags"] == {
        "postmask-user": ["u1"],
        "postmask-mail": ["forward"],
        "ses:configuration-set": ["postmask-local-mail"],
    }
    complaint = feedback_event(
        "complaint",
        recipient="me@real.example",
        message_id="m",
        source="s",
        tags={},
        configuration_set=None,
        region="eu-west-1",
    )
    assert complaint["detail-type"] == "Email Complaint Received"
    assert complaint["detail"]["complaint"]["complainedRecipients"] == [{"emailAddress": "me@real.example"}]
