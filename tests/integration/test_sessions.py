"""Sign-in by a link by e-mail (POST /api/sessions, the mailer, POST /api/sessions/redeem, DELETE
/api/sessions/current), through the template's routes and handlers, on moto."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.ses import emulate_ses
from postmask import ses, signin
from postmask.settings import get_settings
from postmask.store import _dynamo
from postmask.store import signin as signin_store
from tests.support.api import Client, invoke
from tests.support.lambdas import Invocations
from tests.support.ses import SentMail, SesRecorder

SENDER = "postmask@postmask.test"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
LINK = re.compile(r"https://api\.test/signin#([A-Za-z0-9_-]+)")


@pytest.fixture
def mail(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SesRecorder]:
    """System mail goes through moto's SES from a verified SenderAddress; what is sent is recorded."""
    emulate_ses()
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    monkeypatch.setenv("SENDER_ADDRESS", SENDER)
    monkeypatch.delenv("PUBLIC_URL", raising=False)  # links start with the API's own URL (the request's host)
    get_settings.cache_clear()
    ses.client.cache_clear()
    yield SesRecorder(pass_through=True).install(ses.client())
    ses.client.cache_clear()
    get_settings.cache_clear()


def ask(email: str) -> Any:
    return invoke("POST", "/api/sessions", body={"email": email})


def redeem(code: str, *, user_agent: str = BROWSER) -> Any:
    return invoke("POST", "/api/sessions/redeem", body={"code": code}, headers={"user-agent": user_agent})


def code_in(mail: SentMail) -> str:
    """The code of the one sign-in link in a message (its text and its HTML part both have it)."""
    message = email.message_from_bytes(mail.raw, policy=email.policy.default)
    texts = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    found = {code for text in texts for code in LINK.findall(text)}
    assert len(texts) == 2, "text and HTML"
    assert len(found) == 1, texts
    return found.pop()


def test_a_link_for_an_account_signs_in_once_with_a_session_token(
    alice: Client, invocations: Invocations, mail: SesRecorder
) -> None:
    # Given alice asks for a link
    asked = ask("alice@example.org")
    assert asked.status == 202
    assert asked.json() == {"message": signin_store_message()}
    assert mail.system == [], "the public function sends nothing itself: the mailer does"

    # When the mailer runs, Then one message with a link went to her account's address
    invocations.run()
    (sent,) = mail.system
    assert sent.destinations == ["alice@example.org"]
    assert sent.sender == SENDER
    assert sent.header("Subject") == "Your postmask sign-in link"
    code = code_in(sent)
    assert len(code) >= 22, "at least 128 random bits"

    # When the link is redeemed, Then a session token that works, listed as this browser's session
    redeemed = redeem(code)
    assert redeemed.status == 201
    assert redeemed.header("Cache-Control") == "no-store"
    session = redeemed.json()
    assert set(session) == {"id", "token", "expires_at"}  # the contract's two, and the id GET /api/tokens lists
    assert Client(session["token"]).get("/api/me").json()["email"] == "alice@example.org"
    expires = datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    listed = {token["name"]: token for token in alice.get("/api/tokens").json()["items"]}
    assert listed["Chrome on Linux"]["kind"] == "session"
    assert listed["Chrome on Linux"]["id"] == session["id"]
    assert listed["Chrome on Linux"]["expires_at"] == session["expires_at"]
    assert listed["first token"]["kind"] == "api"

    # And the same link again is a 400 with a message
    again = redeem(code)
    assert again.status == 400
    assert "used already" in again.json()["message"]


def signin_store_message() -> str:
    from postmask.schemas.sessions import LINK_REQUESTED

    return LINK_REQUESTED


def test_an_address_without_an_account_gets_the_same_answer_and_no_mail(
    alice: Client, invocations: Invocations, mail: SesRecorder
) -> None:
    known, unknown = ask("alice@example.org"), ask("nobody@example.org")

    assert (known.status, known.body) == (unknown.status, unknown.body)
    # The public function did the same for both: it handed each address to the mailer.
    assert [call.event["email"] for call in invocations.made] == ["alice@example.org", "nobody@example.org"]
    invocations.run()
    assert [sent.destinations for sent in mail.system] == [["alice@example.org"]]


