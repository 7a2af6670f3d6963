"""The custom MAIL FROM on forwarded mail (decision 0085): copies leave with an envelope sender on the alias's
domain once SES found its MX, and still leave, with SES's own, when it failed. Sent through moto's SES as
local/ses.py makes it behave, and written by the local outbox with the Return-Path a mailbox adds."""

from __future__ import annotations

import re
from pathlib import Path

from local.outbox import Outbox
from postmask.mail.message import RawMessage
from tests.integration.forwarding.conftest import Mailroom
from tests.integration.forwarding.test_forwarder import MESSAGE, new_alias
from tests.support.api import Client
from tests.support.ses import SesRecorder, mail_from_says

ENVELOPE_ID = r"0102[0-9a-f]{12}-[0-9a-f-]{36}-000000"


def sent_through_moto() -> list[object]:
    from moto.ses.models import ses_backends

    messages: list[object] = ses_backends["123456789012"]["eu-west-1"].sent_messages
    return messages


def return_path(path: Path) -> str:
    found = RawMessage.parse(path.read_bytes()).first("return-path")
    assert found is not None
    return found.text()


def test_a_copy_leaves_from_the_mail_from_domain_and_still_leaves_when_it_failed(
    alice: Client, alice_domain: str, mailroom: Mailroom, sent: SesRecorder, tmp_path: Path
) -> None:
    # Given an alias on a domain whose MAIL FROM SES found (locally at once)
    sent.pass_through = True
    new_alias(alice, alice_domain, "shop", ["alice@real.example"])
    outbox = Outbox(tmp_path)

    # When mail arrives, the copy's envelope sender is on bounce.alice.example: SPF aligns with the From
    assert mailroom.deliver(MESSAGE, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    (first,) = outbox.flush()
    assert re.fullmatch(rf"<{ENVELOPE_ID}@bounce\.alice\.example>", return_path(first))

    # When SES no longer finds the MX, the domain page says so
    mail_from_says(alice_domain, "FAILED")
    domain = alice.get(f"/api/domains/{alice_domain}").json()
    (mx,) = [r for r in domain["dns_records"] if r["type"] == "MX" and r["name"] == "bounce.alice.example"]
    assert mx["status"] == "failed"
    assert domain["verification"] == {"status": "verified"}

    # Then mail still goes out (BehaviorOnMxFailure USE_DEFAULT_VALUE), from SES's own MAIL FROM
    assert mailroom.deliver(MESSAGE, ["shop@alice.example"])["forwarded"] == ["shop@alice.example"]
    (second,) = outbox.flush()
    assert re.fullmatch(rf"<{ENVELOPE_ID}@eu-west-1\.amazonses\.com>", return_path(second))
    assert len(sent_through_moto()) == 2
    assert RawMessage.parse(second.read_bytes()).first("x-postmask-alias").text() == "shop@alice.example"  # type: ignore[union-attr]
