"""postmask.system_mail without AWS: what its templates render to, and the raw message it composes."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import jinja2
import pytest

from postmask import system_mail
from postmask.errors import SystemMailRefused
from postmask.settings import get_settings

LINK = "https://api.example/verify#" + "t" * 43
CONTEXT = {"email": "me@real.example", "link": LINK, "days": 7}


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_verification_mail_says_what_to_do_in_text_and_html() -> None:
    rendered = system_mail.render("verify_destination", CONTEXT)
    assert rendered.subject == "Confirm that mail may be forwarded to me@real.example"
    assert LINK in rendered.text
    assert "7 days" in rendered.text
    assert f'href="{LINK}"' in rendered.html
    assert "me@real.example" in rendered.html


def test_values_are_escaped_in_html_and_kept_on_one_line_in_the_subject() -> None:
    hostile = "<script>alert(1)</script>@x.example\r\nBcc: victim@elsewhere.example"
    rendered = system_mail.render("verify_destination", {**CONTEXT, "email": hostile})
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\r" not in rendered.subject
    assert "\n" not in rendered.subject
    message = parsed(system_mail.compose(rendered, sender="postmask@alice.example", to="me@real.example"))
    assert message["Bcc"] is None
    assert [str(value) for value in message.get_all("To") or []] == ["me@real.example"]


def test_a_value_the_template_needs_but_was_not_given_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        system_mail.render("verify_destination", {"email": "me@real.example", "days": 7})


def test_the_message_is_text_and_html_alternatives_from_postmask_that_ses_can_carry() -> None:
    rendered = system_mail.render("verify_destination", {**CONTEXT, "link": LINK + "x" * 3000})
    raw = system_mail.compose(rendered, sender="postmask@alice.example", to="me@real.example")

    message = parsed(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"].addresses[0].addr_spec == "postmask@alice.example"
    assert message["From"].addresses[0].display_name == "postmask"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    text, html = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())
    assert text == rendered.text
    assert html == rendered.html
    # SES refuses lines over 998 bytes: quoted-printable keeps every line short, whatever the link.
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_an_internationalised_domain_is_addressed_in_ascii_and_a_non_ascii_local_part_is_refused() -> None:
    rendered = system_mail.render("verify_destination", CONTEXT)
    raw = system_mail.compose(rendered, sender="postmask@alice.example", to="me@bücher.example")
    assert parsed(raw)["To"].addresses[0].addr_spec == "me@xn--bcher-kva.example"
    with pytest.raises(SystemMailRefused, match="ASCII"):
        system_mail.compose(rendered, sender="postmask@alice.example", to="jürgen@real.example")


def test_links_start_with_public_url_or_else_the_apis_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    assert system_mail.link("/verify", "abc", api_host="abc123.execute-api.eu-west-1.amazonaws.com") == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/verify#abc"
    )
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        system_mail.link("/verify", "abc")

    monkeypatch.setenv("PUBLIC_URL", "https://mail.example.org/")
    get_settings.cache_clear()
    assert system_mail.link("/verify", "abc", api_host="ignored.example") == "https://mail.example.org/verify#abc"
    get_settings.cache_clear()