def test_the_public_function_makes_the_same_calls_for_any_address(alice: Client, invocations: Invocations) -> None:
    """Not a timing test: the structure that makes the time alike. Both answers come from the same AWS calls
    (the address's link count, then one invocation of the mailer) whether or not the address has an account."""
    from bench.calls import DryRun

    def shape(call: Any) -> tuple[str, str, str]:
        key = call.params.get("Key") or call.params.get("Item") or {}
        return call.service, call.operation, key.get("pk", {}).get("S", "").partition("#")[0]

    calls = []
    for address in ("alice@example.org", "nobody@example.org"):
        with DryRun() as recorded:
            assert ask(address).status == 202
        calls.append([shape(call) for call in recorded.calls])
    assert calls[0] == calls[1]
    assert calls[0] == [
        ("dynamodb", "GetItem", "SIGNINLIMIT"),
        ("dynamodb", "PutItem", "SIGNINLIMIT"),
        ("lambda", "Invoke", ""),
    ]


def test_the_sixth_link_in_an_hour_is_not_sent_and_the_answer_is_the_same(
    alice: Client, invocations: Invocations, mail: SesRecorder
) -> None:
    answers = [ask("Alice@Example.org" if number % 2 else "alice@example.org") for number in range(6)]
    invocations.run()

    assert {(answer.status, answer.body) for answer in answers} == {(answers[0].status, answers[0].body)}
    assert len(mail.system) == 5, "the address's case does not make another address"
    # The count is kept under a hash of the address, never the address
    key = signin_store.address_key("alice@example.org")
    item = _dynamo.client().get_item(TableName=table_name(), Key=key)["Item"]
    assert "alice" not in str(item).lower()
    assert len(item["sent"]["L"]) == 5
    assert int(item["purge_at"]["N"]) > datetime.now(UTC).timestamp()


def table_name() -> str:
    return get_settings().table_name


def test_links_of_more_than_an_hour_ago_no_longer_count(
    alice: Client, invocations: Invocations, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = datetime.now(UTC) - timedelta(minutes=61)
    with monkeypatch.context() as clock:  # undoes the clock alone, not the fixture's SENDER_ADDRESS
        clock.setattr(signin_store, "now", lambda: earlier)
        for _ in range(5):
            ask("alice@example.org")

    assert ask("alice@example.org").status == 202
    invocations.run()
    assert len(mail.system) == 6


def test_an_expired_code_is_a_400(
    alice: Client, invocations: Invocations, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sixteen_minutes_ago = datetime.now(UTC) - timedelta(minutes=16)
    monkeypatch.setattr(signin_store, "now", lambda: sixteen_minutes_ago)
    ask("alice@example.org")
    invocations.run()
    monkeypatch.undo()

    expired = redeem(code_in(mail.system[0]))

    assert expired.status == 400
    assert "expired" in expired.json()["message"]


@pytest.mark.parametrize("code", ["", "x", "A" * 43, "A" * 513])
def test_an_unknown_code_is_a_400_or_a_422_when_it_could_never_be_one(table: str, code: str) -> None:
    response = redeem(code)

    assert response.status == (422 if len(code) in (0, 513) else 400)
    assert response.json()["message"]


def test_two_concurrent_redeems_of_one_code_give_one_session(
    alice: Client, invocations: Invocations, mail: SesRecorder, racing_transactions: threading.Barrier
) -> None:
    ask("alice@example.org")
    invocations.run()
    code = code_in(mail.system[0])

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: redeem(code), [1, 2]))

    assert sorted(response.status for response in responses) == [201, 400]
    # (read from the table itself: any request now would write last_used_at, a transaction the fixture holds)
    (won,) = [response.json()["token"] for response in responses if response.status == 201]
    lookup = _dynamo.get_item("TOKEN#" + hashlib.sha256(won.encode()).hexdigest(), "TOKEN")
    assert lookup is not None
    owned = _dynamo.query_page(f"USER#{lookup['user_id']}", "TOKEN#", limit=10, next_token=None).items
    assert sorted(token.get("kind", "api") for token in owned) == ["api", "session"]


