"""postmask.system_mail over moto: who it sends from, the configuration set and tags on every send, and what
it says when it cannot send."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from local.ses import emulate_ses
from postmask import ses, system_mail
from postmask.errors import NoSystemMailSender, SystemMailRefused
from postmask.settings import get_settings
from tests.support.api import Client
from tests.support.ses import SesRecorder, ses_says

CONTEXT = {"email": "me@real.example", "link": "https://api.test/verify#secret", "days": 7}


@pytest.fixture
def sent(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SesRecorder]:
    emulate_ses()
    monkeypatch.setenv("CONFIGURATION_SET", "postmask-test-mail")
    monkeypatch.delenv("SENDER_ADDRESS", raising=False)
    get_settings.cache_clear()
    ses.client.cache_clear()
    ses.forget_verifications()
    yield SesRecorder(pass_through=True).install(ses.client())
    ses.client.cache_clear()
    get_settings.cache_clear()


def user_id(client: Client) -> str:
    found: str = client.get("/api/me").json()["id"]
    return found


def register(client: Client, name: str) -> None:
    assert client.post("/api/domains", {"name": name}).status == 201


def test_it_sends_from_postmask_at_the_users_first_verified_domain_with_the_set_and_tags(
    alice: Client, sent: SesRecorder
) -> None:
    register(alice, "a-pending.example")
    register(alice, "b-verified.example")
    ses_says("a-pending.example", "PENDING")

    message_id = system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)

    (mail,) = sent.system
    assert mail.sender == "postmask@b-verified.example"
    assert mail.destinations == ["me@real.example"]
    assert mail.configuration_set == "postmask-test-mail"
    assert mail.tags == {"postmask-user": user_id(alice), "postmask-mail": "verify_destination"}
    assert mail.header("Subject") == "Confirm that mail may be forwarded to me@real.example"
    # SES (moto here) took it: what the local outbox reads.
    from moto.ses.models import ses_backends

    assert [m.id for m in ses_backends["123456789012"]["eu-west-1"].sent_messages] == [message_id]


def test_sender_address_wins_when_it_is_set(alice: Client, sent: SesRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity="noreply@postmask.example")
    monkeypatch.setenv("SENDER_ADDRESS", "noreply@postmask.example")
    get_settings.cache_clear()

    system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)

    assert [mail.sender for mail in sent.system] == ["noreply@postmask.example"]


def test_without_a_verified_domain_it_says_what_to_do_and_sends_nothing(alice: Client, sent: SesRecorder) -> None:
    with pytest.raises(NoSystemMailSender, match="SenderAddress"):
        system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)
    register(alice, "pending.example")
    ses_says("pending.example", "PENDING")
    with pytest.raises(NoSystemMailSender):
        system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)
    assert sent.system == []


def test_another_users_verified_domain_is_never_used(alice: Client, bob: Client, sent: SesRecorder) -> None:
    register(bob, "bob.example")
    with pytest.raises(NoSystemMailSender):
        system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)


def test_a_refusal_by_ses_is_a_clear_error_and_a_throttle_is_raised_as_it_is(alice: Client, sent: SesRecorder) -> None:
    register(alice, "alice.example")
    sent.fail_next(400, "MessageRejected", "Email address is not verified.")
    with pytest.raises(SystemMailRefused, match="sandbox") as refused:
        system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)
    assert "Email address is not verified" in refused.value.message

    sent.fail_next(400, "TooManyRequestsException", "Slow down")
    with pytest.raises(ClientError):
        system_mail.send("verify_destination", to="me@real.example", user_id=user_id(alice), context=CONTEXT)