def test_signing_out_revokes_the_calling_token_only(alice: Client, invocations: Invocations, mail: SesRecorder) -> None:
    ask("alice@example.org")
    invocations.run()
    session = Client(redeem(code_in(mail.system[0])).json()["token"])

    signed_out = session.delete("/api/sessions/current")

    assert (signed_out.status, signed_out.body) == (204, b"")
    assert session.get("/api/me").status == 403
    assert alice.get("/api/me").status == 200, "her API token is another token"
    assert [token["kind"] for token in alice.get("/api/tokens").json()["items"]] == ["api"]


def test_an_api_token_may_sign_itself_out(alice: Client) -> None:
    spare = Client(alice.post("/api/tokens", {"name": "script"}).json()["token"])

    assert spare.delete("/api/sessions/current").status == 204

    assert spare.get("/api/me").status == 403
    assert [token["name"] for token in alice.get("/api/tokens").json()["items"]] == ["first token"]


def test_signing_out_needs_a_token(table: str) -> None:
    assert invoke("DELETE", "/api/sessions/current").status == 401


def test_signing_out_twice_is_harmless(alice: Client) -> None:
    """A second sign-out with the same header can reach the function while API Gateway still has the
    authorizer's earlier answer cached: the token is gone already, and that is what was asked."""
    from postmask.auth import Caller

    token_id = alice.get("/api/tokens").json()["items"][0]["id"]
    user_id = alice.get("/api/me").json()["id"]
    signin.sign_out(Caller(user_id=user_id, is_admin=False, token_id=token_id))
    signin.sign_out(Caller(user_id=user_id, is_admin=False, token_id=token_id))

    assert alice.get("/api/me").status == 403


def test_a_session_lasts_session_days(
    alice: Client, invocations: Invocations, mail: SesRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_DAYS", "2")
    get_settings.cache_clear()
    ask("alice@example.org")
    invocations.run()

    session = redeem(code_in(mail.system[0])).json()

    expires = datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=1, hours=23) < expires - datetime.now(UTC) <= timedelta(days=2)


def test_without_anything_to_send_from_the_answer_is_the_same_and_the_log_says_why(
    alice: Client, invocations: Invocations, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SENDER_ADDRESS", raising=False)  # and alice has no verified domain
    get_settings.cache_clear()

    asked = ask("alice@example.org")
    invocations.run()

    assert asked.status == 202
    (record,) = [record for record in caplog.records if record.getMessage() == "sign-in link not sent"]
    assert record.levelname == "WARNING"
    assert record.reason == "NoSystemMailSender"  # type: ignore[attr-defined]
    assert "SenderAddress" in record.detail  # type: ignore[attr-defined]
    assert "/signin#" not in caplog.text


def test_a_token_stored_before_kinds_existed_reads_as_an_api_token(alice: Client) -> None:
    (token,) = alice.get("/api/tokens").json()["items"]
    user_id = alice.get("/api/me").json()["id"]
    _dynamo.client().update_item(
        TableName=table_name(),
        Key=_dynamo.key(f"USER#{user_id}", f"TOKEN#{token['id']}"),
        UpdateExpression="REMOVE kind",
    )

    assert alice.get("/api/tokens").json()["items"][0]["kind"] == "api"


def test_redeeming_a_code_voids_the_addresss_other_outstanding_codes(
    alice: Client, bob: Client, invocations: Invocations, mail: SesRecorder
) -> None:
    for _ in range(3):
        assert ask("alice@example.org").status == 202
    assert ask("bob@example.org").status == 202
    invocations.run()
    first, second, third = (code_in(sent) for sent in mail.system if sent.destinations == ["alice@example.org"])
    (bobs,) = (code_in(sent) for sent in mail.system if sent.destinations == ["bob@example.org"])

    assert redeem(second).status == 201

    for voided in (first, third):
        refused = redeem(voided)
        assert refused.status == 400
        assert refused.json()["message"]
    assert redeem(bobs).status == 201  # another address's codes are its own
    # A code asked for after the redeem works.
    assert ask("alice@example.org").status == 202
    invocations.run()
    assert redeem(code_in(mail.system_to("alice@example.org")[-1])).status == 201
